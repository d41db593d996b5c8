"""The history interaction (instance, type, system): a Bundle of type history.

Paging uses a keyset cursor (the last entry's lastUpdated, key and version) carried
in ``_page``: a page never repeats or skips entries because others wrote meanwhile.
"""

from __future__ import annotations

from datetime import datetime

from ..authz.history import history_reach
from ..bundles.build import bundle, entry_for_version, link
from ..errors import BadRequest
from ..search.parse_values import parse_date_range
from ..storage.repository import UnitOfWork
from .cursor import decode_cursor, encode_cursor, page_size
from .outcome import Answer


def _instant(name: str, value: str | None) -> tuple[datetime, datetime] | None:
    return None if value is None else parse_date_range(value, name)


def history(uow: UnitOfWork, ctx, base: str, params: list[tuple[str, str]], resource_type: str | None = None,
            fhir_id: str | None = None) -> Answer:
    reach = history_reach(uow, resource_type, fhir_id)  # None: the token sees every version
    q = dict(params)
    count = page_size(ctx.settings, q.get("_count"))
    since = _instant("_since", q.get("_since"))
    at = _instant("_at", q.get("_at"))
    before = None
    if q.get("_page"):
        try:
            stamp, pid, version = decode_cursor(q["_page"])
            before = (datetime.fromisoformat(stamp), int(pid), int(version))
        except (ValueError, TypeError) as exc:
            raise BadRequest("_page is not a cursor this server issued", expression="_page") from exc
    versions = uow.history(resource_type, fhir_id, since=since[0] if since else None, at=at, before=before,
                           count=count, visible=reach.where if reach else None)
    path = "/".join(p for p in (base, resource_type, fhir_id, "_history") if p)
    links = [link("self", path, params)]
    if len(versions) == count and count > 0:
        last = versions[-1]
        cursor = encode_cursor([last.last_updated.isoformat(), last.pid, last.version_id])
        links.append(link("next", path, [*((k, v) for k, v in params if k != "_page"), ("_page", cursor)]))
    total = uow.count_versions(resource_type, fhir_id) if fhir_id and not (since or at) else None
    if reach is not None:
        shown = reach.keep(uow, versions)  # the cursor above stays on the last version read
        if total is not None and reach.judges_versions(resource_type) and total != len(shown):
            total = None  # some versions may be out of reach: how many is not said
        versions = shown
    return Answer(200, body=bundle("history", [entry_for_version(base, v) for v in versions], links, total))

