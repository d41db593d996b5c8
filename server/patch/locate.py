"""Where in the JSON a FHIRPath expression points.

A patch must change the elements a path selects, so values are not enough: we need
each element's slot (parent object, key, list index). fhirpathpy only returns values,
and a primitive value (``"male"``, ``True``, ``1``) does not say where it came from.
So we walk the path's syntax tree ourselves for the steps that navigate
(``Patient``, ``.name``, ``[0]``), which gives exact slots, and hand every other step
(``where()``, ``first()``, ``ofType()`` ...) to fhirpathpy, finding its results among the
slots of its input by object identity (exact for objects; for equal primitives the
first unused slot is taken, which holds the same value).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import fhirpathpy
from antlr4 import CommonTokenStream, InputStream
from antlr4.error.ErrorListener import ErrorListener
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models as fhirpath_models
from fhirpathpy.parser import parse as fhirpath_parse
from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

from . import elements
from .elements import Element, Shape

R4 = fhirpath_models["r4"]  # lets fhirpathpy resolve choice types (Patient.deceased)


class PathSyntaxError(ValueError):
    pass


class PathEvaluationError(ValueError):
    pass


@dataclass
class Location:
    """One element of the resource: ``parent[key]`` or ``parent[key][index]``.

    ``parent`` is None for the resource itself. When known: ``shape`` is the shape of
    the value (if complex), ``owner`` that of ``parent``, ``element`` the definition of
    ``parent[key]``.
    """

    parent: dict | None
    key: str | None
    index: int | None
    value: Any
    shape: Shape | None
    owner: Shape | None = None
    element: Element | None = None

    @property
    def slot(self) -> tuple:
        return (id(self.parent), self.key, self.index)

    def extension_holder(self, create: bool = False) -> dict | None:
        """The ``_key`` object holding a primitive's ``id`` and ``extension``."""
        if self.parent is None:
            return None
        hkey = "_" + self.key
        if self.index is None:
            if create:
                self.parent.setdefault(hkey, {})
            return self.parent.get(hkey)
        holders = self.parent.get(hkey)
        if create:
            holders = self.parent.setdefault(hkey, [])
            holders.extend([None] * (self.index + 1 - len(holders)))
            if holders[self.index] is None:
                holders[self.index] = {}
        if not holders or self.index >= len(holders):
            return None
        return holders[self.index]


def parse(path: str) -> dict:
    """fhirpathpy's syntax tree for ``path``; PathSyntaxError if it is not FHIRPath.

    fhirpathpy's own parser silently recovers from syntax errors, so we check first.
    """
    path = _quote_keyword_members(path)
    parser = FHIRPathParser(CommonTokenStream(_lexer(path)))
    parser.removeErrorListeners()
    parser.addErrorListener(_RaiseOnSyntaxError())
    parser.entireExpression()  # requires the whole text to be one expression
    tree = fhirpath_parse(path)
    if not tree.get("children"):
        raise PathSyntaxError("empty expression")
    return tree["children"][0]


# Element names that are FHIRPath keywords: strictly they must be quoted (`div`), but
# paths like Patient.text.div are common (the official cases use one), so after a "."
# we quote them ourselves. Strings and quoted names are matched first and kept as is.
_KEYWORD_MEMBER = re.compile(
    r"('(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`)"  # a string or a quoted name: keep
    r"|(?<=\.)(div|mod|and|or|xor|implies)\b"  # a keyword after a dot: quote it
)


def _quote_keyword_members(path: str) -> str:
    return _KEYWORD_MEMBER.sub(lambda m: m.group(1) or f"`{m.group(2)}`", path)


def locate(resource: dict, tree: dict) -> list[Location]:
    """Every element of ``resource`` the expression ``tree`` selects, in order."""
    return _Locator(resource).locate(tree, strict=True)


def member_step(resource: dict, tree: dict) -> tuple[list[Location], str] | None:
    """For a path ending in a member step (``base.name``): the locations of ``base`` and
    ``name``. This finds a list even when it is absent or empty (insert at 0)."""
    kind, children = tree["type"], tree.get("children", [])
    locator = _Locator(resource)
    if kind == "InvocationExpression" and children[1]["type"] == "MemberInvocation":
        return locator.locate(children[0], strict=True), _identifier(children[1])
    if kind == "TermExpression" and children[0]["type"] == "InvocationTerm":
        invocation = children[0]["children"][0]
        if invocation["type"] == "MemberInvocation" and not _identifier(invocation)[:1].isupper():
            return [locator.root], _identifier(invocation)
    return None


def json_key(obj: dict, name: str, shape: Shape | None) -> str | None:
    """The key of element ``name`` in ``obj`` (a choice element is stored with its type)."""
    if name in obj:
        return name
    if shape is not None:
        return next((k for k in elements.choice_keys(shape, name) if k in obj), None)
    return None


