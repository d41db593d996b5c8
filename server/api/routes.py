"""HTTP routes of the FHIR REST API (base ``/fhir``).

Thin adapters: read the HTTP request, open a unit of work, call an interaction,
render its Answer. All logic lives in ``interactions``, ``history``, ``search`` and
``bundles`` so that Bundle entries and HTTP requests behave the same.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..bundles.processor import own_bases, process_bundle
from ..bundles.references import localize_references
from ..capability import capability_statement
from ..errors import BadRequest, MethodNotAllowed, NotFound, UnsupportedMediaType
from ..operations.registry import invoke_operation
from ..storage.repository import UnitOfWork
from . import history, interactions, search
from .negotiation import base_url, body_kind, prefer, read_body, render, rendering_for
from .outcome import Answer

router = APIRouter(prefix="/fhir")


def _ctx(request: Request):
    return request.app.state.ctx


SYSTEM_PATHS = ("metadata", "_history", "_search")


def _check_type(request: Request, resource_type: str) -> None:
    if resource_type in SYSTEM_PATHS:
        raise MethodNotAllowed(f"{request.method} is not allowed on /{resource_type}")
    if resource_type not in _ctx(request).resource_types:
        raise NotFound(f"Unknown resource type {resource_type!r}", code="not-supported")


async def _resource_body(request: Request) -> dict:
    kind = body_kind(request)
    if kind == interactions.JSON_PATCH:
        raise BadRequest("A JSON Patch is only accepted by PATCH")
    body = await read_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
        raise BadRequest("The body is not a FHIR resource: a JSON object with 'resourceType' is required",
                         code="structure")
    return localize_references(body, own_bases(_ctx(request), base_url(request)))


async def _run(request: Request, work: Callable[[UnitOfWork], Answer], *, write: bool) -> Response:
    rendering = rendering_for(request)
    store = _ctx(request).store

    def unit():
        with (store.write() if write else store.read()) as uow:
            return work(uow)

    answer = await run_in_threadpool(unit)
    return render(answer, request, rendering)


def _params(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())


def _cache_headers(request: Request) -> dict[str, str | None]:
    return {"if_none_match": request.headers.get("if-none-match"),
            "if_modified_since": request.headers.get("if-modified-since")}


async def _search(request: Request, resource_type: str | None, params: list[tuple[str, str]],
                  compartment: tuple[str, str] | None = None) -> Response:
    strict = prefer(request).get("handling") == "strict"
    return await _run(request, lambda uow: search.search(uow, _ctx(request), base_url(request), resource_type, params,
                                                         strict=strict, compartment=compartment), write=False)


async def _form_params(request: Request) -> list[tuple[str, str]]:
    """POST ``_search``: the URL's parameters and the form body's, together (R4 3.1.1.0.2)."""
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip()
    if ctype != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("POST _search takes application/x-www-form-urlencoded parameters")
    form = await request.form()
    return _params(request) + [(k, str(v)) for k, v in form.multi_items()]


# -- system level -------------------------------------------------------------------------


@router.get("/metadata", summary="capabilities")
async def metadata(request: Request) -> Response:
    # Inside a unit of work: the runtime SearchParameters refresh there, so a parameter
    # another worker added is advertised here too.
    return await _run(request, lambda uow: Answer(200, body=capability_statement(_ctx(request), request)),
                      write=False)


@router.get("", summary="search-system")
@router.get("/", include_in_schema=False)
async def search_system(request: Request) -> Response:
    return await _search(request, None, _params(request))


@router.post("/_search", summary="search-system (POST)")
async def search_system_post(request: Request) -> Response:
    return await _search(request, None, await _form_params(request))


@router.post("", summary="batch / transaction")
@router.post("/", include_in_schema=False)
async def batch_or_transaction(request: Request) -> Response:
    body_kind(request)
    bundle = await read_body(request)
    ctx = _ctx(request)
    rendering = rendering_for(request)
    answer = await run_in_threadpool(process_bundle, ctx, bundle, prefer(request), base_url(request))
    return render(answer, request, rendering)


@router.get("/_history", summary="history-system")
async def history_system(request: Request) -> Response:
    return await _run(request, lambda uow: history.history(uow, _ctx(request), base_url(request), _params(request)),
                      write=False)


# -- operations ($name), before the {type}/{id} routes they would otherwise match -----------


@router.api_route("/${operation}", methods=["GET", "POST"], summary="operation (system)")
async def operation_system(request: Request, operation: str) -> Response:
    return await invoke_operation(request, operation)


@router.api_route("/{resource_type}/${operation}", methods=["GET", "POST"], summary="operation (type)")
async def operation_type(request: Request, resource_type: str, operation: str) -> Response:
    _check_type(request, resource_type)
    return await invoke_operation(request, operation, resource_type)


@router.api_route("/{resource_type}/{fhir_id}/${operation}", methods=["GET", "POST"], summary="operation (instance)")
async def operation_instance(request: Request, resource_type: str, fhir_id: str, operation: str) -> Response:
    _check_type(request, resource_type)
    return await invoke_operation(request, operation, resource_type, fhir_id)


# -- type level ---------------------------------------------------------------------------


@router.get("/{resource_type}", summary="search-type")
async def search_type(request: Request, resource_type: str) -> Response:
    _check_type(request, resource_type)
    return await _search(request, resource_type, _params(request))


@router.post("/{resource_type}/_search", summary="search-type (POST)")
async def search_type_post(request: Request, resource_type: str) -> Response:
    _check_type(request, resource_type)
    return await _search(request, resource_type, await _form_params(request))


@router.post("/{resource_type}", summary="create")
async def create(request: Request, resource_type: str) -> Response:
    _check_type(request, resource_type)
    resource = await _resource_body(request)
    if_none_exist = request.headers.get("if-none-exist")
    return await _run(request, lambda uow: interactions.create(uow, resource_type, resource,
                                                               if_none_exist=if_none_exist), write=True)


@router.put("/{resource_type}", summary="conditional update")
async def conditional_update(request: Request, resource_type: str) -> Response:
    _check_type(request, resource_type)
    resource = await _resource_body(request)
    query, if_match = request.url.query, request.headers.get("if-match")
    return await _run(request, lambda uow: interactions.conditional_update(uow, resource_type, query, resource,
                                                                           if_match=if_match), write=True)


@router.patch("/{resource_type}", summary="conditional patch")
async def conditional_patch(request: Request, resource_type: str) -> Response:
    _check_type(request, resource_type)
    kind, document = body_kind(request), await read_body(request)
    query, if_match = request.url.query, request.headers.get("if-match")
    return await _run(request, lambda uow: interactions.conditional_patch(uow, resource_type, query, kind, document,
                                                                          if_match=if_match), write=True)


@router.delete("/{resource_type}", summary="conditional delete")
async def conditional_delete(request: Request, resource_type: str) -> Response:
    _check_type(request, resource_type)
    query = request.url.query
    return await _run(request, lambda uow: interactions.conditional_delete(uow, resource_type, query), write=True)


@router.get("/{resource_type}/_history", summary="history-type")
async def history_type(request: Request, resource_type: str) -> Response:
    _check_type(request, resource_type)
    return await _run(request, lambda uow: history.history(uow, _ctx(request), base_url(request), _params(request),
                                                           resource_type), write=False)


# -- instance level -----------------------------------------------------------------------


@router.get("/{resource_type}/{fhir_id}", summary="read")
async def read(request: Request, resource_type: str, fhir_id: str) -> Response:
    _check_type(request, resource_type)
    return await _run(request, lambda uow: interactions.not_modified(
        interactions.read(uow, resource_type, fhir_id), **_cache_headers(request)), write=False)


@router.put("/{resource_type}/{fhir_id}", summary="update")
async def update(request: Request, resource_type: str, fhir_id: str) -> Response:
    _check_type(request, resource_type)
    resource = await _resource_body(request)
    if_match = request.headers.get("if-match")
    return await _run(request, lambda uow: interactions.update(uow, resource_type, fhir_id, resource,
                                                               if_match=if_match), write=True)


@router.patch("/{resource_type}/{fhir_id}", summary="patch")
async def patch(request: Request, resource_type: str, fhir_id: str) -> Response:
    _check_type(request, resource_type)
    kind, document = body_kind(request), await read_body(request)
    if_match = request.headers.get("if-match")
    return await _run(request, lambda uow: interactions.patch(uow, resource_type, fhir_id, kind, document,
                                                              if_match=if_match), write=True)


@router.delete("/{resource_type}/{fhir_id}", summary="delete")
async def delete(request: Request, resource_type: str, fhir_id: str) -> Response:
    _check_type(request, resource_type)
    if_match = request.headers.get("if-match")
    return await _run(request, lambda uow: interactions.delete(uow, resource_type, fhir_id, if_match=if_match),
                      write=True)


@router.get("/{resource_type}/{fhir_id}/_history", summary="history-instance")
async def history_instance(request: Request, resource_type: str, fhir_id: str) -> Response:
    _check_type(request, resource_type)
    return await _run(request, lambda uow: history.history(uow, _ctx(request), base_url(request), _params(request),
                                                           resource_type, fhir_id), write=False)


# -- compartment search: after /{type}/{id}/_history and the $operation routes, which it
# would otherwise swallow (/Patient/1/_history would search a "_history" type) ----------


def _check_compartment(request: Request, compartment: str, wanted: str) -> None:
    _check_type(request, compartment)
    if wanted != "*":
        _check_type(request, wanted)


@router.get("/{compartment}/{fhir_id}/{resource_type}", summary="search-compartment")
async def search_compartment(request: Request, compartment: str, fhir_id: str, resource_type: str) -> Response:
    _check_compartment(request, compartment, resource_type)
    return await _search(request, resource_type, _params(request), (compartment, fhir_id))


@router.post("/{compartment}/{fhir_id}/{resource_type}/_search", summary="search-compartment (POST)")
async def search_compartment_post(request: Request, compartment: str, fhir_id: str, resource_type: str) -> Response:
    _check_compartment(request, compartment, resource_type)
    return await _search(request, resource_type, await _form_params(request), (compartment, fhir_id))


@router.get("/{resource_type}/{fhir_id}/_history/{version_id}", summary="vread")
async def vread(request: Request, resource_type: str, fhir_id: str, version_id: str) -> Response:
    _check_type(request, resource_type)
    return await _run(request, lambda uow: interactions.not_modified(
        interactions.vread(uow, resource_type, fhir_id, version_id), **_cache_headers(request)), write=False)
