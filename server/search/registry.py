"""SearchParameter registry: which parameters exist for which resource type.

Built from the official R4 SearchParameter definitions vendored in ``profiles/``,
plus SearchParameter resources created at runtime. Adding a parameter is a data
change: ``add()`` a SearchParameter resource and it is indexed and searchable.

CONTRACT (shared by extraction and the query builder; keep the public names stable):

    @dataclass(frozen=True) SearchParamDef:
        code: str              # "birthdate"
        type: str              # string|token|date|number|quantity|reference|uri|composite|special
        expression: str | None # FHIRPath for THIS resource type only (unions split per base)
        url: str
        base: tuple[str, ...]
        target: tuple[str, ...]        # reference targets
        modifier: tuple[str, ...]
        comparator: tuple[str, ...]
        component: tuple[tuple[str, str], ...]  # composite: (definition url, expression)

    class SearchRegistry:
        @classmethod default() -> SearchRegistry      # official R4 set, loaded once, cached
        def get(resource_type: str, code: str) -> SearchParamDef | None
                                                      # includes the common ones (_id, _lastUpdated,
                                                      # _tag, _profile, _security, _source) from "Resource"
        def for_type(resource_type: str) -> dict[str, SearchParamDef]
        def by_url(url: str) -> SearchParamDef | None
        def add(search_parameter: dict) -> list[SearchParamDef]   # runtime SearchParameter resource
        def remove(url: str) -> None
        resource_types: frozenset[str]

Details beyond the contract:

- A parameter whose base is ``Resource`` or ``DomainResource`` (``_id``, ``_tag``...) is
  given to every (domain) resource type with its expression re-rooted on that type
  (``Resource.meta.tag`` -> ``Patient.meta.tag``): FHIRPath engines, fhirpathpy
  included, do not match a leading supertype name against a Patient.
- ``by_url`` returns the parameter as written (all its bases, the whole expression).
- A runtime parameter with the code of an existing one shadows it for its bases;
  ``remove(url)`` brings the shadowed one back.
- ``generation`` grows on every add/remove, so callers may cache what they derive
  from ``for_type`` (extraction caches its per-type plan on it).
- A runtime parameter with the url of an official one replaces that definition (all its
  bases); ``remove(url)`` puts the official one back, under any shadowing parameter.
- ``parse_search_parameter(resource)`` runs ``add``'s checks without adding (validation
  on write).
- SearchParameter resources stored in the database reach every worker's registry through
  ``server.search.runtime``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache

from antlr4 import CommonTokenStream, InputStream
from antlr4.error.ErrorListener import ErrorListener
from fhirpathpy.models import models as _fhirpath_models
from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

from server.errors import Unprocessable

INDEXED_TYPES = frozenset({"string", "token", "date", "number", "quantity", "reference", "uri"})
ALL_TYPES = INDEXED_TYPES | {"composite", "special"}

_TYPE2PARENT: dict[str, str] = _fhirpath_models["r4"]["type2Parent"]
DOMAIN_RESOURCE_TYPES = frozenset(t for t, p in _TYPE2PARENT.items() if p == "DomainResource")
R4_RESOURCE_TYPES = DOMAIN_RESOURCE_TYPES | {
    t for t, p in _TYPE2PARENT.items() if p == "Resource" and t != "DomainResource"
}
_ABSTRACT_BASES = ("Resource", "DomainResource")


@dataclass(frozen=True)
class SearchParamDef:
    code: str
    type: str
    expression: str | None
    url: str
    base: tuple[str, ...]
    target: tuple[str, ...] = ()
    modifier: tuple[str, ...] = ()
    comparator: tuple[str, ...] = ()
    component: tuple[tuple[str, str], ...] = ()


def split_union(expression: str) -> list[str]:
    """Split a FHIRPath expression at its top-level ``|`` (outside parentheses and quotes)."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(expression):
        if quote:
            if ch == quote and expression[i - 1] != "\\":
                quote = None
        elif ch in "'`\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(expression[start:i].strip())
            start = i + 1
    parts.append(expression[start:].strip())
    return [p for p in parts if p]


_LEADING = re.compile(r"^\(*\s*([A-Za-z][A-Za-z0-9_]*)")


def _leading_type(branch: str) -> str | None:
    match = _LEADING.match(branch)
    return match.group(1) if match else None


def _reroot(branch: str, new_root: str) -> str:
    """``(Resource.meta.tag)`` -> ``(Patient.meta.tag)``: replace the leading type name."""
    match = _LEADING.match(branch)
    return branch[: match.start(1)] + new_root + branch[match.end(1) :]


