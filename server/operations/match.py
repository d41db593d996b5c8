"""Patient/$match and Practitioner/$match (http://hl7.org/fhir/R4/patient-operation-match.html).

The given resource goes through the same features, blocking keys and scores as the
write-time matcher (server.mdm); the answer lists golden records, best first, with
``search.score`` (the match probability) and the ``match-grade`` extension. Nothing is
written.
"""

from __future__ import annotations

from ..api.outcome import Answer
from ..authz.guard import visible_stored
from ..bundles.build import bundle, search_entry
from ..errors import BadRequest, Gone, NotFound
from ..mdm.listener import mdm_of
from .registry import OperationCall, operation

MATCH_GRADE = "http://hl7.org/fhir/StructureDefinition/match-grade"


def _flag(value, name: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise BadRequest(f"'{name}' must be true or false, not {value!r}", expression=name)


def _count(value) -> int | None:
    if value is None:
        return None
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = -1
    if count < 1:
        raise BadRequest(f"'count' must be a positive integer, not {value!r}", expression="count")
    return count


@operation("match", definition="http://hl7.org/fhir/OperationDefinition/Patient-match", levels=("type",),
           resource_types=("Patient", "Practitioner"),
           documentation="Find the golden records a Patient/Practitioner may be (resource, onlyCertainMatches, "
                         "count); search.score is the match probability")
def match(call: OperationCall) -> Answer:
    resource = call.value("resource") if call.body is None else call.body
    if not isinstance(resource, dict) or resource.get("resourceType") != call.resource_type:
        raise BadRequest(f"$match needs the 'resource' parameter: a {call.resource_type}", expression="resource")
    only_certain = _flag(call.value("onlyCertainMatches"), "onlyCertainMatches")
    count = _count(call.value("count"))
    mdm = mdm_of(call.ctx)
    model = mdm.models[call.resource_type]
    found = [c for c in mdm.matcher.candidates(call.uow, call.resource_type, model.features(resource))
             if c.score.grade and (c.score.grade == "certain" or not only_certain)]
    stored, grades = [], {}
    for candidate in found:
        try:
            record = call.uow.read(call.resource_type, candidate.golden_id)
        except (NotFound, Gone):
            continue
        stored.append(record)
        grades[record.id] = candidate.score
    stored = visible_stored(call.uow, stored)[:count]
    entries = []
    for record in stored:
        score = grades[record.id]
        entry = search_entry(call.base, record, "match", round(score.probability, 6))
        entry["search"]["extension"] = [{"url": MATCH_GRADE, "valueCode": score.grade}]
        entries.append(entry)
    return Answer(200, body=bundle("searchset", entries, total=len(entries)))
