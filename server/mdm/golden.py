"""Golden records: one per person, tagged, linked both ways to the source records.

A Patient source carries ``link: {other: Patient/<golden>, type: refer}`` ("consult the
other record") and the golden record ``link: {other: Patient/<source>, type: seealso}``
per source. Practitioner has no ``link`` element: the same pairs are extensions there.
Golden records show their sources' demographics chosen element by element by the
survivorship rules (``survivorship.py``), but no identifiers by default, so a conditional
reference ``Patient?identifier=...`` still selects exactly one (source) record. A link a
person decided (``$merge``, ``$mdm-confirm``) carries the extension ``EXT_ASSURANCE``
(``manual``) on its reference: re-matching after an edit asks before moving it.
"""

from __future__ import annotations

from .. import jsonio
from ..errors import Gone, NotFound
from .survivorship import Survivorship

TAG_SYSTEM = "urn:passerelle:mdm"
GOLDEN_TAG = {"system": TAG_SYSTEM, "code": "golden-record", "display": "Golden record"}
EXT_GOLDEN = "urn:passerelle:mdm:golden-record"  # Practitioner source -> golden
EXT_SOURCE = "urn:passerelle:mdm:source-record"  # Practitioner golden -> source
EXT_ASSURANCE = "urn:passerelle:mdm:link-assurance"  # on a source's link reference: "manual"


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


def _golden_references(resource: dict) -> list[dict]:
    if resource["resourceType"] == "Patient":
        return [link.get("other") or {} for link in resource.get("link") or [] if link.get("type") == "refer"]
    return [e.get("valueReference") or {} for e in resource.get("extension") or [] if e.get("url") == EXT_GOLDEN]


def is_manual(resource: dict) -> bool:
    """Whether a person decided this source's link to its golden record."""
    return any(e.get("url") == EXT_ASSURANCE and e.get("valueCode") == "manual"
               for ref in _golden_references(resource) for e in ref.get("extension") or [])


def add_link(resource: dict, kind: str, other_id: str, *, manual: bool = False) -> None:
    """Point ``resource`` at ``other_id`` (in place; no-op when already there).
    ``manual``: a person decided it (a source's link to its golden record only)."""
    if other_id in links(resource, kind):
        if manual and not is_manual(resource):
            remove_link(resource, kind, other_id)
            add_link(resource, kind, other_id, manual=True)
        return
    rtype = resource["resourceType"]
    reference = {"reference": f"{rtype}/{other_id}"}
    if manual:
        reference["extension"] = [{"url": EXT_ASSURANCE, "valueCode": "manual"}]
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


def new_golden(uow, source_id: str, source: dict, survivorship: Survivorship | None = None) -> str:
    """Create the golden record of a source seen for the first time; returns its id."""
    rtype = source["resourceType"]
    golden = {"resourceType": rtype, "meta": {"tag": [dict(GOLDEN_TAG)]}, "active": True}
    (survivorship or DEFAULT_SURVIVORSHIP[rtype]).apply(golden, [source])
    add_link(golden, "source", source_id)
    return uow.create(golden).id


def attach(uow, golden_id: str, resource_type: str, source_id: str) -> None:
    current = uow.read(resource_type, golden_id)
    golden = current.resource()
    if source_id not in links(golden, "source"):
        add_link(golden, "source", source_id)
        uow.update(golden, golden_id, if_match=current.version_id)


def detach(uow, golden_id: str, resource_type: str, source_id: str) -> bool:
    """Unlink a source from its golden record; a golden record left with no source goes.
    Returns whether the golden record is still there."""
    try:
        current = uow.read(resource_type, golden_id)
    except (NotFound, Gone):
        return False
    golden = current.resource()
    remove_link(golden, "source", source_id)
    if links(golden, "source"):
        uow.update(golden, golden_id, if_match=current.version_id)
        return True
    uow.delete(resource_type, golden_id)
    return False


def refresh(uow, golden_id: str, resource_type: str, survivorship: Survivorship, records: dict[str, dict],
            *, joining: str | None = None, load=None) -> bool:
    """Show on the golden record what its sources say now (survivorship rules) and list
    ``joining`` among its sources. ``records``: the sources' content known already (those
    written in this transaction, as being written); ``load(ids)`` reads the others.
    A source whose own link now points elsewhere is left out. False: no such golden record."""
    try:
        current = uow.read(resource_type, golden_id)
    except (NotFound, Gone):
        return False
    golden = current.resource()
    before = jsonio.dumps(golden)
    if joining:
        add_link(golden, "source", joining)
    ids = links(golden, "source")
    missing = [i for i in ids if i not in records]
    if missing and load is not None:
        records.update(load(missing))
    sources = [records[i] for i in ids if i in records and golden_of(records[i]) == golden_id]
    if sources:
        survivorship.apply(golden, sources)
    if jsonio.dumps(golden) != before:
        uow.update(golden, golden_id, if_match=current.version_id)
    return True


# Without rules (a golden record made outside the write-time hook, e.g. by unmerge before
# the hook refreshes it): the demographics of the most recent source.
DEFAULT_SURVIVORSHIP = {
    "Patient": Survivorship({e: "most-recent" for e in (
        "name", "telecom", "gender", "birthDate", "deceasedBoolean", "deceasedDateTime", "address", "maritalStatus",
        "communication")}),
    "Practitioner": Survivorship({e: "most-recent" for e in (
        "name", "telecom", "gender", "birthDate", "address", "qualification", "communication")}),
}