def _split_per_base(expression: str | None, bases: Iterable[str]) -> dict[str, str | None]:
    """Expression for each base type: keep the union branches that start with that type.

    A branch that starts with something else (no type prefix, a supertype, a function)
    is kept for every base: evaluated on a resource it still means what it says.
    """
    bases = list(bases)
    if not expression:
        return {b: None for b in bases}
    per_base: dict[str, list[str]] = {b: [] for b in bases}
    for branch in split_union(expression):
        lead = _leading_type(branch)
        if lead in per_base:
            per_base[lead].append(branch)
        else:
            for b in bases:
                per_base[b].append(branch)
    return {b: (" | ".join(branches) or None) for b, branches in per_base.items()}


def _tuple(value) -> tuple[str, ...]:
    return tuple(value or ())


def _parse(resource: dict, *, require_expression: bool = True) -> SearchParamDef:
    """A SearchParameter resource -> the definition as written (raises Unprocessable)."""
    if not isinstance(resource, dict) or resource.get("resourceType", "SearchParameter") != "SearchParameter":
        raise Unprocessable("Not a SearchParameter resource")
    missing = [f for f in ("url", "code", "type", "base") if not resource.get(f)]
    sp_type = resource.get("type")
    if require_expression and sp_type in INDEXED_TYPES and not resource.get("expression"):
        missing.append("expression")
    if missing:
        raise Unprocessable(
            f"SearchParameter is missing {', '.join(missing)}",
            expression=[f"SearchParameter.{f}" for f in missing],
        )
    if sp_type not in ALL_TYPES:
        raise Unprocessable(f"Unknown SearchParameter.type {sp_type!r}", expression="SearchParameter.type")
    if not isinstance(resource["base"], list) or not all(isinstance(b, str) for b in resource["base"]):
        raise Unprocessable("SearchParameter.base must be a list of resource types", expression="SearchParameter.base")
    unknown = [b for b in resource["base"] if b not in R4_RESOURCE_TYPES and b not in _ABSTRACT_BASES]
    if unknown:
        raise Unprocessable(
            f"Unknown resource type(s) in base: {', '.join(unknown)}", expression="SearchParameter.base"
        )
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_\-]*", resource["code"]):
        raise Unprocessable(f"Invalid SearchParameter.code {resource['code']!r}", expression="SearchParameter.code")
    expression = resource.get("expression")
    if expression:
        _check_fhirpath(expression, "SearchParameter.expression")
    for i, comp in enumerate(resource.get("component") or ()):
        if not isinstance(comp, dict) or not comp.get("definition") or not comp.get("expression"):
            raise Unprocessable(
                "Composite component needs definition and expression", expression=f"SearchParameter.component[{i}]"
            )
        _check_fhirpath(comp["expression"], f"SearchParameter.component[{i}].expression")
    return _definition(resource)


def _definition(resource: dict) -> SearchParamDef:
    return SearchParamDef(
        code=resource["code"],
        type=resource["type"],
        expression=resource.get("expression") or None,
        url=resource["url"],
        base=_tuple(resource["base"]),
        target=_tuple(resource.get("target")),
        modifier=_tuple(resource.get("modifier")),
        comparator=_tuple(resource.get("comparator")),
        component=tuple((c["definition"], c["expression"]) for c in resource.get("component") or ()),
    )


class _RaiseOnError(ErrorListener):
    def syntaxError(self, recognizer, offendingSymbol, line, column, msg, e):  # noqa: N802 (ANTLR API)
        raise ValueError(f"at character {column + 1}: {msg}")


def _check_fhirpath(expression: str, where: str) -> None:
    """Reject at add() time what would otherwise fail on every later write.

    fhirpathpy's own ``parse`` recovers from syntax errors (``A.where(`` parses), so we
    run its generated ANTLR parser on the whole-expression rule with errors raising.
    """
    lexer = FHIRPathLexer(InputStream(expression))
    parser = FHIRPathParser(CommonTokenStream(lexer))
    for recognizer in (lexer, parser):
        recognizer.removeErrorListeners()
        recognizer.addErrorListener(_RaiseOnError())
    try:
        parser.entireExpression()
    except Exception as exc:
        raise Unprocessable(f"Invalid FHIRPath expression {expression!r}: {exc}", expression=where) from exc


