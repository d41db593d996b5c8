"""CX / EI / HD -> Identifier; the assigning authority names the system (configuration)."""

from __future__ import annotations

from terminology.v2 import translate

from ..config import MappingConfig
from ..message import Rep
from .time import date_time


def hd_system(hd: Rep, config: MappingConfig) -> str | None:
    return config.identifier_system(hd.get(1), hd.get(2), hd.get(3))


def identifier(rep: Rep | None, config: MappingConfig, tz: str = "UTC") -> dict | None:
    """CX: 1 id, 4 assigning authority (HD), 5 identifier type, 7/8 effective/expiration."""
    if rep is None or not rep.get(1):
        return None
    out: dict = {}
    id_type = rep.get(5)
    if id_type:
        mapped = translate("IdentifierType", id_type)
        out["type"] = {"coding": [mapped.as_fhir()]} if mapped else {"text": id_type}
    authority = rep.comp(4)
    system = hd_system(authority, config)
    if system:
        out["system"] = system
    out["value"] = rep.get(1)
    period = {k: v for k, v in (("start", date_time(rep.get(7), tz)), ("end", date_time(rep.get(8), tz))) if v}
    if period:
        out["period"] = period
    if authority.get(1) and not authority.get(2):
        out["assigner"] = {"display": authority.get(1)}
    return out


def entity(rep: Rep | None, config: MappingConfig) -> dict | None:
    """EI: 1 entity id, 2 namespace, 3 universal id, 4 universal id type."""
    if rep is None or not rep.get(1):
        return None
    out: dict = {}
    system = config.identifier_system(rep.get(2), rep.get(3), rep.get(4))
    if system:
        out["system"] = system
    out["value"] = rep.get(1)
    return out
