"""The fast evaluator: the common shapes of search expressions as direct dict traversal.

fhirpathpy walks an ANTLR tree and wraps every value in a node object (~1,300
patients/s for the 23 Patient expressions); nearly all R4 search expressions are
simple paths, so we compile this subset to closures over (type, value) lists:

    top     := test ('and' test)*              -- Patient-deceased: x.exists() and x != false
    test    := expr (('=' | '!=') literal)?
    expr    := path ('|' path)*
    path    := primary step* ('as' Type)?
    primary := '(' expr ')' | Identifier          -- leading ResourceType or member
    step    := '.' Identifier | '[' Integer ']'
             | '.ofType(' Type ')' | '.as(' Type ')' | '.first()' | '.exists()'
             | '.extension(' 'url' ')'
             | '.where(' ('resolve() is' Type | Identifier '=' 'literal') ')'

Anything else (``or``, ``%vars``, other functions...) returns None from ``compile_fast``
and goes to fhirpathpy. Semantics follow fhirpathpy's, node for node (types from
the same model), so both evaluators give identical rows; ``tests/search/test_extract.py``
checks it. ``as`` filters like ``ofType`` (R4 applies it to choice elements of repeating
parents, where strict FHIRPath would fail); ``fallback.py`` reads R4's ``as`` shapes the
same way.

One exception: a primitive with a ``_`` sibling (``"birthDate": "1974-12-25",
"_birthDate": {"extension": [...]}``; arrays pair by index, ``"given": ["A", "B"],
"_given": [null, {...}]``) is ONE node, as FHIRPath has it, where fhirpathpy makes two
(the value, and the ``_`` object as a second node of the same type). That node is a
``Primitive``: a plain ``(type, value)`` tuple to every reader, with the ``_`` object in
``.element`` for ``.extension``/``.id`` to walk into; ``value`` is None when only the
extension is there (``"_gender": {...}`` alone), which extraction indexes as nothing and
``=``/``!=``/``and`` read as empty. So ``where(family='X')``, ``gender = 'male'`` and
``first()`` see the primitive once; ``fallback.py`` drops fhirpathpy's ``_`` nodes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from server.search.extract.model import is_of_type, member_spec
from server.search.extract.reference import target_type

Node = tuple[str | None, object]
Step = Callable[[list[Node]], list[Node]]

_TOKEN = re.compile(
    r"\s*(?:(?P<id>[A-Za-z_][A-Za-z0-9_]*|`[^`]+`)"
    r"|(?P<str>'(?:[^'\\]|\\.)*')"
    r"|(?P<int>\d+)"
    r"|(?P<op>!=|[.()\[\]|=]))"
)


class _Unsupported(Exception):
    """The expression is outside the fast subset."""


def _tokenize(expression: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(expression):
        match = _TOKEN.match(expression, pos)
        if not match:
            if expression[pos:].strip():
                raise _Unsupported(expression[pos:])
            break
        kind = match.lastgroup
        text = match.group(kind)
        if kind == "id":
            text = text.strip("`")
        elif kind == "str":
            if "\\" in text:
                raise _Unsupported("escape")
            text = text[1:-1]
        tokens.append((kind, text))
        pos = match.end()
    return tokens


# -- nodes ------------------------------------------------------------------------------


class Primitive(tuple):
    """A primitive node with a ``_x`` sibling: ``(type, value or None)``, and ``element``,
    the ``_x`` object (its ``id`` and ``extension``). Unpacks, compares and slices as the
    plain ``(type, value)`` tuple, so converters and callers need not know about it."""

    element: dict

    def __new__(cls, ntype: str, value: object, element: dict) -> Primitive:
        node = tuple.__new__(cls, (ntype, value))
        node.element = element
        return node


def _with_elements(ctype: str, found: object, extra: object) -> list[Node]:
    """The nodes of a primitive member that has a ``_`` sibling: one per value, paired by
    index in arrays (``null`` fills the gaps on either side); an ``_x`` entry that is an
    object makes that node a ``Primitive``, with a None value when only it is there."""
    if type(found) is not list and type(extra) is not list:
        pairs = ((found, extra),)
    else:
        values = found if type(found) is list else ([] if found is None else [found])
        elements = extra if type(extra) is list else [extra]
        if len(values) < len(elements):
            values = values + [None] * (len(elements) - len(values))
        pairs = zip(values, elements + [None] * (len(values) - len(elements)))
    out: list[Node] = []
    for v, e in pairs:
        if type(e) is dict and e:
            out.append(Primitive(ctype, v, e))
        elif v is not None:
            out.append((ctype, v))
    return out


# -- steps ------------------------------------------------------------------------------


def _member(key: str) -> Step:
    specs: dict[str | None, tuple] = {}  # parent type -> member_spec, local to skip a call

    def step(nodes: list[Node]) -> list[Node]:
        out: list[Node] = []
        append = out.append
        for node in nodes:
            ntype, value = node
            if type(value) is not dict:
                if type(node) is not Primitive:
                    continue
                value = node.element  # a primitive's own members: extension, id
            spec = specs.get(ntype)
            if spec is None:
                spec = specs[ntype] = member_spec(ntype, key)
            for jkey, ukey, ctype in spec:
                found = value.get(jkey)
                extra = value.get(ukey) if ukey else None  # "_x": a primitive's id/extensions
                if extra is not None:
                    out += _with_elements(ctype, found, extra)
                    break
                if found is None:
                    continue
                for v in found if type(found) is list else (found,):
                    if v is None:
                        continue
                    if ctype == "Resource" and type(v) is dict and "resourceType" in v:
                        append((v["resourceType"], v))  # contained / Bundle.entry.resource
                    else:
                        append((ctype, v))
                break  # a choice element holds one type only
        return out

    return step


def _root(name: str) -> Step:
    """A leading capitalised identifier selects the resource of that type (or nothing)."""
    if name[0].isupper():
        return lambda nodes: [n for n in nodes if n[0] == name]
    return _member(name)


def _root_member(rtype: str, key: str) -> Step:
    """``Patient.name`` as one step: most parameters find nothing, and this says so fastest."""
    member = _member(key)
    keys = [k for jkey, ukey, _ in member_spec(rtype, key) for k in (jkey, ukey) if k]

    def step(nodes: list[Node]) -> list[Node]:
        if len(nodes) == 1:  # the root: check the resource has the element before walking
            ntype, value = nodes[0]
            if ntype != rtype or type(value) is not dict or not any(k in value for k in keys):
                return []
        return member([n for n in nodes if n[0] == rtype])

    return step


def _of_type(name: str) -> Step:
    return lambda nodes: [n for n in nodes if is_of_type(n[0], name)]


def _index(i: int) -> Step:
    return lambda nodes: nodes[i : i + 1]


def _where_resolve_is(name: str) -> Step:
    return lambda nodes: [n for n in nodes if is_of_type(target_type(n[1]), name)]


def _where_equals(field: str, literal: str) -> Step:
    member = _member(field)

    def step(nodes: list[Node]) -> list[Node]:
        out = []
        for node in nodes:
            found = member([node])
            if len(found) == 1 and found[0][1] == literal:
                out.append(node)
        return out

    return step


def _extension(url: str) -> Step:
    member = _member("extension")

    def step(nodes: list[Node]) -> list[Node]:
        out = []
        for node in nodes:  # fhirpathpy keeps the first match per element
            match = next((e for e in member([node]) if type(e[1]) is dict and e[1].get("url") == url), None)
            if match:
                out.append(match)
        return out

    return step


def _exists(nodes: list[Node]) -> list[Node]:
    return [("boolean", bool(nodes))]


def _chain(steps: list[Step]) -> Step:
    if len(steps) == 1:
        return steps[0]
    if _exists in steps:  # exists() turns an empty collection into [false]: walk every step

        def run_all(nodes: list[Node]) -> list[Node]:
            for step in steps:
                nodes = step(nodes)
            return nodes

        return run_all

    def run(nodes: list[Node]) -> list[Node]:
        for step in steps:
            nodes = step(nodes)
            if not nodes:
                return nodes
        return nodes

    return run


_LITERALS = {"true": True, "false": False}


def _compare(operand: Step, negate: bool, literal: object) -> Step:
    """FHIRPath ``=`` / ``!=`` against a literal: empty stays empty, sizes must match."""

    def step(nodes: list[Node]) -> list[Node]:
        found = operand(nodes)
        if not found or len(found) == 1 and found[0][1] is None:
            return []  # empty, or a primitive with only an extension: no value to compare
        equal = len(found) == 1 and type(found[0][1]) is type(literal) and found[0][1] == literal
        return [("boolean", equal != negate)]

    return step


def _boolean(operand: list[Node]) -> bool | None:
    if not operand or len(operand) == 1 and operand[0][1] is None:  # None: extension only
        return None
    if len(operand) == 1 and type(operand[0][1]) is bool:
        return operand[0][1]
    raise ValueError(f"Expected boolean, got {operand!r}")  # as fhirpathpy does


def _and(operands: list[Step]) -> Step:
    """Three-valued ``and``: false wins, then empty (unknown), then true."""

    def step(nodes: list[Node]) -> list[Node]:
        values = [_boolean(operand(nodes)) for operand in operands]
        if False in values:
            return [("boolean", False)]
        return [] if None in values else [("boolean", True)]

    return step


def _union(paths: list[Step]) -> Step:
    if len(paths) == 1:
        return paths[0]
    return lambda nodes: [n for path in paths for n in path(nodes)]


# -- parser -----------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.pos = tokens, 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def take(self, kind: str, text: str | None = None) -> str:
        token = self.peek()
        if token is None or token[0] != kind or (text is not None and token[1] != text):
            raise _Unsupported(f"expected {text or kind} at {token}")
        self.pos += 1
        return token[1]

    def at(self, kind: str, text: str | None = None) -> bool:
        token = self.peek()
        return token is not None and token[0] == kind and (text is None or token[1] == text)

    def top(self) -> Step:
        tests = [self.test()]
        while self.at("id", "and"):
            self.take("id", "and")
            tests.append(self.test())
        return tests[0] if len(tests) == 1 else _and(tests)

    def test(self) -> Step:
        operand = self.expr()
        if self.at("op", "=") or self.at("op", "!="):
            negate = self.take("op") == "!="
            return _compare(operand, negate, self.literal())
        return operand

    def literal(self) -> object:
        if self.at("str"):
            return self.take("str")
        word = self.take("id")
        if word not in _LITERALS:
            raise _Unsupported(word)
        return _LITERALS[word]

    def expr(self) -> Step:
        paths = [self.path()]
        while self.at("op", "|"):
            self.take("op", "|")
            paths.append(self.path())
        return _union(paths)

    def path(self) -> Step:
        if self.at("op", "("):
            self.take("op", "(")
            steps = [self.expr()]
            self.take("op", ")")
        else:
            name = self.take("id")
            if name in _LITERALS:
                raise _Unsupported(name)  # a literal, not a path
            member_next = self.at("op", ".") and (self.peek(1) or ("",))[0] == "id" and self.peek(2) != ("op", "(")
            if name[0].isupper() and member_next:
                self.take("op", ".")
                steps = [_root_member(name, self.take("id"))]
            else:
                steps = [_root(name)]
        while True:
            if self.at("op", "["):
                self.take("op", "[")
                steps.append(_index(int(self.take("int"))))
                self.take("op", "]")
            elif self.at("op", "."):
                self.take("op", ".")
                steps.append(self.step())
            elif self.at("id", "as"):
                self.take("id", "as")
                steps.append(_of_type(self.type_name()))
                break  # ``x as T`` ends the path: ``(x as T).y`` needs parentheses
            else:
                break
        return _chain(steps)

    def type_name(self) -> str:
        name = self.take("id")
        if self.at("op", "."):
            raise _Unsupported("qualified type name")
        return name

    def step(self) -> Step:
        name = self.take("id")
        if not self.at("op", "("):
            return _member(name)
        self.take("op", "(")
        if name in ("ofType", "as"):
            result = _of_type(self.type_name())
        elif name == "first":
            result = _index(0)
        elif name == "exists":
            result = _exists
        elif name == "extension":
            result = _extension(self.take("str"))
        elif name == "where":
            result = self.where()
        else:
            raise _Unsupported(name)
        self.take("op", ")")
        return result

    def where(self) -> Step:
        if self.at("id", "resolve"):
            self.take("id", "resolve")
            self.take("op", "(")
            self.take("op", ")")
            self.take("id", "is")
            return _where_resolve_is(self.type_name())
        field = self.take("id")
        self.take("op", "=")
        return _where_equals(field, self.take("str"))


def compile_fast_nodes(expression: str) -> Step | None:
    """``expression`` as a function of the input nodes (a composite's component
    expressions run on the elements the composite selected), or None outside the subset."""
    try:
        parser = _Parser(_tokenize(expression))
        run = parser.top()
        if parser.peek() is not None:
            raise _Unsupported(f"trailing {parser.peek()}")
    except _Unsupported:
        return None
    return run


def compile_fast(expression: str) -> Callable[[dict], list[Node]] | None:
    """A direct evaluator for ``expression``, or None when it is outside the fast subset."""
    run = compile_fast_nodes(expression)
    if run is None:
        return None
    return lambda resource: run([(resource.get("resourceType"), resource)])
