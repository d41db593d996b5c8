"""Turn a parsed ``SearchQuery`` into one SQLAlchemy ``Select`` of ``resource.pid``.

The query reads only the ``resource`` pointer table and the ``idx_*`` tables; every
criterion is an ``IN`` / ``NOT EXISTS`` on an index table (see ``sql.common`` for why),
chains and ``_has`` nest those on aliases of ``resource``. Nothing is joined, so no
DISTINCT is ever needed and LIMIT/OFFSET count resources, not index rows.

Sorting: ``_id`` and ``_lastUpdated`` read the resource row; other parameters use a
correlated scalar subquery on their index (ascending by the lowest value a resource
has, descending by the highest, as most servers do), missing values last. ``pid``
always closes the ordering so that it is total.

Without ``_sort`` the order is ``pid`` ascending: creation order, oldest first. The spec
leaves the default to the server; ``pid`` is the one key no write ever changes, so
paging over it by keyset is exact while others write (``_lastUpdated`` changes on every
update: a keyset over it serves an updated resource twice or never; see
``server.search.paging``). Clients that want the newest first say ``_sort=-_lastUpdated``.

Server-made criteria (compartment membership, ``server.search.compartment``) go in
``SearchQuery.criteria`` beside the parsed ones: anything with a ``selectivity`` and a
``condition(scope)``.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import ColumnElement, Select, exists, false, func, literal, select, tuple_

from server.search.index_rows import TEXT_PARAMS
from server.search.parse import Criterion, HasCriterion, SearchQuery, SortKey
from server.search.parse_values import MissingValue
from server.search.sql import composite, date, number, quantity, reference, string, text, token, uri
from server.search.sql.common import Scope, has_row, index_alias, type_filter
from server.storage.models import Resource

RESOURCE = Resource.__table__
DEFAULT_COUNT = 20


class ServerCriterion(Protocol):
    """A condition the server adds to a search (not parsed from the request)."""

    selectivity: int  # as ``selectivity()`` ranks parsed criteria

    def condition(self, scope: Scope) -> ColumnElement[bool]: ...


CONDITIONS = {
    "string": string.condition,
    "token": token.condition,
    "date": date.condition,
    "number": number.condition,
    "quantity": quantity.condition,
    "reference": reference.condition,
    "uri": uri.condition,
    "composite": composite.condition,
}

# The index column a sort reads, and for dates the end of the range each direction uses.
SORT_COLUMNS = {
    "string": ("value", "value"),
    "token": ("code", "code"),
    "date": ("low", "high"),
    "number": ("value", "value"),
    "quantity": ("value", "value"),
    "reference": ("target_id", "target_id"),
    "uri": ("uri", "uri"),
}


def build_search(query: SearchQuery, registry=None, *, page_size: int | None = None, extra: int = 0) -> Select:
    """``SELECT resource.pid … ORDER BY … LIMIT count + extra OFFSET offset``.

    ``page_size`` is used when the request has no ``_count``; pass ``extra=1`` to learn
    whether a next page exists without a second query. ``registry`` is accepted for
    symmetry with ``parse_search``: parsing already resolved every parameter.
    """
    res = RESOURCE
    count = query.count if query.count is not None else (page_size or DEFAULT_COUNT)
    stmt = select(res.c.pid).where(*_where(query.types, query.criteria, res)).order_by(*ordering(query, res))
    return stmt.limit(count + extra).offset(query.offset or None)


def count_search(query: SearchQuery, registry=None) -> Select:
    """``SELECT count(*)`` of every match, for ``_total=accurate`` (no order, no paging)."""
    return select(func.count()).select_from(RESOURCE).where(*_where(query.types, query.criteria, RESOURCE))


def filtered(query: SearchQuery, *columns) -> Select:
    """``SELECT <columns>`` of the matching ``resource`` rows: no order, no paging."""
    return select(*columns).select_from(RESOURCE).where(*_where(query.types, query.criteria, RESOURCE))


def match_pids(types: tuple[str, ...], criteria) -> Select:
    """Unordered ``SELECT pid`` of live resources of ``types`` matching every criterion."""
    res, where = _live(types, criteria)
    return select(res.c.pid).where(*where).correlate(None)


def _live(types: tuple[str, ...], criteria) -> tuple:
    """A fresh ``resource`` alias and the conditions selecting matching live rows on it."""
    res = RESOURCE.alias()
    return res, _where(types, criteria, res)


def _where(types: tuple[str, ...], criteria, res) -> list:
    """Type and ``deleted`` filters, then the criteria, most selective first (it drives).

    The type filter is left out when the driving criterion is a match on index rows of
    those types: it adds nothing, and PostgreSQL would multiply its selectivity into the
    estimate of the driver's rows (the ``Patient`` share of all resources times the
    Patients a name matched: 2 estimated, 166 found), then choose nested loops over a
    chain's thousands of referrers.
    """
    ordered = sorted(criteria, key=selectivity)
    scope = Scope(res, types)
    conds = [criterion_condition(c, scope if i == 0 else scope.probe()) for i, c in enumerate(ordered)]
    typed = [] if ordered and _matches_index_rows(ordered[0]) else type_filter(res.c.resource_type, types)
    return [*typed, res.c.deleted == false(), *conds]


_ROW_TYPES = ("string", "token", "date", "number", "quantity", "reference", "uri")


def _matches_index_rows(crit) -> bool:
    """True when the criterion is ``pid IN (index rows of the searched types …)``."""
    if not isinstance(crit, Criterion) or crit.code in ("_id", "_lastUpdated", "_list") or crit.code in TEXT_PARAMS:
        return False
    if crit.chain is not None:
        return True
    return (crit.param.type in _ROW_TYPES and crit.modifier not in ("not", "not-in")
            and not isinstance(crit.values[0], MissingValue))


def selectivity(crit: Criterion | HasCriterion) -> int:
    """A static guess at how few rows a criterion matches (lower: fewer), to pick the driver.

    SQLite drives from the first IN list it is given and has no statistics to do better;
    PostgreSQL reorders by its own statistics whatever this says. Ties keep the order of
    the request. Chains and ``_has`` rank with bare codes: both are sometimes narrow
    (``subject.identifier=…``, ``code=<loinc>``) and sometimes broad (``status=final``).
    """
    if not isinstance(crit, (Criterion, HasCriterion)):
        return crit.selectivity
    if isinstance(crit, HasCriterion) or crit.chain is not None:
        return 2
    if crit.code == "_id":
        return 0 if crit.modifier is None else 6
    first = crit.values[0]
    if isinstance(first, MissingValue) or crit.modifier in ("not", "not-in"):
        return 6  # NOT EXISTS / "has any value": never a good driver
    kind = crit.param.type
    if crit.code in TEXT_PARAMS:
        return 5
    if kind == "reference" or (kind == "uri" and crit.modifier is None) or crit.modifier in ("exact", "of-type"):
        return 1
    if kind == "composite" or crit.code == "_list":  # composites lead with a code; lists are short
        return 1
    if crit.modifier in ("in", "below", "above"):
        return 3
    if kind == "token" and crit.modifier is None:
        if all(v.code is not None and v.has_system for v in crit.values):
            return 1
        return 2 if all(v.code is not None for v in crit.values) else 4
    if kind in ("string", "uri", "number", "quantity") and crit.modifier != "contains":
        return 4
    return 5  # date ranges, _lastUpdated, :contains, :text


def criterion_condition(crit: Criterion | HasCriterion | ServerCriterion, scope: Scope):
    if not isinstance(crit, (Criterion, HasCriterion)):
        return crit.condition(scope)
    if isinstance(crit, HasCriterion):
        return _has_condition(crit, scope)
    if crit.chain is not None:
        return _chain_condition(crit, scope)
    if crit.code == "_id":
        return _id_condition(crit, scope)
    if crit.code == "_lastUpdated":
        return date.last_updated_condition(crit, scope)
    if crit.code in TEXT_PARAMS:
        return text.condition(crit, scope)
    if crit.code == "_list":
        return _list_condition(crit, scope)
    return CONDITIONS[crit.param.type](crit, scope)


def _id_condition(crit: Criterion, scope: Scope):
    first = crit.values[0]
    if isinstance(first, MissingValue):  # every resource has an id
        return false() if first.missing else ~false()
    cond = scope.res.c.fhir_id.in_([v.code for v in crit.values])
    return ~cond if crit.modifier == "not" else cond


def _list_condition(crit: Criterion, scope: Scope):
    """``_list=42``: the resource is an ``entry.item`` of List/42 (its ``item`` reference rows).

    Index rows exist only for live resources, so a deleted List lists nothing.
    """
    ref, lists = index_alias("reference"), RESOURCE.alias()
    list_pids = select(lists.c.pid).where(lists.c.resource_type == "List", lists.c.fhir_id.in_([v.code for v in crit.values]))
    where = [
        ref.c.resource_type == "List",
        ref.c.param == "item",
        ref.c.pid.in_(list_pids.correlate(None)),
        *type_filter(ref.c.target_type, scope.types),
    ]
    if len(scope.types) == 1:
        return scope.res.c.fhir_id.in_(select(ref.c.target_id).where(*where).correlate(None))
    pair = tuple_(scope.res.c.resource_type, scope.res.c.fhir_id)
    return pair.in_(select(ref.c.target_type, ref.c.target_id).where(*where).correlate(None))


def _chain_condition(crit: Criterion, scope: Scope):
    """``subject:Patient.name=x``: a reference whose (type, id) is a matching target.

    The target side is a full resource query (its own type filter, ``deleted``, and the
    chained criterion, itself possibly chained). With one candidate target type it is
    ``target_type = 'Patient' AND target_id IN (SELECT fhir_id …)``, as for ``_has``:
    PostgreSQL estimates a one-column IN from the subquery's statistics, where it put a
    row-value IN at a handful of rows and chose nested loops (70k probes, 1.4 s at 1M).
    Several candidate types match on ``(target_type, target_id)`` in one subquery.
    """
    ref = index_alias("reference")
    target, target_where = _live(crit.chain.types, [crit.chain])
    if len(crit.chain.types) == 1:
        ids = select(target.c.fhir_id).where(*target_where).correlate(None)
        pred = (ref.c.target_type == crit.chain.types[0]) & ref.c.target_id.in_(ids)
    else:
        targets = select(target.c.resource_type, target.c.fhir_id).where(*target_where).correlate(None)
        pred = tuple_(ref.c.target_type, ref.c.target_id).in_(targets)
    return has_row(ref, scope, crit.code, pred)


def _has_condition(crit: HasCriterion, scope: Scope):
    """``_has:Observation:subject:code=x``: some Observation matching ``code=x`` refers here."""
    ref = index_alias("reference")
    source = (crit.source_type,)
    if _reads_pid_only(crit.inner):
        # Index rows exist only for live resources, so the referring rows themselves can
        # carry the inner criterion: no detour through ``resource`` (one probe per source).
        matches = criterion_condition(crit.inner, Scope(ref, source))
    else:
        matches = ref.c.pid.in_(match_pids(source, [crit.inner]))
    where = [ref.c.resource_type == crit.source_type, ref.c.param == crit.ref_param.code, matches]
    one_type = len(scope.types) == 1
    if one_type:
        where.append(ref.c.target_type == scope.types[0])
    if not scope.drive:
        where += [ref.c.target_id == scope.res.c.fhir_id]
        if not one_type:
            where.append(ref.c.target_type == scope.res.c.resource_type)
        return exists(select(literal(1)).select_from(ref).where(*where).correlate(scope.res))
    if one_type:
        return scope.res.c.fhir_id.in_(select(ref.c.target_id).where(*where).correlate(None))
    pair = tuple_(scope.res.c.resource_type, scope.res.c.fhir_id)
    return pair.in_(select(ref.c.target_type, ref.c.target_id).where(*where).correlate(None))


def _reads_pid_only(crit: Criterion | HasCriterion) -> bool:
    """True when the condition needs nothing of the resource row but its pid."""
    return isinstance(crit, Criterion) and crit.code not in ("_id", "_lastUpdated", "_list")


# --- ordering -----------------------------------------------------------------------------


def sort_columns(query: SearchQuery, res=RESOURCE) -> list[tuple[ColumnElement, bool]]:
    """``(expression, descending)`` per sort key, closed by ``pid`` ascending (unique)."""
    return [*((_sort_column(k, res, query.types), k.descending) for k in query.sort), (res.c.pid, False)]


def ordering(query: SearchQuery, res=RESOURCE) -> list:
    """The ORDER BY clauses of ``sort_columns``: missing values last either way; ``pid``
    plain, so that PostgreSQL can walk the primary key for the default order."""
    *keys, (pid, _) = sort_columns(query, res)
    return [*((col.desc() if desc else col.asc()).nulls_last() for col, desc in keys), pid]


def _sort_column(key: SortKey, res, types):
    if key.code == "_id":
        return res.c.fhir_id
    if key.code == "_lastUpdated":
        return res.c.last_updated
    t = index_alias(key.param.type)
    name = SORT_COLUMNS[key.param.type][1 if key.descending else 0]
    agg = func.max if key.descending else func.min
    where = [t.c.pid == res.c.pid, *type_filter(t.c.resource_type, types), t.c.param == key.code]
    # GROUP BY pid (one group: pid is fixed) turns off SQLite's min/max optimisation, which
    # would walk the (resource_type, param, value) index for every row sorted (measured:
    # 200 ms for 800 Patients by name) instead of probing the pid index (1 ms).
    return select(agg(t.c[name])).where(*where).group_by(t.c.pid).correlate(res).scalar_subquery()
