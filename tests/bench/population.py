"""Synthetic, deterministic FHIR R4 population for the benchmarks (no real data).

``Population(seed)`` yields Patients (names, identifiers, telecom, addresses),
Encounters, Conditions and Observations (vital signs and labs with ``valueQuantity``,
blood pressure with components) that reference each other. The same seed gives the
same resources, byte for byte.

- ``patient()``: one Patient for a plain ``POST /fhir/Patient``;
- ``transaction(size)``: a transaction Bundle of about ``size`` entries, every entry a
  POST with a ``urn:uuid:`` fullUrl, references between entries by those urns;
- ``stored_rows(n)``: ``n`` resources with ids assigned, as a store would hold them,
  each with ~10 index-like (param, system, value) rows, for the raw-SQL baseline.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta

FAMILY = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
          "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
          "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Nguyen",
          "Diallo", "Benali", "Haddad", "Rossi", "Schmitt", "Müller", "Da Silva", "O'Connor", "Kowalski", "Smith"]
GIVEN_F = ["Marie", "Camille", "Léa", "Manon", "Chloé", "Inès", "Jeanne", "Hélène", "Sophie", "Aïcha", "Emma",
           "Louise", "Anne", "Claire", "Fatou", "Nadia", "Zoé", "Julie", "Élise", "Margaux"]
GIVEN_M = ["Jean", "Pierre", "Louis", "Lucas", "Hugo", "Thomas", "Nicolas", "Karim", "Mamadou", "Paul", "Antoine",
           "Julien", "Mathieu", "François", "Yanis", "Léo", "Gabriel", "Arthur", "Noé", "Olivier"]
STREETS = ["rue de la République", "avenue Jean Jaurès", "boulevard Pasteur", "rue Victor Hugo", "place de la Mairie",
           "chemin des Vignes", "rue du Moulin", "allée des Tilleuls", "rue Nationale", "impasse des Lilas"]
CITIES = [("Lyon", "69003"), ("Villeurbanne", "69100"), ("Grenoble", "38000"), ("Saint-Étienne", "42000"),
          ("Annecy", "74000"), ("Valence", "26000"), ("Chambéry", "73000"), ("Bourg-en-Bresse", "01000"),
          ("Vienne", "38200"), ("Roanne", "42300")]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# (LOINC code, display, UCUM unit, low, high, decimals, category)
VITALS_AND_LABS = [
    ("8867-4", "Heart rate", "/min", 50, 120, 0, "vital-signs"),
    ("9279-1", "Respiratory rate", "/min", 10, 28, 0, "vital-signs"),
    ("8310-5", "Body temperature", "Cel", 35.8, 39.5, 1, "vital-signs"),
    ("29463-7", "Body weight", "kg", 45, 130, 1, "vital-signs"),
    ("8302-2", "Body height", "cm", 150, 200, 0, "vital-signs"),
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 88, 100, 0, "vital-signs"),
    ("2339-0", "Glucose [Mass/volume] in Blood", "g/L", 0.7, 2.4, 2, "laboratory"),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 9.0, 17.5, 1, "laboratory"),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/L", 5.0, 20.0, 1, "laboratory"),
    ("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.2, 5.6, 1, "laboratory"),
    ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 128, 148, 0, "laboratory"),
    ("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", 0.5, 150, 1, "laboratory"),
]
CONDITIONS = [
    ("38341003", "Hypertensive disorder", "I10"), ("44054006", "Diabetes mellitus type 2", "E11"),
    ("195967001", "Asthma", "J45"), ("13645005", "Chronic obstructive lung disease", "J44"),
    ("49436004", "Atrial fibrillation", "I48"), ("84114007", "Heart failure", "I50"),
    ("709044004", "Chronic kidney disease", "N18"), ("35489007", "Depressive disorder", "F32"),
    ("233604007", "Pneumonia", "J18"), ("68566005", "Urinary tract infection", "N39.0"),
]
ENCOUNTER_CLASS = [("AMB", "ambulatory"), ("IMP", "inpatient encounter"), ("EMER", "emergency")]


class Population:
    def __init__(self, seed: int = 20241128):
        self.rng = random.Random(seed)
        self.counter = 0

    # -- helpers ------------------------------------------------------------------------

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _moment(self, start: datetime, max_days: int) -> datetime:
        return start + timedelta(seconds=self.rng.randrange(max_days * 86400))

    @staticmethod
    def _instant(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%S+01:00")

    # -- resources ----------------------------------------------------------------------

    def patient(self) -> dict:
        rng = self.rng
        self.counter += 1
        female = rng.random() < 0.52
        family = rng.choice(FAMILY)
        given = [rng.choice(GIVEN_F if female else GIVEN_M)]
        if rng.random() < 0.4:
            given.append(rng.choice(GIVEN_F if female else GIVEN_M))
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(33000))
        city, postal = rng.choice(CITIES)
        ins = f"{1 if not female else 2}{born:%y%m}{rng.randrange(1, 96):02d}{rng.randrange(1, 999):03d}" \
              f"{rng.randrange(1, 999):03d}"
        names = [{"use": "official", "family": family, "given": given, "prefix": ["Mme" if female else "M."]}]
        if female and rng.random() < 0.3:
            names.append({"use": "maiden", "family": rng.choice(FAMILY), "given": given[:1]})
        patient = {
            "resourceType": "Patient",
            "meta": {"tag": [{"system": "urn:passerelle:source", "code": "bench"}]},
            "identifier": [
                {"use": "usual",
                 "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}],
                          "text": "MRN"},
                 "system": "urn:oid:1.2.250.1.71.4.2.7", "value": f"MRN{self.counter:06d}{rng.randrange(100):02d}"},
                {"use": "official", "system": "urn:oid:1.2.250.1.213.1.4.8", "value": ins},
            ],
            "active": True,
            "name": names,
            "telecom": [
                {"system": "phone", "value": f"+33 4 {rng.randrange(10, 99)} {rng.randrange(10, 99)} "
                                             f"{rng.randrange(10, 99)} {rng.randrange(10, 99)}", "use": "home"},
                {"system": "email", "value": f"{given[0].lower()}.{family.lower().replace(' ', '')}"
                                             f"{rng.randrange(1000)}@example.org"},
            ],
            "gender": "female" if female else "male",
            "birthDate": born.isoformat(),
            "address": [{
                "use": "home", "type": "physical",
                "line": [f"{rng.randrange(1, 180)} {rng.choice(STREETS)}"],
                "city": city, "postalCode": postal, "country": "FR",
            }],
            "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "fr-FR"}]},
                               "preferred": True}],
        }
        return patient

    def encounter(self, patient_ref: str, start: datetime) -> dict:
        code, display = self.rng.choice(ENCOUNTER_CLASS)
        end = start + timedelta(hours=self.rng.choice([1, 2, 4, 24, 72]))
        return {
            "resourceType": "Encounter",
            "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.9", "value": f"VN{self.rng.getrandbits(40):012d}"}],
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": code, "display": display},
            "type": [{"coding": [{"system": SNOMED, "code": "185349003", "display": "Encounter for check up"}]}],
            "subject": {"reference": patient_ref},
            "period": {"start": self._instant(start), "end": self._instant(end)},
            "reasonCode": [{"text": "Suivi"}],
        }

    def condition(self, patient_ref: str, encounter_ref: str, when: datetime) -> dict:
        snomed, display, icd = self.rng.choice(CONDITIONS)
        return {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                               "code": "confirmed"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                      "code": "encounter-diagnosis"}]}],
            "code": {"coding": [{"system": SNOMED, "code": snomed, "display": display},
                                {"system": ICD10, "code": icd}], "text": display},
            "subject": {"reference": patient_ref},
            "encounter": {"reference": encounter_ref},
            "onsetDateTime": self._instant(when - timedelta(days=self.rng.randrange(2000))),
            "recordedDate": self._instant(when),
        }

    def observation(self, patient_ref: str, encounter_ref: str, when: datetime) -> dict:
        rng = self.rng
        common = {"resourceType": "Observation", "status": "final"}
        if rng.random() < 0.1:  # blood pressure panel: components, no value
            return {
                **common,
                "category": [{"coding": [{"system": OBS_CATEGORY, "code": "vital-signs"}]}],
                "code": {"coding": [{"system": LOINC, "code": "85354-9", "display": "Blood pressure panel"}]},
                "subject": {"reference": patient_ref}, "encounter": {"reference": encounter_ref},
                "effectiveDateTime": self._instant(when),
                "component": [
                    {"code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                     "valueQuantity": {"value": rng.randrange(low, high), "unit": "mmHg", "system": UCUM,
                                       "code": "mm[Hg]"}}
                    for code, display, low, high in (("8480-6", "Systolic blood pressure", 95, 180),
                                                     ("8462-4", "Diastolic blood pressure", 55, 110))
                ],
            }
        code, display, unit, low, high, decimals, category = rng.choice(VITALS_AND_LABS)
        value = round(rng.uniform(low, high), decimals)
        if decimals == 0:
            value = int(value)
        return {
            **common,
            "category": [{"coding": [{"system": OBS_CATEGORY, "code": category}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
            "subject": {"reference": patient_ref},
            "encounter": {"reference": encounter_ref},
            "effectiveDateTime": self._instant(when),
            "issued": self._instant(when + timedelta(minutes=rng.randrange(5, 240))).replace("+01:00", ".000+01:00"),
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
        }

    # -- groups -------------------------------------------------------------------------

    def transaction(self, size: int = 100) -> dict:
        """A transaction Bundle of ``size`` POST entries: per Patient, 2 Encounters, 2 Conditions and
        15 Observations (20 resources), all linked by ``urn:uuid:`` references."""
        entries: list[dict] = []

        def add(resource: dict) -> str:
            full_url = f"urn:uuid:{self._uuid()}"
            entries.append({"fullUrl": full_url, "resource": resource,
                            "request": {"method": "POST", "url": resource["resourceType"]}})
            return full_url

        while len(entries) < size:
            patient_ref = add(self.patient())
            start = self._moment(datetime(2023, 1, 1), 600)
            encounters = []
            for _ in range(2):
                moment = self._moment(start, 60)
                encounters.append((add(self.encounter(patient_ref, moment)), moment))
            for i in range(2):
                ref, moment = encounters[i]
                add(self.condition(patient_ref, ref, moment))
            for i in range(15):
                ref, moment = encounters[i % 2]
                add(self.observation(patient_ref, ref, moment + timedelta(minutes=10 * i)))
        del entries[size:]
        return {"resourceType": "Bundle", "type": "transaction", "entry": entries}

    def stored_rows(self, count: int) -> list[tuple[dict, list[tuple[str, str | None, str]]]]:
        """``count`` resources as stored (ids assigned, references resolved), each with 10 index-like
        (param, system, value) rows taken from its own content."""
        out = []
        while len(out) < count:
            bundle = self.transaction(100)
            ids = {e["fullUrl"]: f"{e['resource']['resourceType']}/{self._uuid()}" for e in bundle["entry"]}
            for entry in bundle["entry"]:
                resource = _resolve(entry["resource"], ids)
                resource["id"] = ids[entry["fullUrl"]].split("/", 1)[1]
                resource["meta"] = {"versionId": "1", "lastUpdated": "2024-11-28T12:00:00.000000Z"}
                out.append((resource, index_like_rows(resource)))
        return out[:count]


def _resolve(node, ids: dict[str, str]):
    if isinstance(node, dict):
        return {k: (ids.get(v, v) if k == "reference" else _resolve(v, ids)) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, ids) for v in node]
    return node


def index_like_rows(resource: dict, count: int = 10) -> list[tuple[str, str | None, str]]:
    """``count`` (param, system, value) rows from the resource's leaves, like a search index holds."""
    rows: list[tuple[str, str | None, str]] = [("_id", None, resource["id"])]

    def walk(node, path: str, system: str | None):
        if len(rows) >= count:
            return
        if isinstance(node, dict):
            sys_ = node.get("system") if isinstance(node.get("system"), str) else system
            for key, value in node.items():
                if key not in ("system", "resourceType", "id", "meta"):
                    walk(value, f"{path}.{key}" if path else key, sys_)
        elif isinstance(node, list):
            for value in node:
                walk(value, path, system)
        elif len(rows) < count:
            rows.append((path[-100:], system, str(node)[:255]))

    walk(resource, "", None)
    while len(rows) < count:
        rows.append(("_lastUpdated", None, resource["meta"]["lastUpdated"]))
    return rows
