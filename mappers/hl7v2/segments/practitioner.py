"""XCN (PV1-7, ORC-12, OBR-16, RXA-10, TXA-9, PD1-4...) -> Practitioner.

A practitioner with an id is created once, on its identifier (``ifNoneExist``), and
referenced by fullUrl; one with only a name is referenced by display. Practitioners
are the directory's to maintain: a message does not rewrite them.
"""

from __future__ import annotations

from ..context import MapContext
from ..datatypes.names import display, human_name
from ..message import Rep


def reference(ctx: MapContext, rep: Rep | None) -> dict | None:
    if rep is None or rep.empty():
        return None
    name = human_name(rep, offset=1)
    ident_value = rep.get(1)
    if not ident_value:
        return {"display": display(name)} if name else None
    authority = rep.comp(9)
    system = ctx.config.identifier_system(authority.get(1), authority.get(2), authority.get(3))
    ident = {"value": ident_value}
    if system:
        ident = {"system": system, "value": ident_value}
    res: dict = {"resourceType": "Practitioner", "identifier": [ident]}
    if name:
        res["name"] = [name]
    url = ctx.ensure(res, ident)
    out = {"reference": url}
    if name:
        out["display"] = display(name)
    return out
