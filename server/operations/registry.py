"""The operation registry: one module per FHIR operation registers itself here.

The HTTP routes, the CapabilityStatement and the tests all read this one table, so
what is advertised is what is served.

Authorization is the registry's, not the handlers' (docs/security.md): before the
handler runs, ``authorize`` checks the token against the operation's level and
``affects_state``; after it, ``visible_answer`` drops from the answer what the token
may not see. Searches a handler makes through ``server.search.service`` are narrowed to
the token already (the request's Access is current; ``call.access`` exposes it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, tuple_
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..api.negotiation import base_url, body_kind, read_body, render, rendering_for
from ..api.outcome import Answer
from ..authz.access import Access, current
from ..authz.criteria import compartment_members, visible_pids
from ..authz.guard import check_instance, visible_stored
from ..authz.operations import check_writes, patient_may_run
from ..errors import BadRequest, Forbidden, MethodNotAllowed, NotFound
from ..storage.models import Resource

RES = Resource.__table__

LEVELS = ("system", "type", "instance")


@dataclass
class OperationCall:
    """One invocation: where it was called and with which parameters."""

    uow: object  # UnitOfWork
    ctx: object  # AppContext
    base: str
    resource_type: str | None
    fhir_id: str | None
    parameters: dict  # a Parameters resource (GET query parameters are turned into one)
    body: dict | None  # the POSTed resource when it was not a Parameters
    access: Access = field(default_factory=current)  # whose request (server.authz); searches apply it

    def values(self, name: str) -> list[dict]:
        return [p for p in self.parameters.get("parameter", []) if p.get("name") == name]

    def value(self, name: str):
        """The value[x] (or resource) of the first parameter with this name."""
        for part in self.values(name):
            if "resource" in part:
                return part["resource"]
            for key, value in part.items():
                if key.startswith("value"):
                    return value
        return None


@dataclass(frozen=True)
class Operation:
    name: str  # without the $
    definition: str  # canonical URL of its OperationDefinition
    levels: frozenset[str]
    handler: Callable[[OperationCall], Answer]
    affects_state: bool = False
    resource_types: frozenset[str] | None = None  # None: every type
    documentation: str = ""
    # Type-level changes whose writes all stay in one patient's compartment: the id of the
    # Patient a call names (None: none, or several). A patient token of that patient may
    # run them (server.authz.operations).
    patient_compartment: Callable[[OperationCall], str | None] | None = None


@dataclass
class OperationRegistry:
    operations: dict[str, Operation] = field(default_factory=dict)

    def register(self, operation: Operation) -> None:
        if operation.name in self.operations:
            raise ValueError(f"operation ${operation.name} registered twice")
        self.operations[operation.name] = operation

    def get(self, name: str) -> Operation | None:
        return self.operations.get(name)

    def for_level(self, level: str, resource_type: str | None = None) -> list[Operation]:
        return [
            op for op in self.operations.values()
            if level in op.levels and (resource_type is None or op.resource_types is None
                                       or resource_type in op.resource_types)
        ]


OPERATIONS = OperationRegistry()


def operation(name: str, *, definition: str, levels, affects_state: bool = False, resource_types=None,
              documentation: str = "", patient_compartment=None):
    """Decorator: register a handler as the ``$name`` operation."""

    def register(handler: Callable[[OperationCall], Answer]):
        OPERATIONS.register(Operation(name, definition, frozenset(levels), handler, affects_state,
                                      frozenset(resource_types) if resource_types else None, documentation,
                                      patient_compartment))
        return handler

    return register


# Parameters of the HTTP exchange itself, not of the operation ($everything's _since, _type
# and _count, $find's _count are the operation's own).
RENDERING_PARAMETERS = frozenset({"_format", "_pretty", "_summary", "_elements"})


def parameters_from_query(items) -> dict:
    """GET parameters as a Parameters resource (``_format`` and the like left out)."""
    return {
        "resourceType": "Parameters",
        "parameter": [{"name": k, "valueString": v} for k, v in items if k not in RENDERING_PARAMETERS],
    }


def find_operation(name: str, resource_type: str | None = None, fhir_id: str | None = None) -> Operation:
    level = "instance" if fhir_id else "type" if resource_type else "system"
    op = OPERATIONS.get(name)
    if op is None or level not in op.levels or (
        resource_type and op.resource_types is not None and resource_type not in op.resource_types
    ):
        where = f"{resource_type or 'the system'}{' instance' if fhir_id else ''} level"
        raise NotFound(f"Operation ${name} is not supported at {where}", code="not-supported")
    return op


def authorize(call: OperationCall, op: Operation) -> None:
    """The generic rule. Instance level: the token must read the instance (404 when out
    of its reach) and, for an operation that changes state, update it. Type level: search
    the type; changing state needs user/ or system/ create and update grants reaching every
    resource of the type (a patient token cannot run a type-wide change). System level:
    grants on every type ("*"), from user/ or system/ scopes."""
    access = call.access
    if access.internal:
        return
    if call.fhir_id:
        check_instance(call.uow, "r", call.resource_type, call.fhir_id, access)
        if op.affects_state:
            check_instance(call.uow, "u", call.resource_type, call.fhir_id, access)
        return
    if call.resource_type:
        if op.affects_state and patient_may_run(call, op):
            return
        letters = "cu" if op.affects_state else "s"
        members = compartment_members(call.uow.store.registry)
        for letter in letters:
            access.require(letter, call.resource_type)
            if op.affects_state and not access.unrestricted(letter, call.resource_type, members):
                raise Forbidden(f"${op.name} changes {call.resource_type} resources beyond this token's patient "
                                f"or scope query: it needs user/ or system/ scopes")
        return
    letters = "cu" if op.affects_state else "s"
    if not all(access.system_wide(letter) for letter in letters):
        raise Forbidden(f"${op.name} at system level needs user/*.{'cu' if op.affects_state else 'rs'} or "
                        f"system/*.{'cu' if op.affects_state else 'rs'}")


def visible_answer(call: OperationCall, answer: Answer) -> Answer:
    """The answer without what the token may not see: a stored resource it cannot read
    becomes a 404; Bundle entries naming stored resources out of reach are dropped
    (entries naming nothing stored, e.g. an OperationOutcome, stay)."""
    access = call.access
    if access.internal:
        return answer
    if answer.stored is not None and not visible_stored(call.uow, [answer.stored], "r", access):
        raise NotFound(f"{answer.stored.reference} is not known")
    body = answer.body
    if isinstance(body, dict) and body.get("resourceType") == "Bundle" and body.get("entry"):
        named = [_named(call, e) for e in body["entry"]]
        stored = _stored_pids(call, {n for n in named if n})
        keep = set(visible_pids(call.uow, access, "s", list(stored.values())))
        body["entry"] = [e for e, n in zip(body["entry"], named, strict=True)
                         if n not in stored or stored[n] in keep]
    return answer


def _named(call: OperationCall, entry: dict) -> tuple[str, str] | None:
    """(type, id) of the resource an entry carries, from the resource or its fullUrl."""
    resource = entry.get("resource")
    if isinstance(resource, dict) and resource.get("resourceType") and resource.get("id"):
        return resource["resourceType"], resource["id"]
    parts = str(entry.get("fullUrl") or "").split("/")
    if len(parts) >= 2 and parts[-2] in call.ctx.resource_types:
        return parts[-2], parts[-1]
    return None


def _stored_pids(call: OperationCall, named: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The live stored resources among ``named``: (type, id) -> pid, in one query per 500."""
    found, items = {}, sorted(named)
    for i in range(0, len(items), 500):
        chunk = items[i:i + 500]
        rows = call.uow.conn.execute(select(RES.c.resource_type, RES.c.fhir_id, RES.c.pid).where(
            tuple_(RES.c.resource_type, RES.c.fhir_id).in_(chunk), RES.c.deleted.is_(False)))
        found.update({(r.resource_type, r.fhir_id): r.pid for r in rows})
    return found


