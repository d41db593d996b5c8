"""Read pages -> a FHIR transaction Bundle (pure: no database, no clock, no random ids).

Only trusted fields (confident enough, check passed) become facts: Patient, referring
Practitioner, Coverage, AllergyIntolerance, and the answers of the QuestionnaireResponse.
Every other field becomes a review Task holding the label, the candidate value, why it
was not trusted and the image of its box (a Binary). Patients and practitioners are
created conditionally on their identifier, so the server links them to existing records
(identity matching runs on write).
"""

from __future__ import annotations

import base64
import copy
import uuid
from dataclasses import dataclass

import cv2

from .extract import FieldReading, PageReading

REVIEW = "urn:passerelle:form-review"  # Task.code (review-field) and Task.output.type (value)
TASK_CODE = {"coding": [{"system": REVIEW, "code": "review-field"}], "text": "Review a field read from a scanned form"}
ALLERGY_CLINICAL = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                "code": "active"}]}
ALLERGY_UNCONFIRMED = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                                   "code": "unconfirmed"}]}  # written by the patient or a referrer: not verified
COUNTRIES = {"fr": "FR", "en": "US"}


@dataclass(frozen=True)
class Source:
    """What the server knows about the file: its hash (also the id salt) and when it arrived."""

    sha256: str
    received: str  # FHIR instant
    document: str | None = None  # "DocumentReference/<id>" of the stored original, when there is one


class _Entries:
    def __init__(self, salt: str):
        self.salt = salt
        self.entries: list[dict] = []
        self.by_key: dict[str, dict] = {}

    def urn(self, *name) -> str:
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, '|'.join((self.salt, *map(str, name))))}"

    def add(self, key: str, resource: dict, if_none_exist: str | None = None) -> str:
        """Add (or, same key, merge missing elements into) a created resource; its fullUrl."""
        if key in self.by_key:
            existing = self.by_key[key]["resource"]
            for element, value in resource.items():
                existing.setdefault(element, value)
            return self.by_key[key]["fullUrl"]
        request = {"method": "POST", "url": resource["resourceType"]}
        if if_none_exist:
            request["ifNoneExist"] = if_none_exist
        entry = {"fullUrl": self.urn(key), "resource": resource, "request": request}
        self.entries.append(entry)
        self.by_key[key] = entry
        return entry["fullUrl"]


def form_bundle(pages: list[PageReading], source: Source, min_confidence: float) -> dict:
    out = _Entries(source.sha256)
    for page in pages:
        _page(out, page, source, min_confidence)
    return {"resourceType": "Bundle", "type": "transaction", "entry": out.entries}


def _page(out: _Entries, page: PageReading, source: Source, min_confidence: float) -> None:
    template = page.template
    value = {r.field.link_id: r.checked.value for r in page.fields if r.trusted(min_confidence)}
    # The Questionnaire is stored once (referenced by its canonical URL, not by id).
    q = template.questionnaire
    out.add(f"Questionnaire/{template.canonical}", copy.deepcopy(q),  # the server may stamp what it stores
            f"url={q['url']}" + (f"&version={q['version']}" if "version" in q else ""))
    patient = _person(out, "patient", value, template, page.number)
    practitioner = _person(out, "practitioner", value, template, page.number)
    if patient:
        _coverage(out, value, patient, page.number)
        for n, concept in enumerate(value.get("allergies") or []):
            out.add(f"AllergyIntolerance/{page.number}/{n}", allergy(concept, patient, source.received))
    doubtful = [r for r in page.fields if not r.trusted(min_confidence)]
    response = {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:sha256:{source.sha256}#page={page.number}"},
        "questionnaire": template.canonical,
        "status": "in-progress" if doubtful else "completed",  # in progress until its fields are reviewed
        "authored": source.received,
        "item": [_item(r, template) for r in page.fields if r.trusted(min_confidence)],
    }
    if patient:
        response["subject"] = {"reference": patient}
    if practitioner:
        response["author"] = {"reference": practitioner}
    if not response["item"]:
        del response["item"]
    qr = out.add(f"QuestionnaireResponse/{page.number}", response)
    for reading in doubtful:
        _review(out, reading, page, qr, patient, source, min_confidence)


def _item(reading: FieldReading, template) -> dict:
    return answer_item(reading.field, reading.checked.value, reading.text, template)


def answer_item(f, value, text: str, template) -> dict:
    """The QuestionnaireResponse item of a field whose value passed its check (``text``: as written)."""
    if f.item_type == "date":
        answer = {"valueDate": value}
    elif f.item_type == "boolean":
        answer = {"valueBoolean": value}
    elif f.item_type == "choice":
        item = next(i for i in template.questionnaire["item"] if i["linkId"] == f.link_id)
        options = [o["valueCoding"] for o in item.get("answerOption", []) if "valueCoding" in o]
        answer = {"valueCoding": next((o for o in options if o["code"] == value), {"code": value})}
    elif isinstance(value, list):  # allergens, drugs: as the form wrote them
        answer = {"valueString": ", ".join(c.text for c in value) or text}
    else:
        answer = {"valueString": value}
    return {"linkId": f.link_id, "text": f.label, "answer": [answer]}


