"""Patient/$everything (http://hl7.org/fhir/R4/patient-operation-everything.html).

Everything in the patient's compartment (server.search.compartment, through the search
service so the access rules apply), the patient included. On a golden record it covers
the golden record and every linked source record's compartment.

Parameters: ``start`` / ``end`` (care dates: types with a ``date`` search parameter are
filtered on it, the others are kept), ``_since`` (changed since), ``_type`` (comma list),
``_count`` (page size), ``_offset`` (position of the page, in the paging links).
Results are in creation order; a page is a slice of at most ``MAX_MATCHES`` matches.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from ..api.outcome import Answer
from ..bundles.build import bundle, search_entry
from ..errors import BadRequest
from ..mdm import golden
from ..search import service
from ..search.builder import build_search
from ..search.compartment import member_types
from .registry import OperationCall, operation

MAX_MATCHES = 10_000


def _int(call: OperationCall, name: str, default: int, low: int) -> int:
    value = call.value(name)
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = low - 1
    if number < low:
        raise BadRequest(f"'{name}' must be an integer >= {low}, not {value!r}", expression=name)
    return number


def _params(call: OperationCall) -> dict[str, str]:
    out = {}
    for name in ("start", "end", "_since", "_type"):
        value = call.value(name)
        if value is not None:
            out[name] = str(value)
    return out


def _member_pids(call: OperationCall, patient_id: str, given: dict[str, str]) -> set[int]:
    registry = call.uow.store.registry
    types = member_types(registry, "Patient", "*")
    if "_type" in given:
        wanted = [t.strip() for t in given["_type"].split(",") if t.strip()]
        unknown = [t for t in wanted if t not in types]
        if unknown:
            raise BadRequest(f"_type names types outside the Patient compartment: {', '.join(unknown)}",
                             expression="_type")
        types = tuple(wanted)
    common = [("_lastUpdated", f"ge{given['_since']}")] if "_since" in given else []
    dated = [t for t in types if registry.get(t, "date") is not None]
    undated = [t for t in types if t not in dated]
    dates = [("date", f"ge{given['start']}")] if "start" in given else []
    dates += [("date", f"le{given['end']}")] if "end" in given else []
    groups = [(dated, dates), (undated, [])] if dates else [(types, [])]
    pids: set[int] = set()
    for group, criteria in groups:
        if not group:
            continue
        query = service.parse(call.uow, "*", [("_type", ",".join(group)), *common, *criteria], strict=True,
                              compartment=("Patient", patient_id))
        pids.update(call.uow.select_pids(build_search(replace(query, count=MAX_MATCHES, offset=0))))
    return pids


@operation("everything", definition="http://hl7.org/fhir/OperationDefinition/Patient-everything",
           levels=("instance",), resource_types=("Patient",),
           documentation="The patient's compartment (all linked source records for a golden record); "
                         "start, end, _since, _type, _count")
def everything(call: OperationCall) -> Answer:
    patient = call.uow.read("Patient", call.fhir_id).resource()
    given = _params(call)
    page_size = _int(call, "_count", call.ctx.settings.default_page_size, 1)
    page_size = min(page_size, call.ctx.settings.max_page_size)
    offset = _int(call, "_offset", 0, 0)
    ids = [call.fhir_id]
    if golden.is_golden(patient):
        ids += [i for i in golden.links(patient, "source") if i not in ids]
    pids: set[int] = set()
    for patient_id in ids:
        pids |= _member_pids(call, patient_id, given)
    ordered = sorted(pids)
    page = call.uow.read_many(ordered[offset:offset + page_size])
    entries = [search_entry(call.base, stored, "match") for stored in page]
    path = f"{call.base}/Patient/{call.fhir_id}/$everything"
    query = [*given.items(), ("_count", str(page_size))]
    links = [{"relation": "self", "url": f"{path}?{urlencode([*query, ('_offset', str(offset))])}"}]
    if offset + page_size < len(ordered):
        links.append({"relation": "next", "url": f"{path}?{urlencode([*query, ('_offset', str(offset + page_size))])}"})
    if offset > 0:
        links.append({"relation": "previous",
                      "url": f"{path}?{urlencode([*query, ('_offset', str(max(offset - page_size, 0)))])}"})
    return Answer(200, body=bundle("searchset", entries, links, total=len(ordered)))
