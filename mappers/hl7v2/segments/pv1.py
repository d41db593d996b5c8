"""PV1 (+ PV2) -> Encounter, after the IG's PV1[Encounter] and PV2[Encounter].

The encounter is known by its visit number (PV1-19): admits, transfers, updates and
discharges of one visit all land on one Encounter. ``status`` comes from the trigger
event (IG map Event[EncounterStatus]) when it says one, else from the patient class.
"""

from __future__ import annotations

from terminology.v2 import translate

from ..context import MapContext
from ..datatypes.codes import code, codeable, coding
from ..datatypes.ids import identifier
from ..datatypes.time import date_time
from ..message import Segment
from . import location, practitioner

_PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
_ROLES = ((7, "ATND", "attender"), (8, "REF", "referrer"), (9, "CON", "consultant"), (17, "ADM", "admitter"))


def visit_identifier(ctx: MapContext, pv1: Segment) -> dict | None:
    with ctx.at(pv1, 19):
        ident = identifier(pv1.rep(19), ctx.config, ctx.tz)
    if ident is None:
        return None
    ident.setdefault("system", ctx.config.visit_system)
    ident["type"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "VN"}],
                     "text": "visit number"}
    return ident


def encounter(ctx: MapContext, pv1: Segment, pv2: Segment | None, event: str) -> tuple[dict, dict | None]:
    """The Encounter and its visit identifier (None when PV1-19 is empty)."""
    res: dict = {"resourceType": "Encounter"}
    ident = visit_identifier(ctx, pv1)
    if ident:
        res["identifier"] = [ident]
    patient_class = pv1.get(2)
    status = code(event, "Event[EncounterStatus]") if event else None
    if status in (None, "unknown") and patient_class:  # A08 says nothing of the status: the class may
        status = code(patient_class, "PatientClass[EncounterStatus]")
    res["status"] = status or "unknown"
    cls = translate("PatientClass[EncounterClass]", patient_class) if patient_class else None
    res["class"] = cls.as_fhir() if cls else {
        "system": "http://terminology.hl7.org/CodeSystem/v3-NullFlavor", "code": "UNK", "display": "unknown"}
    admission_type = codeable(pv1.rep(4), "AdmissionType", "0007")
    if admission_type:
        res["type"] = [admission_type]
    service = codeable(pv1.rep(10), "HospitalService", "0069")
    if service:
        res["serviceType"] = service
    if ctx.patient:
        res["subject"] = {"reference": ctx.patient}
    participants = []
    for n, role, text in _ROLES:
        for rep in pv1.reps(n):
            ref = practitioner.reference(ctx, rep)
            if ref:
                participants.append({"type": [{"coding": [{"system": _PARTICIPATION, "code": role}], "text": text}],
                                     "individual": ref})
    if participants:
        res["participant"] = participants
    with ctx.at(pv1, 44):
        start = date_time(pv1.get(44), ctx.tz)
    with ctx.at(pv1, 45):
        end = date_time(pv1.get(45), ctx.tz)
    period = {k: v for k, v in (("start", start), ("end", end)) if v}
    if period:
        res["period"] = period
    if end and event != "A13":
        res["status"] = "finished"
    locations = []
    planned = patient_class == "P"
    for n, status in ((3, "planned" if planned else "active"), (6, "completed"), (11, "active"), (42, "reserved")):
        ref = location.reference(ctx, pv1.rep(n))
        if ref:
            locations.append({"location": ref, "status": status})
    if locations:
        res["location"] = locations
    hosp = _hospitalization(ctx, pv1)
    if hosp:
        res["hospitalization"] = hosp
    if pv2 is not None:
        _pv2(ctx, pv2, res)
    return res, ident


def _hospitalization(ctx: MapContext, pv1: Segment) -> dict:
    hosp: dict = {}
    pre = identifier(pv1.rep(5), ctx.config, ctx.tz)
    if pre:
        hosp["preAdmissionIdentifier"] = pre
    for n, key, map_name, table in ((13, "reAdmission", "ReadmissionIndicator", "0092"),
                                    (14, "admitSource", None, "0023"),
                                    (36, "dischargeDisposition", "DischargeDisposition", "0112")):
        concept = codeable(pv1.rep(n), map_name, table)
        if concept:
            hosp[key] = concept
    special = [c for c in (codeable(r, "AmbulatoryStatus", "0009") for r in pv1.reps(15)) if c]
    if special:
        hosp["specialArrangement"] = special
    vip = codeable(pv1.rep(16), "VIPIndicator", "0099")
    if vip:
        hosp["specialCourtesy"] = [vip]
    diet = codeable(pv1.rep(38), "DietType", "0114")
    if diet:
        hosp["dietPreference"] = [diet]
    if pv1.get(37, 1):
        hosp["destination"] = {"display": pv1.get(37, 1)}
    return hosp


def _pv2(ctx: MapContext, pv2: Segment, res: dict) -> None:
    """PV2-3 admit reason, PV2-25 priority (the other PV2 fields have no R4 home the IG fills)."""
    reason = codeable(pv2.rep(3))
    if reason:
        res["reasonCode"] = [reason]
    priority = coding(pv2.rep(25), "EncounterPriority", "0217")
    if priority:
        res["priority"] = {"coding": [priority]}
