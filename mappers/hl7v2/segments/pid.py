"""PID (+ PD1, NK1) -> Patient, after the IG's PID[Patient], PD1[Patient], NK1[Patient]."""

from __future__ import annotations

from .. import errors as E
from ..context import MapContext
from ..datatypes.codes import code, codeable
from ..datatypes.contact import address, telecom
from ..datatypes.ids import identifier
from ..datatypes.names import human_name
from ..datatypes.time import date_time
from ..errors import MappingError
from ..message import Segment
from . import practitioner, us_core

MOTHERS_MAIDEN_NAME = "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"
BIRTH_TIME = "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
RELIGION = "http://hl7.org/fhir/StructureDefinition/patient-religion"


def patient_identifiers(ctx: MapContext, pid: Segment) -> list[dict]:
    out = []
    with ctx.at(pid, 3):
        for n in (3, 2, 4):  # PID-3 first: it is the one the upsert is keyed on
            for rep in pid.reps(n):
                ident = identifier(rep, ctx.config, ctx.tz)
                if ident and ident not in out:
                    out.append(ident)
    return out


def patient(ctx: MapContext, pid: Segment, pd1: Segment | None = None,
            nk1s: list[Segment] = ()) -> tuple[dict, dict]:
    """The Patient resource and the identifier it is upserted on (the first PID-3)."""
    idents = patient_identifiers(ctx, pid)
    if not idents:
        raise MappingError("PID-3 (patient identifier list) holds no identifier", "PID", pid.sequence, 3,
                           E.REQUIRED_FIELD_MISSING)
    res: dict = {"resourceType": "Patient", "identifier": idents}
    for n, label in ((19, "SS"), (20, "DL")):
        value = pid.get(n)
        if value:
            res["identifier"].append({"type": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": label}]}, "value": value})
    names = [n for n in (human_name(r) for r in pid.reps(5) + pid.reps(9)) if n]
    if names:
        res["name"] = names
    if pid.get(6, 1):
        res.setdefault("extension", []).append({"url": MOTHERS_MAIDEN_NAME, "valueString": pid.get(6, 1)})
    born = pid.get(7)
    if born:
        with ctx.at(pid, 7):
            res["birthDate"] = date_time(born[:8])
            if len(born.split("+")[0].split("-")[0]) > 8:
                res["_birthDate"] = {"extension": [{"url": BIRTH_TIME, "valueDateTime": date_time(born, ctx.tz)}]}
    sex = pid.get(8)
    if sex:
        res["gender"] = code(sex, "AdministrativeSex") or "unknown"
    addresses = [a for a in (address(r) for r in pid.reps(11)) if a]
    if addresses:
        res["address"] = addresses
    telecoms = [t for t in [*(telecom(r, "home") for r in pid.reps(13)), *(telecom(r, "work") for r in pid.reps(14))]
                if t]
    if telecoms:
        res["telecom"] = telecoms
    language = codeable(pid.rep(15), "PrimaryLanguage")
    if language:
        res["communication"] = [{"language": language, "preferred": True}]
    marital = codeable(pid.rep(16), "MaritalStatus", "0002")
    if marital:
        res["maritalStatus"] = marital
    religion = codeable(pid.rep(17), "Religion", "0006")
    if religion:
        res.setdefault("extension", []).append({"url": RELIGION, "valueCodeableConcept": religion})
    if ctx.config.realm == "US":
        for ext in (us_core.race_extension(pid.reps(10)), us_core.ethnicity_extension(pid.reps(22))):
            if ext:
                res.setdefault("extension", []).append(ext)
    twin, order = pid.get(24), pid.get(25)  # multiple birth indicator, birth order
    if twin == "Y" and order.isdigit():
        res["multipleBirthInteger"] = int(order)
    elif twin in ("Y", "N"):
        res["multipleBirthBoolean"] = twin == "Y"
    if pid.get(29):
        with ctx.at(pid, 29):
            res["deceasedDateTime"] = date_time(pid.get(29), ctx.tz)
    elif pid.get(30) in ("Y", "N"):
        res["deceasedBoolean"] = pid.get(30) == "Y"
    if pd1 is not None:
        _pd1(ctx, pd1, res)
    contacts = [c for c in (contact(ctx, nk1) for nk1 in nk1s) if c]
    if contacts:
        res["contact"] = contacts
    return res, idents[0]


def _pd1(ctx: MapContext, pd1: Segment, res: dict) -> None:
    gps = [practitioner.reference(ctx, r) for r in pd1.reps(4)]
    gps += [{"display": r.get(1)} for r in pd1.reps(3) if r.get(1)]
    if gps:
        res["generalPractitioner"] = [g for g in gps if g]


def contact(ctx: MapContext, nk1: Segment) -> dict | None:
    """NK1 -> Patient.contact (NK1[Patient])."""
    out: dict = {}
    rel = [c for c in (codeable(nk1.rep(3), "Relationship", "0063"), codeable(nk1.rep(7), "ContactRole", "0131"))
           if c]
    if rel:
        out["relationship"] = rel
    name = human_name(nk1.rep(2))
    if name:
        out["name"] = name
    tel = [t for t in [*(telecom(r, "home") for r in nk1.reps(5)), *(telecom(r, "work") for r in nk1.reps(6))] if t]
    if tel:
        out["telecom"] = tel
    addr = address(nk1.rep(4))
    if addr:
        out["address"] = addr
    if nk1.get(13, 1):
        out["organization"] = {"display": nk1.get(13, 1)}
    return out or None
