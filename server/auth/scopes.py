"""SMART scopes: what a client may be granted.

Granting only; checking scopes against FHIR interactions is the enforcement work's.
An allowed ``patient/*.rs`` covers a requested ``patient/Observation.rs`` or ``.r``;
v1 scopes (``.read``, ``.write``, ``.*``) are read as their v2 letters.
"""

from __future__ import annotations

import re

from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list

# context / type . permissions [? query]
_RESOURCE_SCOPE = re.compile(r"^(patient|user|system)/(\*|[A-Za-z]+)\.([a-z*]+)(\?.*)?$")
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}

SUPPORTED = ["openid", "fhirUser", "launch", "launch/patient", "launch/encounter", "offline_access", "online_access",
             "patient/*.rs", "user/*.rs", "system/*.rs", "patient/*.cruds", "user/*.cruds", "system/*.cruds",
             "patient/*.read", "user/*.read", "system/*.read"]


def parse(scope: str | None) -> list[str]:
    return list(dict.fromkeys(scope_to_list(scope) or []))


def render(scopes: list[str]) -> str:
    return list_to_scope(scopes)


def resource_scope(scope: str) -> tuple[str, str, set[str], str] | None:
    """``patient/Observation.rs?category=x`` -> ("patient", "Observation", {"r", "s"}, "?category=x")."""
    m = _RESOURCE_SCOPE.match(scope)
    if not m:
        return None
    context, rtype, perms, query = m.groups()
    letters = _V1.get(perms, perms)
    if not set(letters) <= set("cruds"):
        return None
    return context, rtype, set(letters), query or ""


def covers(allowed: str, requested: str) -> bool:
    if allowed == requested:
        return True
    a, r = resource_scope(allowed), resource_scope(requested)
    if not a or not r:
        return False
    return (a[0] == r[0] and a[1] in ("*", r[1]) and r[2] <= a[2]
            # A query-narrowed allowance covers only the same narrowing.
            and (a[3] == "" or a[3] == r[3]))


def is_system(scope: str) -> bool:
    return scope.startswith("system/")


def grant(requested: list[str], allowed: list[str], *, backend: bool) -> list[str]:
    """requested ∩ allowed; system/ scopes for backend clients only, and only those."""
    granted = [s for s in requested if any(covers(a, s) for a in allowed)]
    return [s for s in granted if is_system(s) == backend]


def narrower(requested: list[str], original: list[str]) -> bool:
    return all(any(covers(o, s) for o in original) for s in requested)
