"""Batch and transaction Bundles (FHIR R4 3.1.0.11).

A transaction runs every entry in one unit of work, in the order the spec sets
(DELETE, POST, PUT/PATCH, GET/HEAD), after resolving ``urn:uuid`` placeholders and
conditional references; any failure rolls everything back. A batch runs each entry
in a unit of work of its own and reports each outcome in place.
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl

from ..api import history, interactions, search
from ..api.outcome import Answer
from ..context import AppContext
from ..errors import BadRequest, FhirError, MethodNotAllowed, PreconditionFailed
from ..storage.repository import UnitOfWork, format_instant
from .build import bundle, resource_fragment
from .entry import EntryRequest, parse_entry
from .references import rewrite_references

ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}


def process_bundle(ctx: AppContext, body: dict, prefer: dict[str, str], base: str) -> Answer:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise BadRequest("POST to the base takes a Bundle of type batch or transaction", expression="Bundle")
    kind = body.get("type")
    entries = body.get("entry") or []
    if kind not in ("batch", "transaction"):
        raise BadRequest(f"Bundle.type must be batch or transaction, not {kind!r}", expression="Bundle.type")
    if len(entries) > ctx.settings.max_bundle_entries:
        raise BadRequest(f"The Bundle has {len(entries)} entries; the limit is {ctx.settings.max_bundle_entries}")
    requests = [parse_entry(i, e, ctx.resource_types, base) for i, e in enumerate(entries)]
    minimal = prefer.get("return") == "minimal"
    if kind == "transaction":
        return Answer(200, body=_transaction(ctx, requests, minimal))
    return Answer(200, body=_batch(ctx, requests, minimal))


def _transaction(ctx: AppContext, requests: list[EntryRequest], minimal: bool) -> dict:
    _check_unique_targets(requests)
    responses: list[dict | None] = [None] * len(requests)
    with ctx.store.write() as uow:
        placeholders = _resolve_identities(uow, requests)
        for req in requests:
            if req.resource is not None:
                req.resource = rewrite_references(req.resource, placeholders, uow, req.index, own_bases(ctx, req.base))
        for req in sorted(requests, key=lambda r: ORDER[r.method]):
            try:
                answer = _execute(uow, ctx, req)
            except FhirError as exc:
                exc.diagnostics = f"Bundle.entry[{req.index}] ({req.method} {req.url}): {exc.diagnostics}"
                exc.expression = [f"Bundle.entry[{req.index}]", *exc.expression]
                raise
            responses[req.index] = response_entry(answer, minimal)
    return bundle("transaction-response", responses)


def _batch(ctx: AppContext, requests: list[EntryRequest], minimal: bool) -> dict:
    responses = []
    for req in requests:
        try:
            with (ctx.store.write() if req.method not in ("GET", "HEAD") else ctx.store.read()) as uow:
                if req.resource is not None:
                    req.resource = rewrite_references(req.resource, {}, uow, req.index, own_bases(ctx, req.base))
                responses.append(response_entry(_execute(uow, ctx, req), minimal))
        except FhirError as exc:
            responses.append({"response": {"status": f"{exc.status}", "outcome": exc.outcome()}})
    return bundle("batch-response", responses)


def own_bases(ctx: AppContext, base: str) -> tuple[str, ...]:
    """This server's base URLs: the one the request came in on, and the configured one."""
    return tuple(dict.fromkeys((base, ctx.settings.base_url)))


def _check_unique_targets(requests: list[EntryRequest]) -> None:
    """R4: a transaction may not act twice on the same resource."""
    seen = {}
    for req in requests:
        if req.method in ("PUT", "PATCH", "DELETE") and req.fhir_id:
            key = (req.resource_type, req.fhir_id)
            if key in seen:
                raise BadRequest(
                    f"Bundle.entry[{req.index}] and Bundle.entry[{seen[key]}] both act on "
                    f"{req.resource_type}/{req.fhir_id}", expression=f"Bundle.entry[{req.index}]")
            seen[key] = req.index


def _criteria(req: EntryRequest) -> str | None:
    """The search criteria of a conditional entry (create, update, patch or delete)."""
    if req.operation is not None:
        return None
    if req.method == "POST" and req.if_none_exist:
        return req.if_none_exist.split("?", 1)[-1]
    return req.query if req.method in ("PUT", "PATCH", "DELETE") else None


