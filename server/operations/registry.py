"""The operation registry: one module per FHIR operation registers itself here.

The HTTP routes, the CapabilityStatement and the tests all read this one table, so
what is advertised is what is served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..api.negotiation import base_url, body_kind, read_body, render, rendering_for
from ..api.outcome import Answer
from ..errors import BadRequest, MethodNotAllowed, NotFound

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
              documentation: str = ""):
    """Decorator: register a handler as the ``$name`` operation."""

    def register(handler: Callable[[OperationCall], Answer]):
        OPERATIONS.register(Operation(name, definition, frozenset(levels), handler, affects_state,
                                      frozenset(resource_types) if resource_types else None, documentation))
        return handler

    return register


def _parameters_from_query(request: Request) -> dict:
    return {
        "resourceType": "Parameters",
        "parameter": [{"name": k, "valueString": v} for k, v in request.query_params.multi_items()
                      if not k.startswith("_")],
    }


async def invoke_operation(request: Request, name: str, resource_type: str | None = None,
                           fhir_id: str | None = None) -> Response:
    level = "instance" if fhir_id else "type" if resource_type else "system"
    op = OPERATIONS.get(name)
    if op is None or level not in op.levels or (
        resource_type and op.resource_types is not None and resource_type not in op.resource_types
    ):
        where = f"{resource_type or 'the system'}{' instance' if fhir_id else ''} level"
        raise NotFound(f"Operation ${name} is not supported at {where}", code="not-supported")
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
        parameters = _parameters_from_query(request)
    else:  # a resource POSTed as is (e.g. $validate), or no body
        parameters = {"resourceType": "Parameters"}
    ctx = request.app.state.ctx

    def unit() -> Answer:
        with (ctx.store.write() if op.affects_state else ctx.store.read()) as uow:
            return op.handler(OperationCall(uow, ctx, base_url(request), resource_type, fhir_id, parameters, body))

    answer = await run_in_threadpool(unit)
    return render(answer, request, rendering)

