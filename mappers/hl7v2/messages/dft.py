"""DFT^P03: financial transactions -> ChargeItem per FT1 (+ the visit's diagnoses,
procedures and insurance)."""

from __future__ import annotations

from ..context import MapContext
from ..message import Message
from ..segments import ft1
from .common import add_clinical, add_encounter, add_patient


def dft_p03(ctx: MapContext, message: Message) -> None:
    add_patient(ctx, message)
    add_encounter(ctx, message, "")
    ctx.require(message.segment("FT1"), "FT1")
    for seg in message.all("FT1"):
        ft1.charge_item(ctx, seg)
    add_clinical(ctx, message)
