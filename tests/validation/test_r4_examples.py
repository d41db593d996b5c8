"""Every example resource of the official R4 package must validate.

The package (hl7.fhir.r4.examples@4.0.1) is the spec's own; the few examples that break
R4 rules themselves are listed in tests/r4_examples.py with the rule they break, and must
fail for exactly that reason (so the exemption hides nothing else).
"""

from __future__ import annotations

import decimal
import json

import pytest

from server.errors import Unprocessable
from server.validation import validate_resource
from tests.r4_examples import INVALID_R4_EXAMPLES as KNOWN_INVALID
from tests.r4_examples import example_files, r4_examples_dir


@pytest.fixture(scope="module")
def examples():
    folder = r4_examples_dir()
    if folder is None:
        pytest.skip("npm is not installed: cannot fetch hl7.fhir.r4.examples@4.0.1 (or set PASSERELLE_R4_EXAMPLES)")
    files = example_files(folder)
    assert len(files) > 5000, f"{folder} looks incomplete ({len(files)} files)"
    return files


def _problems(path) -> list[dict]:
    resource = json.loads(path.read_bytes(), parse_float=decimal.Decimal)
    try:
        validate_resource(resource)
    except Unprocessable as e:
        return e.outcome()["issue"]
    return []


def test_every_r4_example_validates(examples):
    failures = {}
    for path in examples:
        if path.name in KNOWN_INVALID:
            continue
        issues = _problems(path)
        if issues:
            failures[path.name] = [f"{i['expression'][0]}: {i['diagnostics']}" for i in issues[:3]]
    assert not failures, f"{len(failures)} R4 examples rejected: {json.dumps(failures, indent=1)[:4000]}"


def test_known_invalid_examples_fail_for_their_reason(examples):
    names = {p.name: p for p in examples}
    for name, reasons in KNOWN_INVALID.items():
        issues = _problems(names[name])
        assert issues, f"{name} is listed as invalid but validates: drop it from KNOWN_INVALID"
        for issue in issues:
            assert any(r in issue["diagnostics"] for r in reasons), (name, issue)
