"""The implicit code system of bound ``code`` elements, found once per expression.

A ``code`` element carries no system (``"gender": "male"``), but when its required
binding draws from a single code system (Patient.gender -> administrative-gender) the
system is known, and HAPI FHIR indexes it, so that both ``gender=male`` and
``gender=http://hl7.org/fhir/administrative-gender|male`` match. The binding comes from
the R4 StructureDefinitions (``terminology.bound_system``); here we only find which
element a search expression selects, statically, from the expression's text:
``Patient.gender``, ``(Appointment.participant.status)``, ``Patient.address.use``
(through the Address type), with ``.where(...)`` / ``.first()`` filters ignored since
they do not change the element. Anything else (functions, choice elements) says
"unknown" and keeps the plain, system-less rows.
"""

from __future__ import annotations

import re

import terminology
from server.search.extract.model import defining_path, member_spec
from server.search.registry import split_union

_FILTERS = re.compile(r"\.where\((?:[^()]|\([^()]*\))*\)|\.first\(\)")
_PATH = re.compile(r"\(?\s*([A-Z][A-Za-z]*)((?:\.[a-z][A-Za-z0-9]*)+)\s*\)?")


def code_element(branch: str) -> str | None:
    """The defining path of the ``code`` element a union branch selects, else None."""
    match = _PATH.fullmatch(_FILTERS.sub("", branch.strip()))
    if not match:
        return None
    parent, path = match.group(1), None
    for key in match.group(2)[1:].split("."):
        spec = member_spec(parent, key)
        if len(spec) != 1:  # a choice element: several types
            return None
        path, parent = defining_path(parent, key), spec[0][2]
    return path if parent == "code" else None


def branch_systems(expression: str) -> list[tuple[str, bool, str | None]]:
    """Per union branch: (branch, selects a ``code`` element, its bound system or None)."""
    out = []
    for branch in split_union(expression):
        path = code_element(branch)
        out.append((branch, path is not None, terminology.bound_system(path) if path else None))
    return out