def _resolve_identities(uow: UnitOfWork, requests: list[EntryRequest]) -> dict[str, str]:
    """Map each entry's fullUrl to the Type/id it will have once the transaction is done.

    POST: a fresh id, or the existing match of ifNoneExist. Conditional PUT: the match,
    or a fresh id. The interactions then run with these ids fixed.
    """
    # Every conditional entry's criteria at once (PATCH and DELETE too, which search again
    # when they run): what matches nothing is locked in one statement, in one order, so two
    # Bundles naming the same criteria in other orders cannot each hold one and wait.
    conditional = [r for r in requests if _criteria(r)]
    found = dict(zip((r.index for r in conditional), interactions.conditional_matches_each(
        uow, [(r.resource_type, _criteria(r)) for r in conditional])))
    placeholders = {}
    for req in requests:
        target = None
        if req.operation is not None:
            continue  # an operation creates nothing the Bundle can refer to
        if req.method == "POST":
            if req.if_none_exist:
                matches = found[req.index]
                if len(matches) > 1:
                    raise PreconditionFailed(
                        f"Bundle.entry[{req.index}]: ifNoneExist '{req.if_none_exist}' matches more than one resource",
                        code="multiple-matches", expression=f"Bundle.entry[{req.index}].request.ifNoneExist")
                if matches:
                    req.existing_id = matches[0][0]
            req.fhir_id = req.existing_id or str(uuid.uuid4())
            target = req.fhir_id
        elif req.method == "PUT" and req.query is not None:
            matches = found[req.index]
            if len(matches) > 1:
                raise PreconditionFailed(
                    f"Bundle.entry[{req.index}]: conditional update '{req.url}' matches more than one resource",
                    code="multiple-matches", expression=f"Bundle.entry[{req.index}].request.url")
            req.fhir_id = matches[0][0] if matches else (req.resource or {}).get("id") or str(uuid.uuid4())
            req.query = None
            target = req.fhir_id
        elif req.method == "PUT":
            target = req.fhir_id
        if target and req.full_url:
            placeholders[req.full_url] = f"{req.resource_type}/{target}"
    return placeholders


def _execute(uow: UnitOfWork, ctx: AppContext, req: EntryRequest) -> Answer:
    rt, fid = req.resource_type, req.fhir_id
    if req.operation is not None:
        return _execute_operation(uow, ctx, req)
    if req.method == "POST":
        if req.existing_id:
            return Answer(200, uow.read(rt, req.existing_id))
        return interactions.create(uow, rt, req.resource, if_none_exist=None if fid else req.if_none_exist,
                                   fhir_id=fid)
    if req.method == "PUT":
        if req.query is not None:
            return interactions.conditional_update(uow, rt, req.query, req.resource, if_match=req.if_match)
        resource = req.resource if req.resource.get("id") else {**req.resource, "id": fid}
        return interactions.update(uow, rt, fid, resource, if_match=req.if_match)
    if req.method == "PATCH":
        ctype, document = req.patch_document()
        if req.query is not None:
            return interactions.conditional_patch(uow, rt, req.query, ctype, document, if_match=req.if_match)
        return interactions.patch(uow, rt, fid, ctype, document, if_match=req.if_match)
    if req.method == "DELETE":
        if req.query is not None:
            return interactions.conditional_delete(uow, rt, req.query)
        return interactions.delete(uow, rt, fid, if_match=req.if_match)
    return _execute_read(uow, ctx, req)


def _execute_operation(uow: UnitOfWork, ctx: AppContext, req: EntryRequest) -> Answer:
    """``POST Patient/$merge`` and the like: the operation registry runs it, with the
    same authorization as over HTTP, inside this entry's unit of work."""
    # Imported here: operation modules themselves run Bundles (server.operations imports this module).
    from ..operations.registry import OperationCall, call_operation, find_operation, parameters_from_query

    op = find_operation(req.operation, req.resource_type, req.fhir_id)
    body = None
    if req.method == "GET":
        if op.affects_state:
            raise MethodNotAllowed(f"${op.name} changes data: invoke it with POST")
        parameters = parameters_from_query(parse_qsl(req.query or "", keep_blank_values=True))
    elif req.resource.get("resourceType") == "Parameters":
        parameters = req.resource
    else:
        parameters, body = {"resourceType": "Parameters"}, req.resource
    return call_operation(OperationCall(uow, ctx, req.base, req.resource_type, req.fhir_id, parameters, body), op)


def _execute_read(uow: UnitOfWork, ctx: AppContext, req: EntryRequest) -> Answer:
    params = parse_qsl(req.query or "", keep_blank_values=True)
    if req.resource_type is None:
        if req.history:
            return history.history(uow, ctx, req.base, params)
        raise BadRequest(f"Unsupported entry request {req.url!r}", expression=f"Bundle.entry[{req.index}].request.url")
    if req.history and not req.version_id:
        return history.history(uow, ctx, req.base, params, req.resource_type, req.fhir_id)
    if req.fhir_id:
        answer = (interactions.vread(uow, req.resource_type, req.fhir_id, req.version_id) if req.version_id
                  else interactions.read(uow, req.resource_type, req.fhir_id))
        return interactions.not_modified(answer, if_none_match=req.if_none_match,
                                         if_modified_since=req.if_modified_since)
    return search.search(uow, ctx, req.base, req.resource_type, params)


def response_entry(answer: Answer, minimal: bool) -> dict:
    entry: dict = {}
    stored = answer.stored
    if stored is not None and not minimal and answer.status != 304:
        entry["fullUrl"] = f"{stored.resource_type}/{stored.id}"
        entry["resource"] = resource_fragment(stored)
    elif answer.body is not None and not minimal:
        entry["resource"] = answer.body
    response = {"status": str(answer.status)}
    if answer.location:
        response["location"] = answer.location
    if stored is not None:
        response["etag"] = stored.etag
        response["lastModified"] = format_instant(stored.last_updated)
    elif "ETag" in answer.headers:
        response["etag"] = answer.headers["ETag"]
    entry["response"] = response
    return entry

