"""Orders: ORM^O01 and OML^O21 (IG ORM_O01, OML_O21) -> ServiceRequest (+ Specimen,
Observation); RDE^O11 and pharmacy ORM (RXO) -> MedicationRequest.

ORC-1 says what happens to the order: NW new, XO change, CA/DC cancel (status
revoked) -- the order is upserted on its placer number either way.
"""

from __future__ import annotations

from ..context import MapContext
from ..message import Message, Segment
from ..segments import order, rxe
from .common import add_encounter, add_patient, following
from .oru import add_results


def orm_o01(ctx: MapContext, message: Message) -> None:
    if message.segment("RXO") is not None or message.segment("RXE") is not None:
        _pharmacy(ctx, message)
        return
    _orders_without_obr(ctx, message)
    add_results(ctx, message, with_report=False)


def oml_o21(ctx: MapContext, message: Message) -> None:
    _orders_without_obr(ctx, message)
    add_results(ctx, message, with_report=False)


def rde_o11(ctx: MapContext, message: Message) -> None:
    _pharmacy(ctx, message)


def _orders_without_obr(ctx: MapContext, message: Message) -> None:
    """An ORC not followed by an OBR (e.g. a cancel that only names the order)."""
    if message.segment("OBR") is not None:
        return
    add_patient(ctx, message)
    add_encounter(ctx, message, "")
    for orc in message.all("ORC"):
        order.service_request(ctx, orc, None)


def _pharmacy(ctx: MapContext, message: Message) -> None:
    add_patient(ctx, message)
    add_encounter(ctx, message, "")
    orc: Segment | None = None
    for seg in message.segments:
        if seg.name == "ORC":
            orc = seg
        elif seg.name in ("RXE", "RXO"):
            rxrs = [s for s in following(message, seg, ("RXR", "RXC", "NTE", "TQ1", "TQ2", "RXE", "RXO"))
                    if s.name == "RXR"]
            rxe.medication_request(ctx, seg, orc, rxrs)
