"""Golden records: one per person, tagged, linked both ways to the source records.

A Patient source carries ``link: {other: Patient/<golden>, type: refer}`` ("consult the
other record") and the golden record ``link: {other: Patient/<source>, type: seealso}``
per source. Practitioner has no ``link`` element: the same pairs are extensions there.
Golden records copy the source's demographics but no identifiers, so a conditional
reference ``Patient?identifier=...`` still selects exactly one (source) record.
"""

from __future__ import annotations

import copy

TAG_SYSTEM = "urn:passerelle:mdm"
GOLDEN_TAG = {"system": TAG_SYSTEM, "code": "golden-record", "display": "Golden record"}
EXT_GOLDEN = "urn:passerelle:mdm:golden-record"  # Practitioner source -> golden
EXT_SOURCE = "urn:passerelle:mdm:source-record"  # Practitioner golden -> source

_COPIED = {
    "Patient": ("name", "telecom", "gender", "birthDate", "deceasedBoolean", "deceasedDateTime", "address",
                "maritalStatus", "communication"),
    "Practitioner": ("name", "telecom", "gender", "birthDate", "address", "qualification", "communication"),
}


def is_golden(resource: dict) -> bool:
    return any(t.get("system") == TAG_SYSTEM and t.get("code") == "golden-record"
               for t in (resource.get("meta") or {}).get("tag") or [])


def _ref_id(reference: dict | None, resource_type: str) -> str | None:
    ref = (reference or {}).get("reference") or ""
    prefix = f"{resource_type}/"
    if prefix in ref:
        return ref.rsplit(prefix, 1)[1].split("/")[0] or None
    return None


def links(resource: dict, kind: str) -> list[str]:
    """Ids this record points at: ``golden`` (from a source) or ``source`` (from a golden)."""
    rtype = resource["resourceType"]
    if rtype == "Patient":
        wanted = "refer" if kind == "golden" else "seealso"
        found = [_ref_id(link.get("other"), rtype) for link in resource.get("link") or [] if link.get("type") == wanted]
    else:
        url = EXT_GOLDEN if kind == "golden" else EXT_SOURCE
        found = [_ref_id(e.get("valueReference"), rtype) for e in resource.get("extension") or [] if e.get("url") == url]
    return [i for i in found if i]


def golden_of(resource: dict) -> str | None:
    found = links(resource, "golden")
    return found[0] if found else None


def add_link(resource: dict, kind: str, other_id: str) -> None:
    """Point ``resource`` at ``other_id`` (in place; no-op when already there)."""
    if other_id in links(resource, kind):
        return
    rtype = resource["resourceType"]
    reference = {"reference": f"{rtype}/{other_id}"}
    if rtype == "Patient":
        resource.setdefault("link", []).append({"other": reference, "type": "refer" if kind == "golden" else "seealso"})
    else:
        url = EXT_GOLDEN if kind == "golden" else EXT_SOURCE
        resource.setdefault("extension", []).append({"url": url, "valueReference": reference})


def remove_link(resource: dict, kind: str, other_id: str) -> None:
    rtype = resource["resourceType"]
    if rtype == "Patient":
        wanted = "refer" if kind == "golden" else "seealso"
        kept = [link for link in resource.get("link") or []
                if not (link.get("type") == wanted and _ref_id(link.get("other"), rtype) == other_id)]
        key = "link"
    else:
        url = EXT_GOLDEN if kind == "golden" else EXT_SOURCE
        kept = [e for e in resource.get("extension") or []
                if not (e.get("url") == url and _ref_id(e.get("valueReference"), rtype) == other_id)]
        key = "extension"
    resource.pop(key, None)
    if kept:
        resource[key] = kept


def new_golden(uow, source_id: str, source: dict) -> str:
    """Create the golden record of a source seen for the first time; returns its id."""
    rtype = source["resourceType"]
    golden = {"resourceType": rtype, "meta": {"tag": [dict(GOLDEN_TAG)]}, "active": True}
    for element in _COPIED[rtype]:
        if element in source:
            golden[element] = copy.deepcopy(source[element])
    add_link(golden, "source", source_id)
    return uow.create(golden).id


def attach(uow, golden_id: str, resource_type: str, source_id: str) -> None:
    current = uow.read(resource_type, golden_id)
    golden = current.resource()
    if source_id not in links(golden, "source"):
        add_link(golden, "source", source_id)
        uow.update(golden, golden_id, if_match=current.version_id)


def detach(uow, golden_id: str, resource_type: str, source_id: str) -> None:
    """Unlink a source from its golden record; a golden record left with no source goes."""
    from ..errors import Gone, NotFound

    try:
        current = uow.read(resource_type, golden_id)
    except (NotFound, Gone):
        return
    golden = current.resource()
    remove_link(golden, "source", source_id)
    if links(golden, "source"):
        uow.update(golden, golden_id, if_match=current.version_id)
    else:
        uow.delete(resource_type, golden_id)
