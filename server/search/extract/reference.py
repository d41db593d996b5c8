"""Reference parameters: Reference, canonical and uri elements -> ReferenceIndex.

Per http://hl7.org/fhir/R4/search.html#reference:
- ``Patient/1`` -> type + id; ``Patient/1/_history/2`` -> also the version;
- an absolute URL keeps ``url`` and, when it ends in ``Type/id``, also type + id
  (so ``subject=Patient/1`` finds it whatever the base; recognising our own base URL
  as local is the server's job);
- a canonical (``http://.../ValueSet/x|4.0.1``) -> ``url`` without the version, and
  the version in ``target_version``;
- contained ``#x`` references are skipped (they point inside the resource), and so
  are conditional ones (``Patient?identifier=...``): the transaction layer resolves
  those before indexing.

Not yet: ``Reference.identifier`` (the ``:identifier`` modifier) is not indexed.
"""

from __future__ import annotations

import re

from server.search.index_rows import ReferenceIndex
from server.search.registry import R4_RESOURCE_TYPES

_ID = r"[A-Za-z0-9\-.]{1,64}"
_RELATIVE = re.compile(rf"([A-Z][A-Za-z]+)/({_ID})(?:/_history/({_ID}))?")
_ABSOLUTE_TAIL = re.compile(rf"/([A-Z][A-Za-z]+)/({_ID})(?:/_history/({_ID}))?$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def parse_reference(ref: str) -> tuple[str | None, str | None, str | None, str | None] | None:
    """``Reference.reference`` -> (type, id, version, url), or None when not indexable."""
    if not ref or ref[0] == "#" or "?" in ref:
        return None
    match = _RELATIVE.fullmatch(ref)
    if match:
        if match.group(1) not in R4_RESOURCE_TYPES:
            return None
        return match.group(1), match.group(2), match.group(3), None
    if not _SCHEME.match(ref):
        return None
    match = _ABSOLUTE_TAIL.search(ref)
    if match and match.group(1) in R4_RESOURCE_TYPES:
        return match.group(1), match.group(2), match.group(3), ref
    return None, None, None, ref  # urn:uuid:..., or a URL of another shape


def target_type(reference) -> str | None:
    """The resource type a Reference points to, for ``resolve() is X`` (both evaluators)."""
    if isinstance(reference, dict):
        ref = reference.get("reference")
        if isinstance(ref, str):
            parsed = parse_reference(ref)
            if parsed:
                return parsed[0]
    return None


def rows(code: str, ftype: str | None, value) -> list[ReferenceIndex]:
    if isinstance(value, dict):
        if ftype not in (None, "Reference"):
            return []
        ref = value.get("reference")
        parsed = parse_reference(ref) if isinstance(ref, str) else None
        return [ReferenceIndex(code, *parsed)] if parsed else []
    if not isinstance(value, str) or not value:
        return []
    if ftype == "canonical":
        url, _, version = value.partition("|")
        return [ReferenceIndex(code, None, None, version or None, url)]
    if ftype in ("uri", "url", "uuid", "oid"):
        return [ReferenceIndex(code, None, None, None, value)]
    if ftype in (None, "string"):  # type lost by the evaluator: read it as a reference string
        parsed = parse_reference(value)
        return [ReferenceIndex(code, *parsed)] if parsed else []
    return []
