"""MDM: documents (IG MDM_T02). T02 (original document with content) and T06
(addendum) give a DocumentReference holding the text as an attachment; T04/T08 are
their edits, T11 cancels."""

from __future__ import annotations

from ..context import MapContext
from ..datatypes.ids import entity
from ..message import Message
from ..segments import txa
from .common import add_encounter, add_patient

EVENTS = ("T02", "T04", "T06", "T08", "T10", "T11")


def mdm(ctx: MapContext, message: Message) -> None:
    event = message.header.trigger_event
    add_patient(ctx, message)
    add_encounter(ctx, message, "")
    seg = message.segment("TXA")
    ctx.require(seg, "TXA")
    if event == "T11":  # cancel: the document was never valid
        ctx.require(seg, "TXA", 12, "unique document number")
        ident = entity(seg.rep(12), ctx.config)
        ident = {k: v for k, v in ident.items() if k in ("system", "value")}
        ctx.patch("DocumentReference", ident, [[
            {"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "DocumentReference.status"},
            {"name": "value", "valueCode": "entered-in-error"}]], event)
        return
    txa.document_reference(ctx, seg, message.all("OBX"), event)
