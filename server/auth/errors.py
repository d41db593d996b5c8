"""OAuth 2.0 error responses (RFC 6749 section 5.2)."""

from __future__ import annotations

from starlette.responses import JSONResponse

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Browser apps (public clients) call discovery, token, introspection and revocation cross-origin.
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS", "Access-Control-Max-Age": "600"}


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401)


def error_response(exc: OAuthError) -> JSONResponse:
    return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=exc.status,
                        headers={**NO_STORE, **CORS})


def json_response(body: dict, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **CORS})
