"""The official FHIR R4 example resources (npm package ``hl7.fhir.r4.examples@4.0.1``).

``r4_examples_dir()`` returns the unpacked package folder, fetching it once:
``PASSERELLE_R4_EXAMPLES`` may point at an unpacked copy; otherwise it is cached under
``<repo>/.cache/r4-examples/`` via ``npm pack`` (npm reaches the npm registry, which
carries this HL7 package). Returns None only when npm is not installed, so tests can skip
with a clear reason; any other fetch failure raises, since it hides a real problem.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "hl7.fhir.r4.examples@4.0.1"
CACHE = Path(__file__).resolve().parents[1] / ".cache" / "r4-examples"

# Examples of the package that are not valid R4 themselves, each with what our validator
# says about it (tests/validation/test_r4_examples.py checks they fail for that reason
# only). Suites that store every example skip these.
INVALID_R4_EXAMPLES: dict[str, tuple[str, ...]] = {
    # Nested items without linkId, which R4 makes 1..1 (Questionnaire.item.linkId).
    "Questionnaire-qs1.json": ("Missing required element 'linkId' in Questionnaire.item",),
    # The package's own manifest stub: no name and no status, both 1..1 in ImplementationGuide.
    "ImplementationGuide-fhir.json": ("Missing required element 'name'", "Missing required element 'status'"),
    "ig-r4.json": ("Missing required element 'name'", "Missing required element 'status'"),
    # Its id has 67 characters; an R4 id has at most 64.
    "SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json": ("is not a valid id",),
    # SearchParameters the spec generated for extensions: R4 makes SearchParameter.base 1..*.
    **{
        f"SearchParameter-{name}.json": ("Missing required element 'base' in SearchParameter",)
        for name in (
            "codesystem-extensions-CodeSystem-author",
            "codesystem-extensions-CodeSystem-effective",
            "codesystem-extensions-CodeSystem-end",
            "codesystem-extensions-CodeSystem-keyword",
            "codesystem-extensions-CodeSystem-workflow",
            "valueset-extensions-ValueSet-author",
            "valueset-extensions-ValueSet-effective",
            "valueset-extensions-ValueSet-end",
            "valueset-extensions-ValueSet-keyword",
            "valueset-extensions-ValueSet-workflow",
        )
    },
}


def _looks_unpacked(folder: Path) -> bool:
    return (folder / "package.json").is_file() and (folder / "Patient-example.json").is_file()


def r4_examples_dir() -> Path | None:
    override = os.environ.get("PASSERELLE_R4_EXAMPLES")
    if override:
        folder = Path(override)
        if (folder / "package").is_dir():  # accept the tarball's root as well
            folder = folder / "package"
        if not _looks_unpacked(folder):
            raise FileNotFoundError(f"PASSERELLE_R4_EXAMPLES={override} is not an unpacked {PACKAGE}")
        return folder
    target = CACHE / "package"
    if _looks_unpacked(target):
        return target
    npm = shutil.which("npm")
    if npm is None:
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    # Unpack beside the cache and rename at the end, so an interrupted fetch never
    # leaves a half-filled folder that looks complete.
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        subprocess.run(
            [npm, "pack", PACKAGE, "--silent", "--pack-destination", tmp],
            check=True, capture_output=True, timeout=300,
        )
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        if target.exists():
            shutil.rmtree(target)
        os.replace(Path(tmp) / "package", target)
    return target


def example_files(folder: Path) -> list[Path]:
    """Every example resource of the package (its package.json is not a resource)."""
    return sorted(p for p in folder.glob("*.json") if p.name != "package.json")
