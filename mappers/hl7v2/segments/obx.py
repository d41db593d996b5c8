"""OBX -> Observation (IG OBX[Observation], OBX[Observation-Component]), every value type.

OBX-2 says how to read OBX-5: numbers (NM, SN, NR, CQ, MO) become quantities, ranges and
ratios; codes (CWE, CE, CNE, CF, ID, IS) CodeableConcepts; text (ST, TX, FT) a string
(repetitions are lines); dates and times (DT, DTM, TS, TM) dateTime/time; names,
addresses, ids (XPN, XAD, XTN, XCN, XON, CX, EI, PN, AD) their text. ED and RP are
documents, not values: they become a DocumentReference (IG OBX[DocumentReference]).
A repeating OBX-5 of a non-text type gives one component per repetition.
"""

from __future__ import annotations

import base64
import binascii
import re

from .. import errors as E
from ..context import MapContext
from ..datatypes.codes import code, codeable
from ..datatypes.quantity import quantity, range_
from ..datatypes.time import date_time
from ..errors import MappingError
from ..message import Rep, Segment
from . import nte, practitioner

_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_TEXT = ("ST", "TX", "FT")


def observation(ctx: MapContext, seg: Segment, *, notes: list[Segment] = (), order_key: str = "",
                based_on: str | None = None, specimen: str | None = None, category: str | None = None,
                part_of: str | None = None) -> str | None:
    vtype = seg.get(2)
    if vtype in ("ED", "RP"):
        return document(ctx, seg, order_key)
    concept = codeable(seg.rep(3))
    if concept is None:
        return None
    status = code(seg.get(11), "ObservationResultStatusCodesInterpretation") if seg.get(11) else None
    res: dict = {"resourceType": "Observation", "status": status or "final", "code": concept}
    if category:
        res["category"] = [{"coding": [{"system": _CATEGORY, "code": category}]}]
    if ctx.patient:
        res["subject"] = {"reference": ctx.patient}
    if ctx.encounter:
        res["encounter"] = {"reference": ctx.encounter}
    if based_on:
        res["basedOn"] = [{"reference": based_on}]
    if specimen:
        res["specimen"] = {"reference": specimen}
    if part_of:
        res["partOf"] = [{"reference": part_of}]
    with ctx.at(seg, 5):
        _values(ctx, seg, vtype, res)
    if not any(k.startswith("value") for k in res) and "component" not in res and seg.get(11) in ("X", "N"):
        res["dataAbsentReason"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-performed"}]}
    ranges = _referencerange_(seg)
    if ranges:
        res["referenceRange"] = ranges
    flags = [c for c in (codeable(r, "InterpretationCodes", "0078") for r in seg.reps(8)) if c]
    if flags:
        res["interpretation"] = flags
    with ctx.at(seg, 14):
        when = date_time(seg.get(14), ctx.tz)
    if when:
        res["effectiveDateTime"] = when
    performers = [p for p in (practitioner.reference(ctx, r) for r in seg.reps(16)) if p]
    performers += [{"display": r.get(1)} for r in seg.reps(23) if r.get(1)]
    if performers:
        res["performer"] = performers
    method = codeable(seg.rep(17))
    if method:
        res["method"] = method
    notes_ = nte.annotations(list(notes))
    if notes_:
        res["note"] = notes_
    code_key = seg.get(3, 1) or seg.get(3, 4) or seg.get(3, 2) or seg.get(3, 5)
    ident = ctx.derived_identifier("observation", order_key or ctx.patient_key, seg.get(3, 3), code_key,
                                   seg.get(4), "" if order_key else seg.get(14))
    for tiebreak in (seg.get(1), f"@{seg.position}"):  # the same code twice without sub-id: OBX-1, else its place
        if not ctx.has_identifier("Observation", ident):
            break
        ident["value"] += f"/{tiebreak}"
    res["identifier"] = [ident]
    return ctx.upsert(res, ident)


def _values(ctx: MapContext, seg: Segment, vtype: str, res: dict) -> None:
    reps = seg.reps(5)
    if not reps:
        return
    if vtype in _TEXT or not vtype:
        res["valueString"] = "\n".join(r.text() for r in reps)
        return
    values = [_value(ctx, seg, vtype, r) for r in reps]
    if len(values) == 1:
        res.update(values[0])
    else:  # repeating values: one component each, under the same code
        res["component"] = [{"code": res["code"], **v} for v in values]


def _value(ctx: MapContext, seg: Segment, vtype: str, rep: Rep) -> dict:
    unit = seg.rep(6)
    if vtype in ("NM", "CQ", "MO"):
        number = rep.get(1)
        value = quantity(number, unit if vtype == "NM" else rep.comp(2) if vtype == "CQ" else None)
        if vtype == "MO" and rep.get(2):  # money: the currency is the unit
            value.update(unit=rep.get(2), system="urn:iso:std:iso:4217", code=rep.get(2))
        return {"valueQuantity": value}
    if vtype == "SN":
        return _structured_numeric(rep, unit)
    if vtype == "NR":
        return {"valueRange": range_(rep.get(1), rep.get(2), unit)}
    if vtype in ("CWE", "CE", "CNE", "CF", "ID", "IS", "CV"):
        concept = codeable(rep) if vtype not in ("ID", "IS") else {"coding": [{"code": rep.get(1)}]}
        return {"valueCodeableConcept": concept or {"text": rep.text()}}
    if vtype in ("DT", "DTM", "TS", "DR"):
        return {"valueDateTime": date_time(rep.get(1), ctx.tz)}
    if vtype == "TM":
        return {"valueTime": _time(rep.get(1))}
    if vtype == "SI":
        return {"valueInteger": int(rep.get(1))}
    return {"valueString": rep.text()}  # XPN, XAD, XTN, XCN, XON, CX, EI, PN, AD, CP, TN...


def _structured_numeric(rep: Rep, unit: Rep | None) -> dict:
    """SN: 1 comparator (> < >= <= = <>), 2 num1, 3 separator/suffix (- : / +), 4 num2."""
    comparator, num1, sep, num2 = rep.get(1), rep.get(2), rep.get(3), rep.get(4)
    if sep in ("-", "^") and num2:
        return {"valueRange": range_(num1, num2, unit)}
    if sep in (":", "/") and num2:
        return {"valueRatio": {"numerator": quantity(num1, None), "denominator": quantity(num2, None)}}
    value = quantity(num1, unit)
    if comparator in ("<", ">", "<=", ">="):
        value["comparator"] = comparator
    elif comparator not in ("", "="):
        raise ValueError(f"SN comparator {comparator!r} is not one of < > <= >= =")
    return {"valueQuantity": value}


def _time(text: str) -> str:
    m = re.fullmatch(r"(\d{2})(\d{2})?(\d{2})?(\.\d+)?([+-]\d{4})?", text)
    if not m or int(m.group(1)) > 23 or int(m.group(2) or 0) > 59 or int(m.group(3) or 0) > 59:
        raise ValueError(f"{text!r} is not a v2 time (HH[MM[SS[.S]]])")
    return f"{m.group(1)}:{m.group(2) or '00'}:{m.group(3) or '00'}{m.group(4) or ''}"


def _referencerange_(seg: Segment) -> list[dict]:
    text = seg.get(7)
    if not text:
        return []
    m = re.fullmatch(r"\s*([+-]?[\d.]+)\s*[-_]\s*([+-]?[\d.]+)\s*", text)
    unit = seg.rep(6)
    if m:
        try:
            return [{**range_(m.group(1), m.group(2), unit), "text": text}]
        except ValueError:
            pass
    return [{"text": text}]


def document(ctx: MapContext, seg: Segment, order_key: str) -> str | None:
    """OBX of type ED (encapsulated data) or RP (reference pointer) -> DocumentReference."""
    rep = seg.rep(5)
    if rep is None:
        return None
    attachment: dict = {}
    if seg.get(2) == "RP":
        attachment["url"] = rep.get(1)
        if rep.get(3):
            attachment["contentType"] = f"{rep.get(3).lower()}/{(rep.get(4) or '*').lower()}"
    else:
        # ED: 1 source application, 2 type of data, 3 data subtype, 4 encoding, 5 data
        encoding, data = rep.get(4), rep.get(5)
        mime = rep.get(2), rep.get(3)
        if mime[0]:
            attachment["contentType"] = f"{mime[0].lower()}/{(mime[1] or 'octet-stream').lower()}" \
                if "/" not in mime[0] else mime[0].lower()
        if not data:
            return None  # an ED without data: nothing to keep
        if encoding.upper() == "BASE64":
            try:
                base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise MappingError(f"OBX-5.5 is not valid Base64 ({exc})", seg.name, seg.sequence, 5,
                                   E.DATA_TYPE_ERROR, component=5) from exc
            attachment["data"] = data
        elif encoding.upper() in ("A", ""):
            attachment["data"] = base64.b64encode(data.encode("utf-8")).decode("ascii")
        else:
            raise MappingError(f"OBX-5.4 encoding {encoding!r} is not supported (Base64 or A)", seg.name,
                               seg.sequence, 5, E.TABLE_VALUE_NOT_FOUND, component=4)
    concept = codeable(seg.rep(3))
    if concept:
        attachment["title"] = concept.get("text") or concept["coding"][0].get("display", "")
        if not attachment["title"]:
            attachment.pop("title")
    res: dict = {"resourceType": "DocumentReference", "status": "current", "content": [{"attachment": attachment}]}
    if concept:
        res["type"] = concept
    if ctx.patient:
        res["subject"] = {"reference": ctx.patient}
    if ctx.encounter:
        res["context"] = {"encounter": [{"reference": ctx.encounter}]}
    ident = ctx.derived_identifier("document", order_key or ctx.patient_key, seg.get(3, 1), seg.get(4))
    res["identifier"] = [ident]
    return ctx.upsert(res, ident)

