"""Survivorship: which of its sources' values a golden record shows, element by element.

Rules are data (the ``golden`` section of a resource type in the rules file):

    "golden": {
      "default": "most-recent",
      "elements": {"name": "most-trusted", "birthDate": "most-frequent", "telecom": "union", ...},
      "trust": {"urn:oid:1.2.250.1.71.4.2.7": 3, "http://passerelle.example/forms": 1}
    }

- ``most-recent``: the value of the source written last (``meta.lastUpdated``);
- ``most-trusted``: the value of the source whose ``meta.source`` (the sending system; a
  ``#``-suffix such as a message control id is ignored) ranks highest in ``trust``;
  unknown systems rank 0; ties go to the most recent;
- ``most-frequent``: the value most sources carry; ties go to the most trusted, then the
  most recent;
- ``union``: every distinct entry of the list element, most recent source first.

A source without the element does not vote: the golden record keeps what the others say.
The listed elements are the only ones copied; ``identifier`` is left out of the default
rules on purpose (see docs/identity.md: ``Patient?identifier=`` must select one record).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field

from .. import jsonio

STRATEGIES = ("most-recent", "most-trusted", "most-frequent", "union")


@dataclass(frozen=True)
class Survivorship:
    elements: dict[str, str]  # element -> strategy
    trust: dict[str, int] = field(default_factory=dict)  # meta.source system -> rank

    @classmethod
    def from_rules(cls, where: str, spec: dict) -> Survivorship:
        default = spec.get("default", "most-recent")
        elements = {}
        for element, strategy in (spec.get("elements") or {}).items():
            strategy = strategy or default
            if strategy not in STRATEGIES:
                raise ValueError(f"{where}.golden.elements.{element}: unknown strategy {strategy!r} "
                                 f"(one of {', '.join(STRATEGIES)})")
            elements[element] = strategy
        trust = spec.get("trust") or {}
        if not all(isinstance(rank, int) for rank in trust.values()):
            raise ValueError(f"{where}.golden.trust: ranks must be integers")
        return cls(elements, dict(trust))

    def to_rules(self) -> dict:
        return {"elements": dict(self.elements), "trust": dict(self.trust)}

    def rank(self, source: dict) -> int:
        system = ((source.get("meta") or {}).get("source") or "").split("#", 1)[0]
        return self.trust.get(system, 0)

    def fingerprint_of(self, source: dict) -> bytes:
        """What of a source a golden record may show (a change elsewhere needs no refresh)."""
        return jsonio.dumps({e: source[e] for e in sorted(self.elements) if e in source})

    def apply(self, golden: dict, sources: Iterable[dict]) -> None:
        """Set ``golden``'s elements from its sources (in place)."""
        # Most recent first; a source not yet stored (being written) has no lastUpdated
        # yet and is the most recent of all.
        ordered = sorted(sources, key=lambda s: (s.get("meta") or {}).get("lastUpdated") or "9999", reverse=True)
        for element, strategy in self.elements.items():
            voters = [s for s in ordered if s.get(element) not in (None, [], "")]
            golden.pop(element, None)
            if voters:
                golden[element] = copy.deepcopy(self._choose(strategy, element, voters))

    def _choose(self, strategy: str, element: str, voters: list[dict]):
        if strategy == "most-recent":
            return voters[0][element]
        if strategy == "most-trusted":
            return max(voters, key=self.rank)[element]  # max keeps the first (most recent) of equals
        if strategy == "most-frequent":
            tally: dict[bytes, list] = {}
            for position, source in enumerate(voters):
                entry = tally.setdefault(jsonio.dumps(source[element]), [0, self.rank(source), -position, source])
                entry[0] += 1
            return max(tally.values(), key=lambda e: e[:3])[3][element]
        # union
        seen: dict[bytes, object] = {}
        for source in voters:
            values = source[element] if isinstance(source[element], list) else [source[element]]
            for value in values:
                seen.setdefault(jsonio.dumps(value), value)
        return list(seen.values())
