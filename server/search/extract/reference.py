"""Reference parameters: Reference, canonical and uri elements -> ReferenceIndex.

Per http://hl7.org/fhir/R4/search.html#reference:
- ``Patient/1`` -> type + id; ``Patient/1/_history/2`` -> also the version;
- an absolute URL -> ``url`` only, type and id left empty: it may name another server,
  and ``subject=Patient/1`` must not find ``http://elsewhere/fhir/Patient/1``. Extraction
  cannot know our own base URL; the write path may store references to it as relative
  ones, and the query side matches absolute query values on ``url``;
- a canonical (``http://.../ValueSet/x|4.0.1``) -> ``url`` without the version, and
  the version in ``target_version``;
- contained ``#x`` references are skipped (they point inside the resource), and so
  are conditional ones (``Patient?identifier=...``): the transaction layer resolves
  those before indexing;
- ``Reference.identifier`` -> a token row ``<code>:identifier`` (system, value), for
  the ``:identifier`` modifier (``server.search.sql.reference`` reads that param).
"""

from __future__ import annotations

import re

from server.search.index_rows import IDENTIFIER_SUFFIX, ReferenceIndex, TokenIndex
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
    return None, None, None, ref  # absolute: http(s)://..., urn:uuid:..., urn:oid:...


def target_type(reference) -> str | None:
    """The resource type a Reference points to, for ``resolve() is X`` (both evaluators).

    Unlike the index, this reads the type off an absolute URL too (``.../Patient/42``):
    ``subject.where(resolve() is Patient)`` asks what it points to, not where.
    """
    if isinstance(reference, dict):
        ref = reference.get("reference")
        if isinstance(ref, str) and ref and ref[0] != "#" and "?" not in ref:
            match = _RELATIVE.fullmatch(ref) or (_SCHEME.match(ref) and _ABSOLUTE_TAIL.search(ref))
            if match and match.group(1) in R4_RESOURCE_TYPES:
                return match.group(1)
    return None


def rows(code: str, ftype: str | None, value) -> list[ReferenceIndex | TokenIndex]:
    if isinstance(value, dict):
        if ftype not in (None, "Reference"):
            return []
        ref = value.get("reference")
        parsed = parse_reference(ref) if isinstance(ref, str) else None
        out: list[ReferenceIndex | TokenIndex] = [ReferenceIndex(code, *parsed)] if parsed else []
        ident = value.get("identifier")
        if isinstance(ident, dict) and (ident.get("system") is not None or ident.get("value") is not None):
            out.append(TokenIndex(code + IDENTIFIER_SUFFIX, ident.get("system"), ident.get("value")))
        return out
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
