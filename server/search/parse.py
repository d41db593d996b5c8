"""Parse a FHIR search request into a ``SearchQuery`` (http://hl7.org/fhir/R4/search.html).

Pure: no database, no clock. Parameters resolve against the ``SearchRegistry``; a parameter
the registry does not know (or a kind we cannot search) is not an error here but lands in
``SearchQuery.unknown`` so the caller can choose lenient or strict handling (the
``Prefer: handling`` header). Malformed values and unsupported modifiers on known
parameters are errors (``BadRequest``): the spec says a server SHALL reject them.

Shape: repeated parameters AND together (``criteria``), comma values OR inside one
``Criterion``. A chained parameter (``subject:Patient.name``) is a ``Criterion`` on the
reference whose ``chain`` is the criterion to apply to the target; ``_has`` becomes a
``HasCriterion`` whose ``inner`` applies to the referring resources.

Composites take ``$``-separated values typed by their components' SearchParameters;
token ``:in``/``:not-in``/``:below``/``:above`` are resolved to code sets here (through
``terminology``), so an unknown ValueSet is a 400 before any SQL; ``_text`` and
``_content`` take words; ``_list`` takes List ids (functional ``$…`` lists are reported
unknown).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.errors import BadRequest
from server.search.extract.composite import indexed_as
from server.search.index_rows import TEXT_PARAMS
from server.search.parse_values import (
    MissingValue,
    StringValue,
    TokenValue,
    Value,
    parse_composite,
    parse_value,
    split_escaped,
    unescape,
)
from server.search.registry import INDEXED_TYPES, SearchParamDef

# Modifiers we implement, by parameter type. A reference also takes a resource type.
MODIFIERS: dict[str, frozenset[str]] = {
    "string": frozenset({"missing", "exact", "contains"}),
    "token": frozenset({"missing", "not", "text", "of-type", "in", "not-in", "below", "above"}),
    "reference": frozenset({"missing", "identifier"}),
    "date": frozenset({"missing"}),
    "number": frozenset({"missing"}),
    "quantity": frozenset({"missing"}),
    "uri": frozenset({"missing", "above", "below"}),
    "composite": frozenset(),
}
SEARCHABLE_TYPES = frozenset(MODIFIERS)
SORTABLE_TYPES = SEARCHABLE_TYPES - {"composite"}
SUMMARY = frozenset({"true", "false", "text", "data", "count"})
TOTAL = frozenset({"none", "estimate", "accurate"})
IGNORED = frozenset({"_format", "_pretty"})  # negotiation, handled by the HTTP layer
NOT_SUPPORTED = frozenset({"_query", "_filter", "_contained", "_containedType"})

# ``_list=<List id>``: resources in that List's entries (search.html#list). R4 defines no
# SearchParameter for it, so this definition stands in for one in the parsed query.
LIST_PARAM = SearchParamDef(
    code="_list", type="special", expression=None, url="http://hl7.org/fhir/R4/search.html#list", base=("Resource",)
)


@dataclass(frozen=True)
class Criterion:
    name: str  # as written, e.g. "subject:Patient.name" (for error messages)
    param: SearchParamDef
    types: tuple[str, ...]  # resource types it is evaluated on; () = any (system search)
    modifier: str | None = None
    values: tuple[Value, ...] = ()  # OR
    chain: Criterion | HasCriterion | None = None  # chained reference: applies to the target
    composites: tuple[str, ...] = ()  # composite: the composites whose rows answer it (extract.composite)

    @property
    def code(self) -> str:
        return self.param.code


@dataclass(frozen=True)
class HasCriterion:  # _has:<source_type>:<ref_param>:<inner>
    name: str
    source_type: str
    ref_param: SearchParamDef  # of type reference, on source_type
    types: tuple[str, ...]  # the types being searched (the reference targets)
    inner: Criterion | HasCriterion


@dataclass(frozen=True)
class SortKey:
    code: str
    param: SearchParamDef
    descending: bool = False


@dataclass(frozen=True)
class IncludeSpec:
    source_type: str  # "*" for "_include=*"
    param: str  # reference parameter code, or "*" for all of them
    target_type: str | None = None
    iterate: bool = False


@dataclass(frozen=True)
class UnknownParam:
    name: str
    value: str
    reason: str


@dataclass
class SearchQuery:
    resource_type: str | None  # None: system-level search
    types: tuple[str, ...]  # searched types: (resource_type,), _type's list, or () for all
    criteria: list[Criterion | HasCriterion] = field(default_factory=list)  # AND
    sort: list[SortKey] = field(default_factory=list)
    count: int | None = None
    offset: int = 0
    total: str | None = None
    summary: str | None = None
    elements: tuple[str, ...] = ()
    includes: list[IncludeSpec] = field(default_factory=list)
    revincludes: list[IncludeSpec] = field(default_factory=list)
    unknown: list[UnknownParam] = field(default_factory=list)


def parse_search(resource_type: str | None, params: list[tuple[str, str]], registry) -> SearchQuery:
    types: tuple[str, ...] = (resource_type,) if resource_type else ()
    q = SearchQuery(resource_type, types)
    type_values = [v for k, v in params if k == "_type"]
    if type_values and resource_type is None:
        q.types = tuple(dict.fromkeys(t for v in type_values for t in _csv(v)))
        for t in q.types:
            if t not in registry.resource_types:
                raise BadRequest(f"Unknown resource type '{t}' in _type", expression="_type")
    for name, raw in params:
        if name in IGNORED or (name == "_type" and resource_type is None):
            continue
        _parse_one(q, registry, name, raw)
    return q


def _parse_one(q: SearchQuery, registry, name: str, raw: str) -> None:
    base, _, mod = name.partition(":")
    if base == "_sort":
        q.sort += [k for k in (_sort_key(q, registry, s) for s in _csv(raw)) if k]
    elif base == "_count":
        q.count = _non_negative(name, raw)
    elif base == "_offset":
        q.offset = _non_negative(name, raw)
    elif base == "_total":
        q.total = _one_of(name, raw, TOTAL)
    elif base == "_summary":
        q.summary = _one_of(name, raw, SUMMARY)
    elif base == "_elements":
        q.elements += tuple(_csv(raw))
    elif base in ("_include", "_revinclude"):
        if mod not in ("", "iterate", "recurse"):  # "recurse" is the STU3 spelling of iterate
            raise BadRequest(f"Unknown modifier on {name}", expression=name)
        spec = _include_spec(registry, name, raw, bool(mod))
        if spec is None:
            q.unknown.append(UnknownParam(name, raw, "unknown source type or reference parameter"))
        else:
            (q.includes if base == "_include" else q.revincludes).append(spec)
    elif base == "_list":
        crit = _list(q, name, mod, raw)
        if crit is not None:
            q.criteria.append(crit)
    elif base in NOT_SUPPORTED:
        q.unknown.append(UnknownParam(name, raw, "not supported"))
    elif base == "_type":
        q.unknown.append(UnknownParam(name, raw, "_type applies to system-level searches only"))
    elif not any(split_escaped(raw, ",")):
        return  # an empty value is the same as the parameter being absent
    else:
        crit = _criterion(registry, q.types, name, raw)
        if crit is None:
            q.unknown.append(UnknownParam(name, raw, _why_unknown(registry, q.types, name)))
        else:
            q.criteria.append(crit)


# --- criteria -----------------------------------------------------------------------------


def _criterion(registry, types, name: str, raw: str) -> Criterion | HasCriterion | None:
    if name.startswith("_has:"):
        return _has(registry, types, name, raw)
    head, dot, rest = name.partition(".")
    code, _, modifier = head.partition(":")
    param = _lookup(registry, types, code, name)
    if param is None:
        return None
    if param.type not in SEARCHABLE_TYPES:
        return None  # special: reported as unsupported by the caller
    if dot:
        return _chain(registry, types, name, param, modifier or None, rest, raw)
    modifier = modifier or None
    pieces = [p for p in split_escaped(raw, ",") if p]
    if param.code in TEXT_PARAMS:  # whole-text search: words, no modifiers
        if modifier is not None:
            raise BadRequest(f"'{code}' takes no modifier", code="not-supported", expression=name)
        return Criterion(name, param, types, None, tuple(StringValue(unescape(p)) for p in pieces))
    _check_modifier(registry, param, modifier, name)
    if param.type == "composite":
        component_types = _component_types(registry, param)
        if component_types is None:
            return None
        values = tuple(parse_composite(component_types, p, name) for p in pieces)
        # Per searched type, the composites whose rows answer it (their union: harmless
        # where a type has none of some code's rows).
        codes = {c for t in types for c in indexed_as(registry, t, param)} or {param.code}
        return Criterion(name, param, types, None, values, composites=tuple(sorted(codes)))
    values = tuple(parse_value(param.type, modifier, p, name) for p in pieces)
    if any(isinstance(v, MissingValue) for v in values) and len(values) > 1:
        raise BadRequest(f"':missing' takes a single true/false ({name})", expression=name)
    return Criterion(name, param, types, modifier, values)


def _component_types(registry, param: SearchParamDef) -> tuple[str, ...] | None:
    """The types of a composite's components, from their SearchParameters; None if unknown."""
    found = [registry.by_url(definition) for definition, _ in param.component]
    if not found or any(d is None or d.type not in INDEXED_TYPES for d in found):
        return None
    return tuple(d.type for d in found)


