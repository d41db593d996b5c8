"""Content negotiation and rendering: Answer -> HTTP response.

JSON only: ``_format``/``Accept`` asking for XML or turtle get a 406 that says so.
Stored bytes go out untouched unless the client asked for ``_pretty``, ``_summary``
or ``_elements``.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from .. import jsonio
from ..errors import BadRequest, FhirError, NotAcceptable, PayloadTooLarge, UnsupportedMediaType
from .interactions import JSON_PATCH
from .outcome import Answer, informational
from .shaping import shape

FHIR_JSON = "application/fhir+json"
MEDIA_TYPE = f"{FHIR_JSON}; charset=utf-8"
_JSON_FORMATS = {"json", FHIR_JSON, "application/json", "text/json"}
_OTHER_FORMATS = {"xml", "application/fhir+xml", "application/xml", "text/xml", "ttl", "application/fhir+turtle",
                  "text/turtle", "html", "text/html"}


@dataclass(frozen=True)
class Rendering:
    pretty: bool = False
    summary: str | None = None
    elements: str | None = None
    prefer_return: str = "representation"  # minimal | representation | OperationOutcome

    @property
    def plain(self) -> bool:
        return not (self.pretty or self.summary or self.elements)


def rendering_for(request: Request) -> Rendering:
    q = request.query_params
    fmt = q.get("_format")
    if fmt is not None and fmt.split(";")[0].strip() not in _JSON_FORMATS:
        raise NotAcceptable(f"_format={fmt} is not supported: this server speaks FHIR JSON (application/fhir+json)")
    if fmt is None:
        _check_accept(request.headers.get("accept"))
    prefer = _prefer(request.headers.get("prefer"))
    pretty = q.get("_pretty", "false")
    if pretty not in ("true", "false"):
        raise BadRequest("_pretty must be true or false", expression="_pretty")
    return Rendering(pretty == "true", q.get("_summary"), q.get("_elements"), prefer.get("return", "representation"))


def _check_accept(accept: str | None) -> None:
    if not accept:
        return
    types = [part.split(";")[0].strip() for part in accept.split(",")]
    if any(t in _JSON_FORMATS or t.endswith("/*") or t == "*/*" or t.endswith("+json") for t in types):
        return
    raise NotAcceptable(f"Cannot produce {accept}: this server speaks FHIR JSON (application/fhir+json)")


def _prefer(header: str | None) -> dict[str, str]:
    prefs = {}
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key:
            prefs[key.strip().lower()] = value.strip().strip('"')
    return prefs


def prefer(request: Request) -> dict[str, str]:
    return _prefer(request.headers.get("prefer"))


def body_kind(request: Request) -> str:
    """The media type of a request body we accept, or 415."""
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype in (FHIR_JSON, "application/json", JSON_PATCH):
        return ctype
    if not ctype:
        raise UnsupportedMediaType("Content-Type is required: application/fhir+json")
    raise UnsupportedMediaType(f"Content-Type {ctype} is not supported: send application/fhir+json")


async def read_body(request: Request):
    """The parsed JSON body, refused past the configured size limit (413)."""
    limit = request.app.state.ctx.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body ({declared} bytes) exceeds the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise BadRequest("The request body is empty")
    return jsonio.loads(raw)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def render(answer: Answer, request: Request, rendering: Rendering) -> Response:
    headers = dict(answer.headers)
    if answer.location:
        headers["Location"] = f"{base_url(request)}/{answer.location}"
    if answer.body is not None:
        body = answer.body
    elif answer.stored is None or answer.status == 304:
        return Response(status_code=answer.status, headers=headers)
    elif request.method in ("POST", "PUT", "PATCH") and rendering.prefer_return == "minimal":
        return Response(status_code=answer.status, headers=headers)
    elif request.method in ("POST", "PUT", "PATCH") and rendering.prefer_return == "OperationOutcome":
        body = informational(f"{answer.stored.reference} stored as version {answer.stored.version_id}")
    elif rendering.plain:
        body = answer.stored.content
    else:
        body = shape(answer.stored.resource(), rendering.summary, rendering.elements)
    return Response(_bytes(body, rendering), status_code=answer.status, headers=headers, media_type=MEDIA_TYPE)


def _bytes(body: dict | bytes, rendering: Rendering) -> bytes:
    if isinstance(body, bytes):
        return jsonio.dumps(jsonio.loads(body), pretty=True) if rendering.pretty else body
    data = jsonio.dumps(body)
    # Bundles embed stored bytes as fragments; re-read them to indent the whole document.
    return jsonio.dumps(jsonio.loads(data), pretty=True) if rendering.pretty else data


def error_response(error: FhirError, request: Request | None = None) -> Response:
    pretty = request is not None and request.query_params.get("_pretty") == "true"
    return Response(jsonio.dumps(error.outcome(), pretty=pretty), status_code=error.status,
                    headers=error.headers, media_type=MEDIA_TYPE)
