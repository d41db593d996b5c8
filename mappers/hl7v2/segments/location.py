"""PL (PV1-3, PV1-6, AIL-3...) -> Location, created once on its facility/point of care/room/bed path."""

from __future__ import annotations

from ..context import MapContext
from ..message import Rep

_PHYSICAL = "http://terminology.hl7.org/CodeSystem/location-physical-type"


def reference(ctx: MapContext, rep: Rep | None) -> dict | None:
    """PL: 1 point of care, 2 room, 3 bed, 4 facility (HD), 9 description."""
    if rep is None or rep.empty():
        return None
    parts = [rep.get(1), rep.get(2), rep.get(3)]
    if not any(parts):
        return {"display": rep.get(9) or rep.comp(4).get(1)} if (rep.get(9) or rep.get(4)) else None
    facility = rep.comp(4).get(1)
    path = "/".join(p for p in [facility, *parts])
    depth = max(i for i, p in enumerate(parts) if p)
    name = " ".join(p for p in parts if p)
    res = {"resourceType": "Location", "identifier": [{"system": "urn:passerelle:v2:location", "value": path}],
           "name": rep.get(9) or name, "mode": "instance",
           "physicalType": {"coding": [{"system": _PHYSICAL, "code": ("wa", "ro", "bd")[depth]}]}}
    if facility:
        res["managingOrganization"] = {"display": facility}
    url = ctx.ensure(res, res["identifier"][0])
    return {"reference": url, "display": res["name"]}