def _list(q: SearchQuery, name: str, modifier: str, raw: str) -> Criterion | None:
    ids = [unescape(p).strip() for p in split_escaped(raw, ",") if p.strip()]
    if modifier:
        raise BadRequest(f"'_list' takes no modifier ({name})", code="not-supported", expression=name)
    if any(i.startswith("$") for i in ids):
        q.unknown.append(UnknownParam(name, raw, "functional lists ($current-allergies...) are not supported"))
        return None
    if not ids:
        return None
    return Criterion(name, LIST_PARAM, q.types, None, tuple(TokenValue(i) for i in ids))


def _chain(registry, types, name, param, modifier, rest, raw) -> Criterion | None:
    if param.type != "reference":
        raise BadRequest(f"'{param.code}' is not a reference and cannot be chained", expression=name)
    if modifier and modifier not in registry.resource_types:
        raise BadRequest(f"Unknown resource type modifier in '{name}'", expression=name)
    candidates = (modifier,) if modifier else (tuple(param.target) or tuple(sorted(registry.resource_types)))
    next_code = rest.split(".", 1)[0].split(":", 1)[0]
    targets = tuple(
        t for t in candidates if next_code == "_has" or registry.get(t, next_code) is not None
    )
    if not targets:
        return None
    sub = _criterion(registry, targets, rest, raw)
    return None if sub is None else Criterion(name, param, types, modifier, (), chain=sub)