def _person(out: _Entries, kind: str, value: dict, template, page: int) -> str | None:
    """Patient or Practitioner from the trusted ``kind.*`` fields; None when nothing names one."""
    resource_type = "Patient" if kind == "patient" else "Practitioner"
    resource: dict = {"resourceType": resource_type}
    for link_id, field_value in value.items():
        if link_id.startswith(f"{kind}.") and field_value:
            person_element(resource, link_id, field_value, template)
    if not resource.get("name") and not resource.get("identifier"):
        return None
    if resource.get("identifier"):
        first = resource["identifier"][0]
        key = f"{resource_type}?identifier={first['system']}|{first['value']}"
        return out.add(key, resource, key.split("?", 1)[1])
    return out.add(f"{resource_type}/{page}", resource)


def person_element(resource: dict, link_id: str, value, template) -> None:
    """Set in a Patient or Practitioner the element a ``patient.*`` / ``practitioner.*``
    field maps to (replacing what the element held); other linkIds change nothing."""
    kind, _, part = link_id.partition(".")
    if link_id in template.identifier_systems:
        system = template.identifier_systems[link_id]
        others = [i for i in resource.get("identifier", []) if i.get("system") != system]
        resource["identifier"] = [*others, {"system": system, "value": value}]
    elif part in ("family", "given"):
        name = (resource.get("name") or [{}])[0]
        name[part] = [value] if part == "given" else value
        resource["name"] = [name, *resource.get("name", [])[1:]]
    elif part == "phone":
        others = [t for t in resource.get("telecom", []) if t.get("system") != "phone"]
        resource["telecom"] = [{"system": "phone", "value": value,
                                "use": "work" if kind == "practitioner" else "home"}, *others]
    elif kind == "patient" and part in ("gender", "birthDate"):
        resource[part] = value
    elif kind == "patient" and part.startswith("address."):
        address = (resource.get("address") or [{"use": "home", "country": COUNTRIES[template.language[:2]]}])[0]
        element = part.split(".", 1)[1]
        address[element] = [value] if element == "line" else value
        resource["address"] = [address, *resource.get("address", [])[1:]]


def _coverage(out: _Entries, value: dict, patient: str, page: int) -> None:
    if value.get("coverage.payor"):
        out.add(f"Coverage/{page}", coverage(value["coverage.payor"], value.get("coverage.subscriberId"), patient))


def coverage(payor: str, subscriber_id: str | None, patient: str) -> dict:
    """The Coverage a form's insurer and member number describe (payor by name only)."""
    resource = {"resourceType": "Coverage", "status": "active", "beneficiary": {"reference": patient},
                "payor": [{"display": payor}]}
    if subscriber_id:
        resource["subscriberId"] = subscriber_id
    return resource


def allergy(concept, patient: str, recorded: str) -> dict:
    """An allergen the form names, as written (not verified: the patient or a referrer wrote it)."""
    return {"resourceType": "AllergyIntolerance", "clinicalStatus": ALLERGY_CLINICAL,
            "verificationStatus": ALLERGY_UNCONFIRMED, "type": "allergy",
            "code": {"coding": list(concept.codings), "text": concept.text} if concept.codings
            else {"text": concept.text},
            "patient": {"reference": patient}, "recordedDate": recorded}


def _review(out: _Entries, reading: FieldReading, page: PageReading, qr: str, patient: str | None,
            source: Source, min_confidence: float) -> None:
    f = reading.field
    _, png = cv2.imencode(".png", reading.crop)
    crop = {"resourceType": "Binary", "contentType": "image/png", "data": base64.b64encode(png.tobytes()).decode()}
    if patient:
        crop["securityContext"] = {"reference": patient}
    binary = out.add(f"Binary/{page.number}/{f.link_id}", crop)
    problem = reading.problem(min_confidence) or "not read"
    task = {
        "resourceType": "Task", "status": "requested", "intent": "order", "priority": "routine",
        "code": TASK_CODE,
        "description": f"Check '{f.label}' ({f.link_id}) on page {page.number} of the {page.template.id} form: "
                       f"{problem}",
        "focus": {"reference": qr}, "authoredOn": source.received,
        "input": [
            _input("linkId", {"valueString": f.link_id}),
            _input("label", {"valueString": f.label}),
            _input("candidate", {"valueString": reading.text or ""}) if reading.text else None,
            _input("confidence", {"valueDecimal": round(reading.confidence, 3)}),
            _input("problem", {"valueString": problem}),
            _input("image", {"valueReference": {"reference": binary}}),
            _input("document", {"valueReference": {"reference": source.document}}) if source.document else None,
        ],
    }
    task["input"] = [i for i in task["input"] if i]
    if patient:
        task["for"] = {"reference": patient}
    out.add(f"Task/{page.number}/{f.link_id}", task)


def _input(kind: str, value: dict) -> dict:
    return {"type": {"text": kind}, **value}