def call_operation(call: OperationCall, op: Operation) -> Answer:
    """Run an operation for a route or a Bundle entry: authorize, handle, filter."""
    authorize(call, op)
    answer = op.handler(call)
    check_writes(call)
    return visible_answer(call, answer)


async def invoke_operation(request: Request, name: str, resource_type: str | None = None,
                           fhir_id: str | None = None) -> Response:
    op = find_operation(name, resource_type, fhir_id)
    rendering = rendering_for(request)
    body = None
    if request.method == "POST":
        body_kind(request)
        body = await read_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
            raise BadRequest(f"${name} takes a Parameters resource (or a resource) as its body", code="structure")
    elif op.affects_state:
        raise MethodNotAllowed(f"${name} changes data: invoke it with POST", headers={"Allow": "POST"})
    if body is not None and body.get("resourceType") == "Parameters":
        parameters, body = body, None
    elif request.method == "GET":
        parameters = parameters_from_query(request.query_params.multi_items())
    else:  # a resource POSTed as is (e.g. $validate), or no body
        parameters = {"resourceType": "Parameters"}
    ctx = request.app.state.ctx

    def unit() -> Answer:
        with (ctx.store.write() if op.affects_state else ctx.store.read()) as uow:
            return call_operation(OperationCall(uow, ctx, base_url(request), resource_type, fhir_id, parameters, body),
                                  op)

    answer = await run_in_threadpool(unit)
    return render(answer, request, rendering)
