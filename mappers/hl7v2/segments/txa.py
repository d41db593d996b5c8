"""TXA (+ OBX text) -> DocumentReference (IG TXA[DocumentReference], OBX[DocumentReference]).

The document's text travels as an attachment (text/plain, UTF-8), where the notes
pipeline finds it. Known by TXA-12 (unique document number); an addendum (T06)
``appends`` to its parent (TXA-13).
"""

from __future__ import annotations

import base64

from .. import errors as E
from ..context import MapContext, token
from ..datatypes.codes import codeable
from ..datatypes.ids import entity
from ..datatypes.time import date_time, instant
from ..errors import MappingError
from ..message import Segment
from . import practitioner

# TXA-17 document completion status (HL7 0271) -> DocumentReference.docStatus
_DOC_STATUS = {"AU": "final", "LA": "final", "DI": "preliminary", "DO": "preliminary", "IN": "preliminary",
               "IP": "preliminary", "PA": "preliminary"}


def document_reference(ctx: MapContext, txa: Segment, obxs: list[Segment], event: str) -> str:
    ident = entity(txa.rep(12), ctx.config)
    if ident is None:
        raise MappingError("TXA-12 (unique document number) is required: the document is known by it", "TXA",
                           txa.sequence, 12, E.REQUIRED_FIELD_MISSING)
    res: dict = {"resourceType": "DocumentReference", "masterIdentifier": ident, "identifier": [ident],
                 "status": "current"}
    doc_status = _DOC_STATUS.get(txa.get(17))
    if doc_status:
        res["docStatus"] = doc_status
    if txa.get(17) == "CA" or txa.get(19) in ("CA", "OB"):  # canceled / obsolete
        res["status"] = "superseded" if txa.get(19) == "OB" else "entered-in-error"
    kind = codeable(txa.rep(2), None, "0270")
    if kind:
        res["type"] = kind
    if ctx.patient:
        res["subject"] = {"reference": ctx.patient}
    with ctx.at(txa, 4):
        when = instant(txa.get(4) or txa.get(6), ctx.tz)
    if when:
        res["date"] = when
    authors = [a for a in (practitioner.reference(ctx, r) for r in txa.reps(9)) if a]
    if authors:
        res["author"] = authors
    authenticator = practitioner.reference(ctx, txa.rep(22))
    if authenticator:
        res["authenticator"] = authenticator
    context: dict = {}
    if ctx.encounter:
        context["encounter"] = [{"reference": ctx.encounter}]
    with ctx.at(txa, 6):
        origin = date_time(txa.get(6), ctx.tz)
    if origin:
        context["period"] = {"start": origin}
    if context:
        res["context"] = context
    parent = entity(txa.rep(13), ctx.config)
    if event == "T06" and parent:
        res["relatesTo"] = [{"code": "appends", "target": {"reference": f"DocumentReference?identifier={token(parent)}"}}]
    res["content"] = [{"attachment": _attachment(txa, obxs)}]
    return ctx.upsert(res, {"system": ident["system"], "value": ident["value"]} if "system" in ident else ident)


def _attachment(txa: Segment, obxs: list[Segment]) -> dict:
    texts, encapsulated = [], None
    for obx in obxs:
        if obx.get(2) == "ED" and encapsulated is None:
            encapsulated = obx
        elif obx.get(2) in ("TX", "FT", "ST", "CE", "CWE", ""):
            texts.extend(r.text() for r in obx.reps(5))
    title = txa.get(2, 2) or txa.get(2, 1)
    if encapsulated is not None:
        rep = encapsulated.rep(5)
        mime = rep.get(2).lower()
        content_type = mime if "/" in mime else f"{mime or 'application'}/{(rep.get(3) or 'octet-stream').lower()}"
        data = rep.get(5)
        if rep.get(4).upper() != "BASE64":
            data = base64.b64encode(data.encode("utf-8")).decode("ascii")
        return {"contentType": content_type, "data": data, **({"title": title} if title else {})}
    if not texts:
        raise MappingError("the document has no content: no OBX with text (TX, FT, ST) or ED follows TXA",
                           "OBX", 1, 5, E.REQUIRED_FIELD_MISSING)
    body = "\n".join(texts)
    out = {"contentType": "text/plain; charset=utf-8", "data": base64.b64encode(body.encode("utf-8")).decode("ascii")}
    if title:
        out["title"] = title
    return out
