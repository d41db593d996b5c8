"""Findings -> AllergyIntolerance, MedicationStatement and their Provenance (FHIR R4).

Everything extracted is unconfirmed: AllergyIntolerance.verificationStatus says so, and
both kinds carry the ``NLP_TAG`` meta tag (R4 MedicationStatement has no verification
status). Each resource gets a Provenance whose entity is the source document, with the
exact character span (``SPAN_EXTENSION``). Identifiers and ids derive from the source
document and the span, so that the same text maps to the same resources (the server's
conditional creates make re-processing change nothing); Provenance names the version.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

from terminology import lexicon

from .model import Allergy, Findings, Medication, Mention

NLP_SYSTEM = "urn:passerelle:nlp"  # extracted resources: "<document>/<kind>/<start>-<end>/<concept>"
NLP_TAG = {"system": NLP_SYSTEM, "code": "unconfirmed", "display": "Extracted from a note by NLP, not confirmed"}
SPAN_EXTENSION = "http://passerelle.example/StructureDefinition/source-text-span"
CERTAINTY_EXTENSION = "http://hl7.org/fhir/StructureDefinition/allergyintolerance-certainty"
CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
CERTAINTY = "http://terminology.hl7.org/CodeSystem/reaction-event-certainty"
UCUM = "http://unitsofmeasure.org"
_UCUM_UNITS = {"mg": "mg", "g": "g", "µg": "ug", "mg/mL": "mg/mL", "%": "%", "µg/h": "ug/h", "mg/h": "mg/h"}
_PERIOD_UNITS = {"h": "h", "d": "d", "wk": "wk", "mo": "mo"}
_DOSE_UNITS = {"unit": ("[iU]", "unit")}
_UNSAFE = re.compile(r"[^A-Za-z0-9:._-]")


@dataclass(frozen=True)
class Source:
    """The note the findings come from."""

    recorded: str  # FHIR instant of the extraction (passed in: mappers have no clock)
    document: str | None = None  # the note's versioned reference, "DocumentReference/12/_history/3"
    subject: str | None = None  # "Patient/7"
    text_key: str = ""  # distinguishes raw texts that have no document (a hash of the text)

    @property
    def key(self) -> str:
        """What identifiers are made of: the document without its version, so that a new
        version saying the same thing maps to the same resources."""
        return self.document.split("/_history/")[0] if self.document else f"text:{self.text_key}"


def to_resources(found: Findings, source: Source) -> list[tuple[dict, dict]]:
    """(resource, its Provenance) for each finding; Provenance.target is filled by ``to_bundle``."""
    pairs = [(_allergy(a, source), _provenance(a.mention, source, "allergy", a.concept)) for a in found.allergies]
    pairs += [(_medication(m, source), _provenance(m.mention, source, "medication", m.concept))
              for m in found.medications]
    return pairs


def to_bundle(found: Findings, source: Source, *, kind: str = "transaction") -> dict:
    """A transaction (conditional creates, then the Provenance by id), or a collection to show."""
    entries = []
    for resource, provenance in to_resources(found, source):
        full_url = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, resource['identifier'][0]['value'])}"
        provenance["target"] = [{"reference": full_url}]
        value = resource["identifier"][0]["value"]
        if kind == "transaction":
            entries.append({"fullUrl": full_url, "resource": resource, "request": {
                "method": "POST", "url": resource["resourceType"],
                "ifNoneExist": f"identifier={NLP_SYSTEM}|{value}"}})
            entries.append({"fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'provenance:' + value)}",
                            "resource": provenance,
                            "request": {"method": "PUT", "url": f"Provenance/{provenance['id']}"}})
        else:
            entries += [{"fullUrl": full_url, "resource": resource},
                        {"fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'provenance:' + value)}",
                         "resource": provenance}]
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def _identifier(mention: Mention, source: Source, kind: str, concept: lexicon.Concept) -> dict:
    # The concept too: a later version of the note may say something else at the same place.
    # Only characters a search query carries as they are (no "+", "&", spaces).
    slug = _UNSAFE.sub("-", concept.id)
    return {"system": NLP_SYSTEM, "value": f"{source.key}/{kind}/{mention.start}-{mention.end}/{slug}"}


def _common(resource_type: str, mention: Mention, source: Source, kind: str, concept: lexicon.Concept) -> dict:
    return {"resourceType": resource_type, "meta": {"tag": [dict(NLP_TAG)]},
            "identifier": [_identifier(mention, source, kind, concept)]}


def _code(concept: lexicon.Concept, mention: Mention) -> dict:
    return {"coding": [dict(c) for c in concept.codings], "text": mention.text}


def _allergy(a: Allergy, source: Source) -> dict:
    resource = _common("AllergyIntolerance", a.mention, source, "allergy", a.concept)
    resource |= {
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "unconfirmed"}]},
        "category": [a.concept.category],
        "code": _code(a.concept, a.mention),
    }
    if source.subject:
        resource["patient"] = {"reference": source.subject}
    if source.recorded:
        resource["recordedDate"] = source.recorded
    reactions = lexicon.load().reactions
    if a.reactions:
        reaction = {"manifestation": [{"coding": [reactions[r].coding()], "text": reactions[r].display}
                                      for r in a.reactions]}
        if a.severity:
            reaction["severity"] = a.severity
        if a.certainty == "possible":
            reaction["extension"] = [{"url": CERTAINTY_EXTENSION, "valueCodeableConcept": {
                "coding": [{"system": CERTAINTY, "code": "likely"}], "text": "possible"}}]
        resource["reaction"] = [reaction]
    if a.certainty == "possible":
        resource["note"] = [{"text": "The note words this allergy as possible or suspected."}]
    return resource


def _medication(m: Medication, source: Source) -> dict:
    resource = _common("MedicationStatement", m.mention, source, "medication", m.concept)
    resource |= {"status": m.status, "medicationCodeableConcept": _code(m.concept, m.mention)}
    if source.subject:
        resource["subject"] = {"reference": source.subject}
    if source.document:
        resource["derivedFrom"] = [{"reference": source.document}]
    if source.recorded:
        resource["dateAsserted"] = source.recorded
    dosage = _dosage(m)
    if dosage:
        resource["dosage"] = [dosage]
    return resource


def _dosage(m: Medication) -> dict:
    s = m.sig
    dosage: dict = {}
    if s.text and (s.strength or s.dose or s.route or s.frequency):
        dosage["text"] = s.text
    quantity = _quantity(s.dose) if s.dose else _quantity(s.strength) if s.strength else None
    if quantity:
        dosage["doseAndRate"] = [{"doseQuantity": quantity}]
    if s.route:
        dosage["route"] = {"coding": [lexicon.load().routes[s.route].coding()]}
    if s.frequency:
        every, _, prn = s.frequency.partition(" ")
        if every == "prn":
            prn = "prn"
        else:
            count, _, period = every.partition("/")
            value, unit = period[:-2] if period.endswith("wk") else period[:-1], \
                "wk" if period.endswith("wk") else period[-1]
            dosage["timing"] = {"repeat": {"frequency": int(count), "period": float(value) if "." in value
                                           else int(value), "periodUnit": _PERIOD_UNITS[unit]}}
        if prn:
            dosage["asNeededBoolean"] = True
    return dosage


def _quantity(text: str) -> dict | None:
    value, _, unit = text.partition(" ")
    if "/" in value:  # a combination strength (875/125 mg): the text says it, a Quantity cannot
        return None
    number = float(value) if "." in value else int(value)
    if unit in _UCUM_UNITS:
        return {"value": number, "unit": unit, "system": UCUM, "code": _UCUM_UNITS[unit]}
    if unit in _DOSE_UNITS:
        code, display = _DOSE_UNITS[unit]
        return {"value": number, "unit": display, "system": UCUM, "code": code}
    return {"value": number, "unit": unit}


def _provenance(mention: Mention, source: Source, kind: str, concept: lexicon.Concept) -> dict:
    identifier = _identifier(mention, source, kind, concept)["value"]
    provenance = {
        "resourceType": "Provenance",
        "id": "nlp-" + hashlib.sha256(identifier.encode()).hexdigest()[:40],
        "meta": {"tag": [dict(NLP_TAG)]},
        "target": [],
        "recorded": source.recorded,
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                 "code": "CREATE"}], "text": "extracted by clinical NLP"},
        "agent": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                        "code": "assembler"}]},
                   "who": {"display": "Passerelle clinical NLP (medspaCy)"}}],
    }
    entity = {"role": "source", "extension": [{"url": SPAN_EXTENSION, "extension": [
        {"url": "start", "valueInteger": mention.start},
        {"url": "end", "valueInteger": mention.end},
        {"url": "text", "valueString": mention.text}]}]}
    entity["what"] = {"reference": source.document} if source.document else {"display": "text given to $extract"}
    provenance["entity"] = [entity]
    return provenance
