"""$merge and $unmerge for Patient and Practitioner.

Parameters are those of FHIR's Patient $merge (http://hl7.org/fhir/OperationDefinition/Patient-merge):
``source-patient`` / ``source-patient-identifier``, ``target-patient`` /
``target-patient-identifier``, ``result-patient``, ``preview``. For Practitioner the same
names are taken, or ``source-practitioner`` etc. ``$unmerge`` takes the source and target
of an earlier merge and undoes it (server.mdm.merging). HL7 v2 ADT^A40 bundles carry a
``POST Patient/$merge`` entry with the two identifiers: the same handler.
"""

from __future__ import annotations

from ..api.outcome import Answer, informational
from ..errors import BadRequest, Gone, MultipleMatches, NotFound, Unprocessable
from ..mdm import merging
from ..search.service import find_ids
from .registry import OperationCall, operation

TYPES = ("Patient", "Practitioner")


def _names(call: OperationCall, role: str) -> tuple[str, ...]:
    names = (f"{role}-patient",)
    if call.resource_type != "Patient":
        names = (f"{role}-{call.resource_type.lower()}", *names)
    return names


def _resolve(call: OperationCall, role: str):
    """The stored record named by reference and/or identifier(s); all given must agree."""
    rtype = call.resource_type
    ref_name, *_ = [n for n in _names(call, role) if call.values(n)] or [None]
    ident_names = [f"{n}-identifier" for n in _names(call, role) if call.values(f"{n}-identifier")]
    ids: set[str] = set()
    if ref_name:
        reference = (call.value(ref_name) or {}).get("reference", "") if isinstance(call.value(ref_name), dict) \
            else str(call.value(ref_name) or "")
        if not reference.startswith(f"{rtype}/") and f"/{rtype}/" not in reference:
            raise BadRequest(f"'{ref_name}' must reference a {rtype}", expression=ref_name)
        ids.add(merging.reference_key(reference).split("/")[-1])
    for name in ident_names:
        for part in call.values(name):
            ident = part.get("valueIdentifier")
            if not isinstance(ident, dict) or not ident.get("value"):
                raise BadRequest(f"'{name}' must be an Identifier with a value", expression=name)
            token = f"{ident['system']}|{ident['value']}" if ident.get("system") else ident["value"]
            found = find_ids(call.uow, rtype, [("identifier", token)], limit=2)
            if not found:
                raise Unprocessable(f"No {rtype} has the {role} identifier {token}", expression=name)
            if len(found) > 1:
                raise MultipleMatches(f"Several {rtype} records have the {role} identifier {token}", expression=name)
            ids.add(found[0][0])
    if not ids:
        raise BadRequest(f"Name the {role} {rtype}: '{_names(call, role)[0]}' or '{_names(call, role)[0]}-identifier'",
                         expression=_names(call, role)[0])
    if len(ids) > 1:
        raise Unprocessable(f"The {role} reference and identifiers name different records: {sorted(ids)}")
    fhir_id = ids.pop()
    try:
        return call.uow.read(rtype, fhir_id)
    except (NotFound, Gone) as exc:
        raise Unprocessable(f"The {role} {rtype}/{fhir_id} does not exist", expression=_names(call, role)[0]) from exc


def _pair(call: OperationCall):
    source, target = _resolve(call, "source"), _resolve(call, "target")
    if source.id == target.id:
        raise Unprocessable(f"Source and target are the same record ({source.reference})")
    return source, target


def _answer(call: OperationCall, message: str, result: dict) -> Answer:
    return Answer(200, body={"resourceType": "Parameters", "parameter": [
        {"name": "input", "resource": call.parameters},
        {"name": "outcome", "resource": informational(message)},
        {"name": "result", "resource": result},
    ]})


@operation("merge", definition="http://hl7.org/fhir/OperationDefinition/Patient-merge", levels=("type",),
           resource_types=TYPES, affects_state=True,
           documentation="Merge a source record into a target: references moved, source replaced-by target")
def merge(call: OperationCall) -> Answer:
    source, target = _pair(call)
    result = call.value(_names(call, "result")[0]) or call.value("result-patient")
    preview = str(call.value("preview")).lower() == "true"
    merged, written = merging.merge(call.uow, source, target, result, preview=preview)
    moved = len(written) - (0 if preview else 2)
    verb = "would move" if preview else "moved"
    return _answer(call, f"{source.reference} merged into {target.reference}: {verb} {moved} reference(s)", merged)


@operation("unmerge", definition="urn:passerelle:OperationDefinition/unmerge", levels=("type",),
           resource_types=TYPES, affects_state=True,
           documentation="Undo a $merge (same source and target parameters): references moved back, source restored")
def unmerge(call: OperationCall) -> Answer:
    source, target = _pair(call)
    restored, written = merging.unmerge(call.uow, source, target)
    return _answer(call, f"{source.reference} unmerged from {target.reference}: {len(written) - 2} reference(s) "
                         f"moved back", restored)
