"""MRG (ADT^A40) -> a ``Patient/$merge`` call: the FHIR merge operation's parameters.

The IG has no map for A40. Ours: PID-3 names the surviving (target) patient, MRG-1
the one merged into it (source); the server's ``$merge`` moves what points at the
source and links the two. Both are given by identifier, resolved by the server.
"""

from __future__ import annotations

from .. import errors as E
from ..context import MapContext, token
from ..datatypes.ids import identifier
from ..errors import MappingError
from ..message import Segment


def merge(ctx: MapContext, mrg: Segment) -> str:
    with ctx.at(mrg, 1):
        sources = [i for i in (identifier(r, ctx.config, ctx.tz) for r in mrg.reps(1)) if i]
    if not sources:
        raise MappingError("MRG-1 (prior patient identifier list) holds no identifier", "MRG", mrg.sequence, 1,
                           E.REQUIRED_FIELD_MISSING)
    target = ctx.patient_key.split("|", 1)
    target_ident = {"system": target[0], "value": target[1]} if target[0] else {"value": target[1]}
    source = {k: v for k, v in sources[0].items() if k in ("system", "value")}
    params = {"resourceType": "Parameters", "parameter": [
        {"name": "source-patient-identifier", "valueIdentifier": source},
        {"name": "target-patient-identifier", "valueIdentifier": target_ident},
        {"name": "target-patient", "valueReference": {"reference": ctx.patient}},
    ]}
    return ctx.operation("Patient/$merge", params, f"merge {token(source)}")
