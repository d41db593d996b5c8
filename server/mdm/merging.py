"""Merging two records of one person (``$merge``) and undoing it (``$unmerge``).

Merge: every resource referring to the source is rewritten to refer to the target;
the source becomes inactive and points at the target (``replaced-by``; the target gets
``replaces``); the source's identifiers are copied to the target as ``use: old`` and
removed from the source (a conditional reference by identifier must still find one
record); the source joins the target's golden record. A Provenance (tagged
``urn:passerelle:mdm|merge``) names every version written, and the source's version
before the merge, so that ``$unmerge`` can put things back.
"""

from __future__ import annotations

import copy

from sqlalchemy import select

from ..errors import Unprocessable
from ..storage.models import IdxReference
from . import golden
from .golden import TAG_SYSTEM

LIFECYCLE = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle"
EXT_REPLACED_BY = "urn:passerelle:mdm:replaced-by"  # Practitioner has no link element
EXT_REPLACES = "urn:passerelle:mdm:replaces"
NOT_MOVED = frozenset({"Provenance", "AuditEvent"})  # the record of what happened stays as it was


def _rewrite(node, old: set[str], new: str) -> int:
    """Replace references to ``old`` (relative, versioned or absolute) by ``new``; returns how many."""
    changed = 0
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str) and reference_key(ref) in old:
            node["reference"] = new
            changed += 1
        for key, value in node.items():
            if key != "reference":
                changed += _rewrite(value, old, new)
    elif isinstance(node, list):
        for item in node:
            changed += _rewrite(item, old, new)
    return changed


def reference_key(reference: str) -> str:
    """``Type/id`` of a relative, versioned or absolute reference."""
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else reference


def referring(uow, resource_type: str, fhir_id: str) -> list[int]:
    """pids of the resources whose indexed references point at ``resource_type/fhir_id``."""
    uow.flush()
    query = select(IdxReference.pid).where(IdxReference.target_type == resource_type,
                                           IdxReference.target_id == fhir_id).distinct()
    return sorted(uow.conn.execute(query).scalars())


def move_references(uow, resource_type: str, source_id: str, target_id: str, *, write: bool,
                    only: set[str] | None = None) -> list[str]:
    """Rewrite references source -> target; returns ``Type/id/_history/v`` of what was (or would be) written."""
    old, new = {f"{resource_type}/{source_id}"}, f"{resource_type}/{target_id}"
    written = []
    for stored in uow.read_many(referring(uow, resource_type, source_id)):
        if stored.resource_type in NOT_MOVED or stored.resource_type == resource_type:
            continue  # same type: golden records and links between records stay
        if only is not None and stored.reference not in only:
            continue
        resource = stored.resource()
        if _rewrite(resource, old, new) == 0:
            continue
        version = stored.version_id + 1
        if write:
            version = uow.update(resource, stored.id, if_match=stored.version_id)[0].version_id
        written.append(f"{stored.reference}/_history/{version}")
    return written


def _same_identifier(a: dict, b: dict) -> bool:
    return a.get("system") == b.get("system") and a.get("value") == b.get("value")


def _set_replacement(resource: dict, kind: str, other: str) -> None:
    """``replaced-by`` / ``replaces`` link (Patient) or extension (Practitioner)."""
    reference = {"reference": f"{resource['resourceType']}/{other}"}
    if resource["resourceType"] == "Patient":
        resource.setdefault("link", []).append({"other": reference, "type": kind})
    else:
        url = EXT_REPLACED_BY if kind == "replaced-by" else EXT_REPLACES
        resource.setdefault("extension", []).append({"url": url, "valueReference": reference})


def _drop_replacement(resource: dict, kind: str, other: str) -> None:
    target = f"{resource['resourceType']}/{other}"
    if resource["resourceType"] == "Patient":
        kept = [link for link in resource.get("link") or []
                if not (link.get("type") == kind and reference_key(link["other"].get("reference", "")) == target)]
        key = "link"
    else:
        url = EXT_REPLACED_BY if kind == "replaced-by" else EXT_REPLACES
        kept = [e for e in resource.get("extension") or []
                if not (e.get("url") == url and reference_key(e["valueReference"].get("reference", "")) == target)]
        key = "extension"
    resource.pop(key, None)
    if kept:
        resource[key] = kept


def replaced_by(resource: dict) -> str | None:
    if resource["resourceType"] == "Patient":
        found = [link["other"].get("reference", "") for link in resource.get("link") or []
                 if link.get("type") == "replaced-by"]
    else:
        found = [e["valueReference"].get("reference", "") for e in resource.get("extension") or []
                 if e.get("url") == EXT_REPLACED_BY]
    return reference_key(found[0]).split("/")[-1] if found else None


def mergedreference_key(source: dict, target: dict, result: dict | None) -> tuple[dict, dict]:
    """The source and target as they are after the merge (nothing written)."""
    source_id, target_id = source["id"], target["id"]
    new_target = copy.deepcopy(result if result is not None else target)
    new_target["id"] = target_id
    for ident in source.get("identifier") or []:
        if not any(_same_identifier(ident, known) for known in new_target.get("identifier") or []):
            new_target.setdefault("identifier", []).append({**ident, "use": "old"})
    _set_replacement(new_target, "replaces", source_id)
    target_golden = golden.golden_of(target)
    if target_golden:  # a person's decision: an edit of the target must not move it away
        golden.add_link(new_target, "golden", target_golden, manual=True)
    new_source = copy.deepcopy(source)
    new_source.pop("identifier", None)
    new_source["active"] = False
    _set_replacement(new_source, "replaced-by", target_id)
    if target_golden:
        old_golden = golden.golden_of(new_source)
        if old_golden:
            golden.remove_link(new_source, "golden", old_golden)
        golden.add_link(new_source, "golden", target_golden, manual=True)
    return new_source, new_target