def _has(registry, types, name: str, raw: str) -> HasCriterion | None:
    parts = name.split(":", 3)
    if len(parts) < 4 or not all(parts):
        raise BadRequest(f"'{name}' should read _has:Type:reference:parameter", expression=name)
    _, source, ref_code, inner_name = parts
    if not types:
        raise BadRequest("_has needs a resource type to search", expression=name)
    if source not in registry.resource_types:
        return None
    ref = registry.get(source, ref_code)
    if ref is None or ref.type != "reference":
        return None
    inner = _criterion(registry, (source,), inner_name, raw)
    return None if inner is None else HasCriterion(name, source, ref, types, inner)


def _lookup(registry, types, code: str, name: str):
    """The definition of ``code`` for every searched type (they must agree on its type)."""
    # System level without _type: only parameters every resource type has (_id, _tag...).
    defs = [registry.get(t, code) for t in (types or sorted(registry.resource_types))]
    if any(d is None for d in defs):
        return None
    if len({d.type for d in defs}) > 1:
        raise BadRequest(f"'{code}' has different types across {', '.join(types)}", expression=name)
    return defs[0]


def _check_modifier(registry, param, modifier: str | None, name: str) -> None:
    if modifier is None or modifier in MODIFIERS[param.type]:
        return
    if param.type == "reference" and modifier in registry.resource_types:
        if param.target and modifier not in param.target:
            raise BadRequest(f"'{param.code}' cannot refer to a {modifier}", expression=name)
        return
    raise BadRequest(
        f"Modifier ':{modifier}' is not supported on '{param.code}' ({param.type})",
        code="not-supported",
        expression=name,
    )


# --- result parameters --------------------------------------------------------------------


def _sort_key(q: SearchQuery, registry, item: str) -> SortKey | None:
    desc = item.startswith("-")
    code = item[1:] if desc else item
    param = _lookup(registry, q.types, code, "_sort")
    if param is None or param.type not in SORTABLE_TYPES or code in TEXT_PARAMS:
        q.unknown.append(UnknownParam("_sort", item, f"cannot sort {_where(q.types)} by '{code}'"))
        return None
    return SortKey(code, param, desc)


def _include_spec(registry, name: str, raw: str, iterate: bool) -> IncludeSpec | None:
    if raw == "*":
        return IncludeSpec("*", "*", None, iterate)
    parts = raw.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise BadRequest(f"{name} should read Type:parameter[:targetType], got '{raw}'", expression=name)
    source, code = parts[0], parts[1]
    target = parts[2] if len(parts) == 3 else None
    if source not in registry.resource_types or (target and target not in registry.resource_types):
        return None
    if code != "*":
        param = registry.get(source, code)
        if param is None or param.type != "reference":
            return None
    return IncludeSpec(source, code, target, iterate)


def _why_unknown(registry, types, name: str) -> str:
    code = name.split(".", 1)[0].split(":", 1)[0]
    param = None if code == "_has" else _lookup(registry, types, code, name)
    if param is not None and param.type not in SEARCHABLE_TYPES:
        return f"{param.type} search parameters are not supported"
    if param is not None or code == "_has":
        return "the chained or reverse-chained parameter is unknown"
    return f"unknown search parameter for {_where(types)}"


def _csv(raw: str) -> list[str]:
    return [s.strip() for s in raw.split(",") if s.strip()]


def _non_negative(name: str, raw: str) -> int:
    if not raw.isdigit():
        raise BadRequest(f"{name} must be a non-negative integer, got '{raw}'", expression=name)
    return int(raw)


def _one_of(name: str, raw: str, allowed: frozenset[str]) -> str:
    if raw not in allowed:
        raise BadRequest(f"{name} must be one of {', '.join(sorted(allowed))}", expression=name)
    return raw


def _where(types: tuple[str, ...]) -> str:
    return ", ".join(types) if types else "all resource types"