def _per_type(definition: SearchParamDef) -> list[tuple[str, SearchParamDef]]:
    """One definition per concrete resource type it applies to."""
    out: list[tuple[str, SearchParamDef]] = []
    concrete = [b for b in definition.base if b not in _ABSTRACT_BASES]
    for rtype, expr in _split_per_base(definition.expression, concrete).items():
        out.append((rtype, replace(definition, expression=expr)))
    for abstract in (b for b in definition.base if b in _ABSTRACT_BASES):
        types = DOMAIN_RESOURCE_TYPES if abstract == "DomainResource" else R4_RESOURCE_TYPES
        branches = split_union(definition.expression) if definition.expression else []
        for rtype in sorted(types):
            rerooted = [_reroot(b, rtype) if _leading_type(b) in _ABSTRACT_BASES else b for b in branches]
            out.append((rtype, replace(definition, expression=" | ".join(rerooted) or None)))
    return out


def parse_search_parameter(resource: dict, *, require_expression: bool = True) -> SearchParamDef:
    """Check a SearchParameter resource as ``add`` would (raises Unprocessable naming the element).
    ``require_expression=False``: R4 makes ``expression`` optional (``_text`` has none), so a
    stored one may lack it; it is then valid, only not searchable here."""
    return _parse(resource, require_expression=require_expression)


@cache
def _official_by_url() -> dict[str, tuple[SearchParamDef, tuple[tuple[str, SearchParamDef], ...]]]:
    return {definition.url: (definition, per_type) for definition, per_type in _official()}


@cache
def _official() -> tuple[tuple[SearchParamDef, tuple[tuple[str, SearchParamDef], ...]], ...]:
    """The official R4 definitions, parsed and split once per process."""
    from profiles import load_bundle

    out = []
    for entry in load_bundle("search-parameters")["entry"]:
        definition = _definition(entry["resource"])  # trusted data: no validation pass
        out.append((definition, tuple(_per_type(definition))))
    return tuple(out)


class SearchRegistry:
    """Search parameters per resource type; ``SearchRegistry()`` is a fresh copy of the R4 set.

    ``SearchRegistry(official=False)`` starts empty (tests, tools).
    """

    _default: SearchRegistry | None = None
    _default_lock = threading.Lock()

    def __init__(self, official: bool = True):
        self.resource_types: frozenset[str] = R4_RESOURCE_TYPES
        # (type, code) -> stack of definitions, last one wins; remove() pops by url.
        self._stacks: dict[tuple[str, str], list[SearchParamDef]] = {}
        self._by_type: dict[str, dict[str, SearchParamDef]] = {}
        self._by_url: dict[str, SearchParamDef] = {}
        self._lock = threading.Lock()
        self.generation = 0
        self._with_official = official
        if official:
            for definition, per_type in _official():
                self._install(definition, per_type)

    @classmethod
    def default(cls) -> SearchRegistry:
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    def get(self, resource_type: str, code: str) -> SearchParamDef | None:
        return self._by_type.get(resource_type, {}).get(code)

    def for_type(self, resource_type: str) -> dict[str, SearchParamDef]:
        return dict(self._by_type.get(resource_type, {}))

    def by_url(self, url: str) -> SearchParamDef | None:
        return self._by_url.get(url)

    def add(self, search_parameter: dict) -> list[SearchParamDef]:
        definition = _parse(search_parameter)
        per_type = _per_type(definition)
        with self._lock:
            if definition.url in self._by_url:  # an update of the same SearchParameter
                self._uninstall(definition.url)
            self._install(definition, per_type)
            self.generation += 1
        return [d for _, d in per_type]

    def remove(self, url: str) -> None:
        with self._lock:
            self._uninstall(url)
            official = _official_by_url().get(url) if self._with_official else None
            if official is not None:  # a runtime parameter had replaced it
                self._install(*official, under=True)
            self.generation += 1

    # -- internals -------------------------------------------------------------------

    def _install(self, definition: SearchParamDef, per_type: Iterable[tuple[str, SearchParamDef]],
                 *, under: bool = False) -> None:
        self._by_url[definition.url] = definition
        for rtype, d in per_type:
            stack = self._stacks.setdefault((rtype, d.code), [])
            if under:  # back below whatever shadowed it meanwhile
                stack.insert(0, d)
            else:
                stack.append(d)
            # Copy-on-write so that readers iterating a type's dict never see it change.
            self._by_type[rtype] = {**self._by_type.get(rtype, {}), d.code: stack[-1]}

    def _uninstall(self, url: str) -> None:
        if self._by_url.pop(url, None) is None:
            return
        for (rtype, code), stack in list(self._stacks.items()):
            kept = [d for d in stack if d.url != url]
            if len(kept) == len(stack):
                continue
            params = dict(self._by_type.get(rtype, {}))
            if kept:
                self._stacks[(rtype, code)] = kept
                params[code] = kept[-1]
            else:
                del self._stacks[(rtype, code)]
                params.pop(code, None)
            self._by_type[rtype] = params
