"""XAD -> Address, XTN -> ContactPoint."""

from __future__ import annotations

from terminology.v2 import translate

from ..message import Rep


def address(rep: Rep | None) -> dict | None:
    """1 street (SAD), 2 other designation, 3 city, 4 state, 5 zip, 6 country, 7 type, 9 county."""
    if rep is None or rep.empty():
        return None
    out: dict = {}
    kind = rep.get(7)
    if kind:
        use = translate("AddressType[Use]", kind)
        typ = translate("AddressType[Type]", kind)
        if use:
            out["use"] = use.code
        if typ:
            out["type"] = typ.code
    lines = [line for line in (rep.comp(1).get(1), rep.get(2)) if line]
    if lines:
        out["line"] = lines
    for key, i in (("city", 3), ("district", 9), ("state", 4), ("postalCode", 5), ("country", 6)):
        if rep.get(i):
            out[key] = rep.get(i)
    return out if len(out) > ("use" in out) + ("type" in out) else None


def telecom(rep: Rep | None, default_use: str | None = None) -> dict | None:
    """1 number (pre-2.5), 2 use, 3 equipment, 4 email, 5-8 country/area/local/extension, 12 unformatted."""
    if rep is None or rep.empty():
        return None
    equipment = rep.get(3)
    out: dict = {}
    if equipment in ("Internet", "X.400") or (rep.get(4) and not rep.get(1) and not rep.get(7)):
        out["system"] = "email"
        value = rep.get(4) or rep.get(1)
    else:
        mapped = translate("TelecommunicationEquipmentType", equipment) if equipment else None
        # CP maps to a use (mobile), not a system: a cell phone is a phone
        out["system"] = mapped.code if mapped and mapped.system.endswith("contact-point-system") else "phone"
        value = rep.get(12) or rep.get(1) or _number(rep)
    if not value:
        return None
    out["value"] = value
    use_code = rep.get(2)
    use = translate("TelecommunicationUseCode", use_code) if use_code else None
    if equipment == "CP":
        out["use"] = "mobile"
    elif use and use.system == "http://hl7.org/fhir/contact-point-use":
        out["use"] = use.code
    elif default_use:
        out["use"] = default_use
    return out


def _number(rep: Rep) -> str:
    country, area, local, ext = rep.get(5), rep.get(6), rep.get(7), rep.get(8)
    if not local:
        return ""
    number = (f"+{country} " if country else "") + (f"({area}) " if area else "") + local
    return number + (f" x{ext}" if ext else "")
