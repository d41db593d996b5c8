"""What the matcher looks at in a Patient or Practitioner: normalized values per field.

Every field is a tuple of strings (a person may carry several names, phones,
identifiers); comparators take the best agreement between the two tuples. Birth
names (``official``, ``maiden``) and used names (``usual``, ``nickname``) are all
kept: a match on either counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import normalize as n

Features = dict[str, tuple[str, ...]]

_NAME_USES_SKIPPED = frozenset({"anonymous", "temp"})


@dataclass(frozen=True)
class IdentifierPolicy:
    """National identifiers (INS-NIR, RPPS, NPI...) are a field of their own, weighed apart
    from local ones (MRN/IPP); those with a check key are dropped when the key is wrong."""

    national: dict[str, str | None]  # system -> checker name ("ins-nir") or None

    def accept(self, system: str, value: str) -> bool:
        checker = self.national.get(system)
        return checker is None or CHECKERS[checker](value)


CHECKERS = {"ins-nir": n.ins_key_ok}


def _names(resource: dict) -> tuple[list[str], list[str]]:
    given, family = [], []
    names = [h for h in resource.get("name") or [] if isinstance(h, dict) and h.get("use") not in _NAME_USES_SKIPPED]
    for name in names:
        if name.get("family"):
            family.append(n.name_key(name["family"]))
        for g in (name.get("given") or [])[:1]:  # the first given name; middle names are too often absent
            given.append(n.name_key(g))
        if not name.get("family") and not name.get("given") and name.get("text"):
            parts = n.name_tokens(name["text"])
            if len(parts) >= 2:
                given.append(parts[0])
                family.append(" ".join(parts[1:]))
    return [g for g in dict.fromkeys(given) if g], [f for f in dict.fromkeys(family) if f]


def _address(resource: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"postcode": [], "city": [], "street": [], "house_number": []}
    for address in resource.get("address") or []:
        if not isinstance(address, dict) or address.get("use") == "old":
            continue
        if address.get("postalCode"):
            out["postcode"].append(n.fold(address["postalCode"]).replace(" ", ""))
        if address.get("city"):
            out["city"].append(n.fold(address["city"]))
        lines = [n.fold(line) for line in address.get("line") or [] if isinstance(line, str)]
        if lines:
            first = lines[0].split()
            if first and first[0].isdigit():
                out["house_number"].append(first[0])
                first = first[1:]
            out["street"].append(" ".join(first + lines[1:]))
    return out


def _telecom(resource: dict, system: str) -> list[str]:
    values = []
    for point in resource.get("telecom") or []:
        if isinstance(point, dict) and point.get("system") == system and point.get("value"):
            values.append(n.phone(point["value"]) if system == "phone" else n.email(point["value"]))
    return values


def _identifiers(resource: dict, policy: IdentifierPolicy) -> tuple[list[str], list[str]]:
    """``system|value`` of the national and of the local identifiers (a local one's
    assigning authority is its system, or its assigner when it has no system)."""
    national, local = [], []
    for ident in resource.get("identifier") or []:
        if not isinstance(ident, dict) or not ident.get("value"):
            continue
        system = ident.get("system") or ""
        if not system and isinstance(ident.get("assigner"), dict):
            system = "assigner:" + (ident["assigner"].get("display") or ident["assigner"].get("reference") or "")
        value = ident["value"].replace(" ", "")
        if system in policy.national:
            if policy.accept(system, value):
                national.append(f"{system}|{value}")
        elif system:
            local.append(f"{system}|{value}")
    return national, local


def extract(resource: dict, policy: IdentifierPolicy) -> Features:
    given, family = _names(resource)
    address = _address(resource)
    gender = resource.get("gender")
    birth = n.date_digits(resource.get("birthDate") or "")
    national, local = _identifiers(resource, policy)
    features: Features = {
        "given": tuple(given),
        "family": tuple(family),
        "birth_date": (birth,) if birth else (),
        "gender": (gender,) if gender in ("male", "female") else (),
        "phone": tuple(dict.fromkeys(_telecom(resource, "phone"))),
        "email": tuple(dict.fromkeys(_telecom(resource, "email"))),
        "national_id": tuple(dict.fromkeys(national)),
        "identifier": tuple(dict.fromkeys(local)),
    }
    for key, values in address.items():
        features[key] = tuple(dict.fromkeys(v for v in values if v))
    return features
