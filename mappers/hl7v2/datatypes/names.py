"""XPN / XCN / XON / FN -> HumanName, Practitioner, Organization parts."""

from __future__ import annotations

from terminology.v2 import translate

from ..message import Rep


def human_name(rep: Rep | None, *, offset: int = 0) -> dict | None:
    """XPN (``offset`` 0) or the name part of XCN (``offset`` 1: its id comes first):
    1 family (FN: surname first), 2 given, 3 further given, 4 suffix, 5 prefix, 7 type."""
    if rep is None:
        return None
    family = rep.comp(1 + offset).get(1)
    given = [g for g in (rep.get(2 + offset), rep.get(3 + offset)) if g]
    out: dict = {}
    use = rep.get(7 + offset) if offset == 0 else rep.get(10)
    if use:
        mapped = translate("NameType", use)
        if mapped and mapped.system == "http://hl7.org/fhir/name-use":
            out["use"] = mapped.code
    if family:
        out["family"] = family
    if given:
        out["given"] = given
    prefix = rep.get(5 + offset)
    suffix = rep.get(4 + offset)
    if prefix:
        out["prefix"] = [prefix]
    if suffix:
        out["suffix"] = [suffix]
    if not (family or given):
        return None
    return out


def display(name: dict | None) -> str:
    if not name:
        return ""
    return " ".join([*name.get("prefix", []), *name.get("given", []), name.get("family", ""),
                     *name.get("suffix", [])]).strip()
