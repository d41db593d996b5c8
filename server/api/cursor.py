"""Paging parameters shared by history and search: the page size and opaque ``_page`` cursors.

A cursor is whatever list of JSON values the interaction needs to find its next page
(keys of the last entry, a snapshot position); clients see it as an opaque token.
"""

from __future__ import annotations

import base64

from .. import jsonio
from ..errors import BadRequest


def page_size(settings, raw: str | None) -> int:
    """``_count`` as given (capped at the configured maximum), or the default."""
    if raw is None:
        return settings.default_page_size
    if not raw.isdigit():
        raise BadRequest("_count must be a non-negative integer", expression="_count")
    return min(int(raw), settings.max_page_size)


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(jsonio.dumps(values)).decode().rstrip("=")


def decode_cursor(token: str) -> list:
    try:
        values = jsonio.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, BadRequest) as exc:
        raise BadRequest("_page is not a cursor this server issued", expression="_page") from exc
    if not isinstance(values, list) or not values:
        raise BadRequest("_page is not a cursor this server issued", expression="_page")
    return values