def merge(uow, source_stored, target_stored, result: dict | None, *, preview: bool) -> tuple[dict, list[str]]:
    """Returns the target as merged and the versions written (or that would be)."""
    rtype = source_stored.resource_type
    source, target = source_stored.resource(), target_stored.resource()
    if replaced_by(source):
        raise Unprocessable(f"{rtype}/{source['id']} was already merged into {rtype}/{replaced_by(source)}")
    if golden.is_golden(source) or golden.is_golden(target):
        raise Unprocessable("Golden records are not merged: merge their source records (or confirm a review "
                            "Task), the golden records follow")
    if result is not None and (result.get("resourceType") != rtype or result.get("id") not in (None, target["id"])):
        raise Unprocessable(f"'result-patient' must be the target {rtype} ({rtype}/{target['id']})",
                            expression="result-patient")
    new_source, new_target = mergedreference_key(source, target, result)
    moved = move_references(uow, rtype, source["id"], target["id"], write=not preview)
    if preview:
        return new_target, moved
    old_golden, target_golden = golden.golden_of(source), golden.golden_of(target)
    stored_target, _ = uow.update(new_target, target["id"], if_match=target_stored.version_id)
    stored_source, _ = uow.update(new_source, source["id"], if_match=source_stored.version_id)
    if target_golden and old_golden != target_golden:
        golden.attach(uow, target_golden, rtype, source["id"])
        if old_golden:
            golden.detach(uow, old_golden, rtype, source["id"])
    written = [f"{rtype}/{target['id']}/_history/{stored_target.version_id}",
               f"{rtype}/{source['id']}/_history/{stored_source.version_id}", *moved]
    _provenance(uow, "merge", written, f"{rtype}/{source['id']}/_history/{source_stored.version_id}")
    return stored_target.resource(), written


def _provenance(uow, activity: str, targets: list[str], entity: str) -> None:
    uow.create({
        "resourceType": "Provenance",
        "meta": {"tag": [{"system": TAG_SYSTEM, "code": activity}]},
        "target": [{"reference": t} for t in targets],
        "recorded": uow.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "activity": {"coding": [{"system": LIFECYCLE, "code": activity}]},
        "agent": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                        "code": "assembler"}]},
                   "who": {"display": "Passerelle identity management"}}],
        "entity": [{"role": "revision" if activity == "merge" else "removal", "what": {"reference": entity}}],
    })


def find_merge(uow, resource_type: str, source_id: str, target_id: str) -> dict:
    """The latest merge Provenance of source into target (Unprocessable when there is none)."""
    from ..search.service import find_ids

    found = find_ids(uow, "Provenance", [("target", f"{resource_type}/{source_id}"),
                                         ("_tag", f"{TAG_SYSTEM}|merge")], limit=100)
    merges = []
    for fhir_id, _pid in found:
        provenance = uow.read("Provenance", fhir_id).resource()
        targets = {reference_key(t["reference"]) for t in provenance.get("target", [])}
        if f"{resource_type}/{target_id}" in targets:
            merges.append(provenance)
    if not merges:
        raise Unprocessable(f"{resource_type}/{source_id} was never merged into {resource_type}/{target_id}")
    return max(merges, key=lambda p: p["recorded"])


def unmerge(uow, source_stored, target_stored) -> tuple[dict, list[str]]:
    """Undo the latest merge of source into target; returns the restored source and what was written."""
    rtype = source_stored.resource_type
    source_id, target_id = source_stored.id, target_stored.id
    if replaced_by(source_stored.resource()) != target_id:
        raise Unprocessable(f"{rtype}/{source_id} is not merged into {rtype}/{target_id}")
    provenance = find_merge(uow, rtype, source_id, target_id)
    before = provenance["entity"][0]["what"]["reference"]
    old_version = int(before.rsplit("/", 1)[1])
    moved = {reference_key(t["reference"]) for t in provenance["target"]} - {f"{rtype}/{source_id}", f"{rtype}/{target_id}"}
    back = move_references(uow, rtype, target_id, source_id, write=True, only=moved)
    # The target loses what the merge gave it.
    source_before = uow.vread(rtype, source_id, old_version).resource()
    target = target_stored.resource()
    given = source_before.get("identifier") or []
    kept = [i for i in target.get("identifier") or []
            if not (i.get("use") == "old" and any(_same_identifier(i, g) for g in given))]
    target.pop("identifier", None)
    if kept:
        target["identifier"] = kept
    _drop_replacement(target, "replaces", source_id)
    stored_target, _ = uow.update(target, target_id, if_match=target_stored.version_id)
    # The source comes back as it was, with a golden record of its own again.
    current_golden = golden.golden_of(source_stored.resource())
    restored = {k: v for k, v in source_before.items() if k != "meta"}
    previous_golden = golden.golden_of(restored)
    if previous_golden:
        golden.remove_link(restored, "golden", previous_golden)
    if current_golden:
        golden.detach(uow, current_golden, rtype, source_id)
    golden.add_link(restored, "golden", golden.new_golden(uow, source_id, restored), manual=True)
    stored_source, _ = uow.update(restored, source_id, if_match=source_stored.version_id)
    written = [f"{rtype}/{source_id}/_history/{stored_source.version_id}",
               f"{rtype}/{target_id}/_history/{stored_target.version_id}", *back]
    _provenance(uow, "unmerge", written, f"Provenance/{provenance['id']}")
    return stored_source.resource(), written
