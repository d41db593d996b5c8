"""$reindex and $reindex-status: rebuild the search index after SearchParameters changed.

FHIR asynchronous pattern (http://hl7.org/fhir/R4/async.html): ``POST [base]/$reindex``
(every type, or the ``type`` parameter's) or ``POST [base]/[type]/$reindex`` answers
202 Accepted with a ``Content-Location`` to poll, ``[base]/$reindex-status?job=<id>``;
that answers 202 with ``X-Progress`` while the job runs, 200 when it is complete, 500
with the error if it failed. The job itself is server.search.reindex.
"""

from __future__ import annotations

from urllib.parse import quote

from ..api.outcome import Answer, informational
from ..errors import BadRequest, FhirError, NotFound
from ..search.reindex import MAX_BATCH, get_job
from ..storage.repository import format_instant
from .registry import OperationCall, operation

DEFINITION = "urn:passerelle:OperationDefinition/"  # ours, not in the R4 spec (HAPI FHIR has one alike)


def _types(call: OperationCall) -> list[str] | None:
    if call.resource_type:
        return [call.resource_type]
    types = [t.strip() for part in call.values("type") for t in str(_value(part) or "").split(",") if t.strip()]
    unknown = [t for t in types if t not in call.ctx.resource_types]
    if unknown:
        raise BadRequest(f"Unknown resource type(s): {', '.join(unknown)}", expression="type")
    return types or None


def _value(part: dict):
    return next((v for k, v in part.items() if k.startswith("value")), None)


def _batch_size(call: OperationCall) -> int | None:
    given = call.value("batchSize")
    if given is None:
        return None
    try:
        size = int(given)
    except (TypeError, ValueError):
        size = 0
    if not 1 <= size <= MAX_BATCH:
        raise BadRequest(f"batchSize must be an integer from 1 to {MAX_BATCH}", expression="batchSize")
    return size


def status_url(base: str, job_id: str) -> str:
    return f"{base}/$reindex-status?job={quote(job_id)}"


@operation("reindex", definition=DEFINITION + "reindex", levels=("system", "type"), affects_state=True,
           documentation="Rebuild the search index of stored resources in the background (asynchronous: "
                         "poll the Content-Location). Parameters: type (system level), batchSize.")
def reindex(call: OperationCall) -> Answer:
    job = call.ctx.reindexer.submit(call.uow, _types(call), _batch_size(call))
    message = f"Reindex job {job.id} {job.status}: {job.done}/{job.total} resources"
    return Answer(202, body=informational(message), headers={"Content-Location": status_url(call.base, job.id)})


@operation("reindex-status", definition=DEFINITION + "reindex-status", levels=("system",),
           documentation="Progress of a $reindex job (parameter: job).")
def reindex_status(call: OperationCall) -> Answer:
    job_id = call.value("job")
    if not job_id:
        raise BadRequest("The 'job' parameter is required (the Content-Location of $reindex names it)",
                         expression="job")
    job = get_job(call.uow.conn, str(job_id))
    if job is None:
        raise NotFound(f"No reindex job {job_id}")
    call.ctx.reindexer.resume(job)  # its worker is gone: this one carries on
    if job.status == "failed":
        error = FhirError(f"Reindex job {job.id} failed: {job.error}", code="exception")
        return Answer(500, body=error.outcome())
    if job.status == "completed":
        return Answer(200, body=_parameters(job))
    progress = {"X-Progress": f"{job.done}/{job.total} resources", "Retry-After": "1"}
    return Answer(202, body=_parameters(job), headers=progress)


def _parameters(job) -> dict:
    params = [
        ("job", "valueString", job.id),
        ("status", "valueCode", job.status),
        *(("type", "valueCode", t) for t in (job.resource_types or "").split(",") if t),
        ("total", "valueInteger", job.total),
        ("done", "valueInteger", job.done),
        ("progress", "valueString", f"{job.done}/{job.total}"),
        ("requested", "valueInstant", job.requested and format_instant(job.requested)),
        ("started", "valueInstant", job.started and format_instant(job.started)),
        ("finished", "valueInstant", job.finished and format_instant(job.finished)),
    ]
    return {"resourceType": "Parameters",
            "parameter": [{"name": name, kind: value} for name, kind, value in params if value is not None]}