class _Locator:
    def __init__(self, resource: dict):
        self.root = Location(None, None, None, resource, elements.shape_of(resource, None))
        self._everything: list[Location] | None = None

    def locate(self, node: dict, strict: bool = False) -> list[Location]:
        """``strict``: fail if the result holds values that are not elements (only
        matters for the final result; inputs of a step may hold such values)."""
        kind, children = node["type"], node.get("children", [])
        if kind == "TermExpression" and children[0]["type"] == "InvocationTerm":
            invocation = children[0]["children"][0]
            if invocation["type"] == "MemberInvocation":
                name = _identifier(invocation)
                if name[:1].isupper():  # a type name: the resource itself, if it is one
                    return [self.root] if name == self.root.value.get("resourceType") else []
                return _children(self.root, name)
        if kind == "TermExpression" and children[0]["type"] == "ParenthesizedTerm":
            return self.locate(children[0]["children"][0])
        if kind == "InvocationExpression" and children[1]["type"] == "MemberInvocation":
            name = _identifier(children[1])
            return [c for loc in self.locate(children[0]) for c in _children(loc, name)]
        if kind == "IndexerExpression":
            collection = self.locate(children[0])
            index = _integer_literal(children[1])
            if index is not None:
                return collection[index : index + 1]
            return self._match(node, collection, strict)
        if kind == "InvocationExpression":  # a function: its results come from its input
            return self._match(node, self.locate(children[0]), strict)
        return self._match(node, self._all(), strict)

    def _match(self, node: dict, candidates: list[Location], strict: bool) -> list[Location]:
        """fhirpathpy's results for ``node``, as locations among ``candidates``.

        A result not among them (children() leaves its input) is looked for in the
        whole resource, and taken only if exactly one slot holds that very object:
        Python shares objects between equal small values (True, 1, "a").
        """
        found, taken = [], set()
        for result in _evaluate(self.root.value, node):
            hit = _find(result, candidates, taken)
            if hit is None:
                elsewhere = [c for c in self._all() if c.value is result and c.slot not in taken]
                hit = elsewhere[0] if len(elsewhere) == 1 else None
            if hit is not None:
                taken.add(hit.slot)
                found.append(hit)
            elif strict and not self._is_extension_holder(result):
                raise PathEvaluationError(
                    "selects something that is not an element of the resource being patched"
                )
        return found

    def _is_extension_holder(self, value: Any) -> bool:
        # fhirpathpy yields a primitive's "_x" holder (or a null from a "_x" array) as
        # an extra item next to the value: not an element of its own, so we skip it.
        return value is None or any(loc.extension_holder() is value for loc in self._all())

    def _all(self) -> list[Location]:
        if self._everything is None:
            self._everything = _everything(self.root)
        return self._everything


def _find(value: Any, pool: list[Location], taken: set) -> Location | None:
    return next((c for c in pool if c.value is value and c.slot not in taken), None)


def _children(loc: Location, name: str) -> list[Location]:
    """Locations of ``loc.<name>``: a JSON member, or a primitive's id/extension."""
    value, shape = loc.value, loc.shape
    if not isinstance(value, dict):
        # On a primitive only id and extension exist; JSON keeps them in "_key"
        value = loc.extension_holder() if name in ("id", "extension") else None
        shape = elements.shape_named("Element")
        if value is None:
            return []
    key = json_key(value, name, shape) if name != "resourceType" else None
    if key is None or value.get(key) is None:
        return []
    element = elements.child(shape, key) if shape else None
    child_shape = element.shape if element else None
    items = value[key]
    if isinstance(items, list):
        return [
            Location(value, key, i, item, elements.shape_of(item, child_shape), shape, element)
            for i, item in enumerate(items)
            if item is not None
        ]
    return [Location(value, key, None, items, elements.shape_of(items, child_shape), shape, element)]


def _everything(root: Location) -> list[Location]:
    """All locations in document order (for expressions we cannot navigate ourselves)."""
    out, stack = [], [root]
    while stack:
        loc = stack.pop()
        out.append(loc)
        if isinstance(loc.value, dict):
            names = [k for k in loc.value if k != "resourceType" and not k.startswith("_")]
        else:
            names = ["id", "extension"]  # a primitive's, kept in its "_key" holder
        stack.extend(reversed([c for name in names for c in _children(loc, name)]))
    return out


def _evaluate(resource: dict, node: dict) -> list:
    try:
        results = fhirpathpy.apply_parsed_path(
            resource,
            {"children": [node]},
            context={"resource": resource, "rootResource": resource},
            model=R4,
            options={"returnRawData": True},
        )
    except Exception as exc:  # fhirpathpy raises bare Exceptions for runtime errors
        raise PathEvaluationError(str(exc) or type(exc).__name__) from exc
    return [r.data if isinstance(r, ResourceNode) else r for r in results]


def _identifier(invocation: dict) -> str:
    return invocation["children"][0]["text"].strip("`")


def _integer_literal(node: dict) -> int | None:
    """The value of a literal like ``0`` in ``name[0]``, else None."""
    while node.get("children") and len(node["children"]) == 1:
        node = node["children"][0]
    if node.get("type") == "NumberLiteral" and node["text"].isdigit():
        return int(node["text"])
    return None


def _lexer(path: str) -> FHIRPathLexer:
    lexer = FHIRPathLexer(InputStream(path))
    lexer.removeErrorListeners()
    lexer.addErrorListener(_RaiseOnSyntaxError())
    return lexer


class _RaiseOnSyntaxError(ErrorListener):
    def syntaxError(self, recognizer, offendingSymbol, line, column, msg, e):
        raise PathSyntaxError(f"at character {column + 1}: {msg}")
