"""Code systems, value sets and bindings of FHIR R4, as data (see README.md).

Layering: imports only ``profiles/`` (and today not even that); ``server/`` and
``mappers/`` read it. What search needs:

- ``expand(url)`` -> ``Expansion``: ValueSet membership for ``:in`` / ``:not-in``;
- ``subsumed(system, code)`` / ``subsuming(system, code)``: the code and what it
  subsumes / is subsumed by, for ``:below`` / ``:above`` on tokens;
- ``required_value_set(path)``: the value set of a ``code`` element's required binding
  (the validator checks codes against it);
- ``bound_system(path)``: the single code system of the required binding of a
  ``code`` element (``Patient.gender`` -> administrative-gender), so that bound codes
  are indexed with their system, as HAPI FHIR does.

Every failure to answer raises ``NotExpandable`` (a ``ValueError``).
"""

from __future__ import annotations

from functools import cache

from terminology.codesystems import CodeSystem, code_system, load_data
from terminology.valuesets import Expansion, NotExpandable, compose_systems, expand, value_set

__all__ = [
    "CodeSystem",
    "Expansion",
    "NotExpandable",
    "bound_system",
    "code_system",
    "expand",
    "required_value_set",
    "subsumed",
    "subsuming",
    "value_set",
]


def _known(system: str) -> CodeSystem:
    cs = code_system(system)
    if cs is None or not cs.complete:  # SNOMED CT, LOINC... are here as names only
        raise NotExpandable(f"Code system {system} is not held here: subsumption cannot be tested")
    return cs


def subsumed(system: str, code: str) -> frozenset[str]:
    """``code`` and every code it subsumes (is-a descendants) in ``system``."""
    return frozenset({code} | _known(system).descendants(code))


def subsuming(system: str, code: str) -> frozenset[str]:
    """``code`` and every code that subsumes it (is-a ancestors) in ``system``."""
    return frozenset({code} | _known(system).ancestors(code))


@cache
def _bindings() -> dict[str, str]:
    return load_data("bindings")


def required_value_set(path: str) -> str | None:
    """The ValueSet of a ``code`` element's required binding (``path``: the element's path
    in its defining StructureDefinition, ``Patient.gender``, ``Address.use``)."""
    return _bindings().get(path)


@cache
def bound_system(path: str) -> str | None:
    """The code system of a ``code`` element's required binding, when it draws from one only.

    ``path`` is the element's path in its defining StructureDefinition
    (``Patient.gender``, ``Address.use``, ``Appointment.participant.status``).
    """
    url = required_value_set(path)
    if url is None:
        return None
    systems = compose_systems(url)
    return next(iter(systems)) if len(systems) == 1 else None
