"""The R4 code systems as data: their concepts and is-a hierarchy (subsumption).

A concept's children are its nested ``concept`` entries plus, in the v3 code systems,
the codes named by its ``child`` property: v3 is a polyhierarchy (``_ActAccountCode``
and ``_ActBillableCode`` can share a child), which nesting alone cannot express.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources


def load_data(name: str):
    """The parsed JSON of ``terminology/data/<name>.json.gz``."""
    with resources.files(__package__).joinpath("data", f"{name}.json.gz").open("rb") as raw:
        with gzip.open(raw, "rt", encoding="utf-8") as text:
            return json.load(text)


@dataclass(eq=False)
class CodeSystem:
    url: str
    content: str  # complete | example | fragment | not-present | supplement
    display: dict[str, str | None] = field(default_factory=dict)  # every code, in definition order
    children: dict[str, list[str]] = field(default_factory=dict)
    parents: dict[str, list[str]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """All its codes are here, so "the whole system" can be listed."""
        return self.content == "complete"

    def descendants(self, code: str) -> set[str]:
        """Codes strictly below ``code`` (is-a), following every parent link."""
        return _closure(code, self.children)

    def ancestors(self, code: str) -> set[str]:
        return _closure(code, self.parents)


def _closure(code: str, links: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(links.get(code, ()))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(links.get(current, ()))
    return seen


def _build(resource: dict) -> CodeSystem:
    cs = CodeSystem(resource["url"], resource.get("content", "complete"))

    def link(parent: str, child: str) -> None:
        if child not in cs.children.setdefault(parent, []):
            cs.children[parent].append(child)
            cs.parents.setdefault(child, []).append(parent)

    def walk(concepts: list[dict], parent: str | None) -> None:
        for concept in concepts:
            code = concept["code"]
            cs.display.setdefault(code, concept.get("display"))
            if parent is not None:
                link(parent, code)
            for prop in concept.get("property") or ():
                link(code, prop["valueCode"])
            walk(concept.get("concept") or (), code)

    walk(resource.get("concept") or (), None)
    return cs


@cache
def _all() -> dict[str, CodeSystem]:
    return {e["resource"]["url"]: _build(e["resource"]) for e in load_data("codesystems")["entry"]}


def code_system(url: str) -> CodeSystem | None:
    """The R4 code system with this canonical URL (a ``|version`` suffix is ignored)."""
    return _all().get(url.split("|")[0])
