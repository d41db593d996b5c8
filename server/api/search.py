"""The search interaction: a searchset Bundle (R4 http.html#search, search.html).

Type (``GET [base]/Observation?…``), system (``GET [base]?_type=…``) and compartment
(``GET [base]/Patient/123/Observation``, ``…/Patient/123/*``) searches, also by POST
``_search``. Entries: the page's matches (``search.mode`` match), what ``_include`` /
``_revinclude`` add (include), and an OperationOutcome listing the parameters ignored
(outcome). ``_summary`` and ``_elements`` shape matches and includes alike;
``_summary=count`` answers the total alone.

``Bundle.total`` counts the matches, never includes or the outcome. Without ``_total``
it is exact, as with ``_total=accurate``; ``_total=none`` leaves it out; ``estimate`` lets
PostgreSQL answer from its statistics for a search without criteria (exact otherwise).

Links: ``self`` (the request as received), ``first``, ``next`` and, on snapshot pages,
``previous``. Page links carry an opaque ``_page`` cursor, never an offset: see
``server.search.paging`` for why pages stay right while others write.
"""

from __future__ import annotations

from ..bundles.build import bundle, link, outcome_entry, search_entry
from ..search import service
from ..search.limits import SearchLimits, slow_search_log
from ..storage.repository import StoredResource, UnitOfWork
from .cursor import decode_cursor, encode_cursor, page_size
from .outcome import Answer
from .shaping import shape


def search(uow: UnitOfWork, ctx, base: str, resource_type: str | None, params: list[tuple[str, str]], *,
           strict: bool = False, compartment: tuple[str, str] | None = None) -> Answer:
    """``resource_type``: None for a system search; with ``compartment`` (type, id), the
    type searched in it or ``*``."""
    limits = SearchLimits.of(ctx.settings)
    types = [resource_type] if resource_type else [t for k, v in params if k == "_type" for t in v.split(",")]
    interaction = "search-compartment" if compartment else "search-type" if resource_type else "search-system"
    with slow_search_log(limits, interaction, types, [name for name, _ in params]):
        tokens = [v for k, v in params if k == "_page" and v]
        criteria = [(k, v) for k, v in params if k != "_page"]
        query = service.parse(uow, resource_type, criteria, strict=strict, compartment=compartment,
                              bases=(base, ctx.settings.base_url))
        size = page_size(ctx.settings, None if query.count is None else str(query.count))
        cursor = decode_cursor(tokens[-1]) if tokens else None
        result = service.run(uow, query, page_size=size, cursor=cursor, limits=limits)
    entries = [_entry(base, stored, "match", query) for stored in result.matches]
    entries += [_entry(base, stored, "include", query) for stored in result.included]
    if query.unknown:
        entries.append(outcome_entry(_outcome(query)))
    segments = [*compartment, resource_type] if compartment else [resource_type] if resource_type else []
    path = "/".join([base, *segments])
    return Answer(200, body=bundle("searchset", entries, _links(path, params, result), result.total))


def _entry(base: str, stored: StoredResource, mode: str, query) -> dict:
    elements = _elements_for(stored.resource_type, query.elements)
    if query.summary in (None, "false") and elements is None:
        return search_entry(base, stored, mode)  # the stored bytes, untouched
    return search_entry(base, stored, mode, resource=shape(stored.resource(), query.summary, elements))


def _elements_for(resource_type: str, elements: tuple[str, ...]) -> str | None:
    """The ``_elements`` that apply to one resource type: plain names apply to every type,
    ``Type.name`` to that type only. None (the whole resource) when nothing applies, so
    an included Patient is not stripped bare by ``_elements=Observation.code``."""
    names = [e.split(".", 1)[1] if "." in e else e for e in elements
             if "." not in e or e.split(".", 1)[0] == resource_type]
    return ",".join(names) if names else None


def _links(path: str, params: list[tuple[str, str]], result: service.SearchResult) -> list[dict]:
    # Page links start from the request without its cursor or offset: the cursor says where.
    plain = [(k, v) for k, v in params if k not in ("_page", "_offset")]

    def at(cursor: list) -> list[tuple[str, str]]:
        return [*plain, ("_page", encode_cursor(cursor))]

    links = [link("self", path, params), link("first", path, at(result.first) if result.first else plain)]
    if result.previous:
        links.append(link("previous", path, at(result.previous)))
    if result.next:
        links.append(link("next", path, at(result.next)))
    return links


def _outcome(query) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "warning", "code": "not-supported", "diagnostics": service.unknown_text(u), "expression": [u.name]}
            for u in query.unknown
        ],
    }
