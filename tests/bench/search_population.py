"""Synthetic patient records for the search benchmark (no real data), deterministic by seed.

A *group* is one Patient and everything about them: Encounters spread over 2015-2025,
per Encounter a vital-signs set (heart and respiratory rate, temperature, SpO2, weight,
systolic 8480-6 and diastolic 8462-4 blood pressure as separate Observations, as most
HL7 v2 feeds send them) and often a lab panel (LOINC, UCUM ``valueQuantity``), sometimes
a rare lab (HbA1c, SARS-CoV-2 PCR, troponin, BNP: what ``_has`` queries look for),
Conditions, MedicationRequests and Appointments. About 55 resources per Patient, so
10k resources are ~180 Patients and 1M ~18,000: what one Patient has does not change
with the size, which is what makes latency growth comparable across sizes.

Group ``k`` depends only on (seed, k): ``group(k)`` regenerates it anywhere (a loading
worker, or the benchmark sampling query values) without generating the others, and
``plan(size)`` sizes a population from the groups' structure alone (cheap).

Bump ``GENERATOR_VERSION`` whenever what this module generates changes: loaded
benchmark databases are cached under it (see ``tests/bench/search.py``).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

GENERATOR_VERSION = 1
DEFAULT_SEED = 20241128

FAMILY = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
          "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
          "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Nguyen",
          "Diallo", "Benali", "Haddad", "Rossi", "Schmitt", "Müller", "Da Silva", "O'Connor", "Kowalski", "Smith"]
# Martin is France's most common family name: about 1 in 25 Patients here, the others ~1 in 41.
FAMILY_WEIGHTS = [2.5] + [1.0] * (len(FAMILY) - 1)
GIVEN_F = ["Marie", "Camille", "Léa", "Manon", "Chloé", "Inès", "Jeanne", "Hélène", "Sophie", "Aïcha", "Emma",
           "Louise", "Anne", "Claire", "Fatou", "Nadia", "Zoé", "Julie", "Élise", "Margaux"]
GIVEN_M = ["Jean", "Pierre", "Louis", "Lucas", "Hugo", "Thomas", "Nicolas", "Karim", "Mamadou", "Paul", "Antoine",
           "Julien", "Mathieu", "François", "Yanis", "Léo", "Gabriel", "Arthur", "Noé", "Olivier"]
CITIES = [("Lyon", "69003"), ("Villeurbanne", "69100"), ("Grenoble", "38000"), ("Saint-Étienne", "42000"),
          ("Annecy", "74000"), ("Valence", "26000"), ("Chambéry", "73000"), ("Bourg-en-Bresse", "01000")]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ATC = "http://www.whocc.no/atc"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
MRN_SYSTEM = "urn:oid:1.2.250.1.71.4.2.7"
INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
SYSTOLIC = "8480-6"

# (LOINC, display, UCUM unit, low, high, decimals)
VITALS = [
    ("8867-4", "Heart rate", "/min", 50, 120, 0),
    ("9279-1", "Respiratory rate", "/min", 10, 28, 0),
    ("8310-5", "Body temperature", "Cel", 35.8, 39.5, 1),
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 88, 100, 0),
    ("29463-7", "Body weight", "kg", 45, 130, 1),
    (SYSTOLIC, "Systolic blood pressure", "mm[Hg]", 95, 180, 0),
    ("8462-4", "Diastolic blood pressure", "mm[Hg]", 55, 110, 0),
]
LABS = [
    ("2339-0", "Glucose [Mass/volume] in Blood", "g/L", 0.7, 2.4, 2),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 9.0, 17.5, 1),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/L", 5.0, 20.0, 1),
    ("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.2, 5.6, 1),
    ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 128, 148, 0),
    ("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", 0.5, 150, 1),
    ("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", 3.0, 18.0, 1),
    ("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 120, 450, 0),
]
# Labs a minority of Patients ever get (probability per Patient): the _has queries look for these.
RARE_LABS = [
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 5.0, 11.0, 1, 0.12),
    ("94500-6", "SARS-CoV-2 RNA [Presence] in Respiratory specimen by NAA with probe detection", None, 0, 0, 0, 0.08),
    ("10839-9", "Troponin I.cardiac [Mass/volume] in Serum or Plasma", "ng/mL", 0.0, 2.0, 3, 0.05),
    ("30934-4", "Natriuretic peptide B [Mass/volume] in Serum or Plasma", "pg/mL", 10, 1500, 0, 0.04),
]
CONDITIONS = [
    ("38341003", "Hypertensive disorder", "I10"), ("44054006", "Diabetes mellitus type 2", "E11"),
    ("195967001", "Asthma", "J45"), ("13645005", "Chronic obstructive lung disease", "J44"),
    ("49436004", "Atrial fibrillation", "I48"), ("84114007", "Heart failure", "I50"),
    ("709044004", "Chronic kidney disease", "N18"), ("35489007", "Depressive disorder", "F32"),
    ("233604007", "Pneumonia", "J18"), ("68566005", "Urinary tract infection", "N39.0"),
]
MEDICATIONS = [
    ("C09AA05", "ramipril 5 mg", "1 comprimé le matin"), ("A10BA02", "metformine 1000 mg", "1 comprimé matin et soir"),
    ("B01AF01", "rivaroxaban 20 mg", "1 comprimé le soir"), ("C07AB07", "bisoprolol 2,5 mg", "1 comprimé le matin"),
    ("R03AC02", "salbutamol 100 µg/dose", "2 bouffées si besoin"),
    ("N06AB10", "escitalopram 10 mg", "1 comprimé le soir"),
    ("C03CA01", "furosémide 40 mg", "1 comprimé le matin"),
    ("N02BE01", "paracétamol 1 g", "1 comprimé 3 fois par jour"),
    ("C10AA05", "atorvastatine 20 mg", "1 comprimé le soir"),
    ("J01CA04", "amoxicilline 1 g", "1 comprimé 3 fois par jour"),
]
ENCOUNTER_CLASS = [("AMB", "ambulatory"), ("AMB", "ambulatory"), ("IMP", "inpatient encounter"), ("EMER", "emergency")]
APPOINTMENT_SERVICES = ["Consultation de cardiologie", "Consultation de diabétologie", "Bilan infirmier à domicile",
                        "Consultation de médecine générale", "Kinésithérapie"]
START, END = datetime(2015, 1, 1), datetime(2025, 7, 1)


@dataclass(frozen=True)
class Shape:
    """The structure of group k, drawn before its content: sizes only."""

    encounters: int
    vitals: tuple[bool, ...]  # per encounter: a vital-signs set was taken
    labs: tuple[int, ...]  # per encounter: how many routine labs
    rare: tuple[int, ...]  # indexes into RARE_LABS this Patient had (once each)
    conditions: int
    medications: int
    appointments: int

    @property
    def size(self) -> int:
        observations = sum(len(VITALS) for v in self.vitals if v) + sum(self.labs) + len(self.rare)
        return 1 + self.encounters + observations + self.conditions + self.medications + self.appointments


@dataclass(frozen=True)
class Plan:
    """Groups 0..groups-1; the last one cut to ``last_size`` resources so the total is exact."""

    size: int
    groups: int
    last_size: int


class SearchPopulation:
    def __init__(self, seed: int = DEFAULT_SEED):
        self.seed = seed

    def _rng(self, k: int) -> random.Random:
        return random.Random(self.seed * 1_000_003 + k)

    @staticmethod
    def _shape(rng: random.Random) -> Shape:
        encounters = rng.randint(2, 8)
        vitals = tuple(rng.random() < 0.8 for _ in range(encounters))
        labs = tuple(rng.randint(3, 8) if rng.random() < 0.5 else 0 for _ in range(encounters))
        rare = tuple(i for i, lab in enumerate(RARE_LABS) if rng.random() < lab[-1])
        return Shape(encounters, vitals, labs, rare, rng.randint(0, 4), rng.randint(0, 6), rng.randint(0, 3))

    def shape(self, k: int) -> Shape:
        return self._shape(self._rng(k))

    def plan(self, size: int) -> Plan:
        total, k = 0, 0
        while True:
            n = self.shape(k).size
            if total + n >= size:
                return Plan(size, k + 1, size - total)
            total += n
            k += 1

    def group(self, k: int, limit: int | None = None) -> list[tuple[str, dict]]:
        """(id, resource) of group ``k``, the Patient first; ``limit`` cuts it (the last group)."""
        rng = self._rng(k)
        shape = self._shape(rng)
        gen = _Group(rng, k)
        out = gen.build(shape)
        return out[:limit] if limit is not None else out


class _Group:
    def __init__(self, rng: random.Random, k: int):
        self.rng = rng
        self.k = k
        self.out: list[tuple[str, dict]] = []

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _add(self, resource: dict) -> str:
        fhir_id = self._id()
        self.out.append((fhir_id, resource))
        return f"{resource['resourceType']}/{fhir_id}"

    def _moment(self, start: datetime, end: datetime) -> datetime:
        return start + timedelta(seconds=self.rng.randrange(int((end - start).total_seconds())))

    @staticmethod
    def _instant(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%S+01:00")

    def build(self, shape: Shape) -> list[tuple[str, dict]]:
        rng = self.rng
        patient = self._add(self.patient())
        moments = sorted(self._moment(START, END) for _ in range(shape.encounters))
        encounters = [(self._add(self.encounter(patient, m)), m) for m in moments]
        for (enc, moment), vitals, labs in zip(encounters, shape.vitals, shape.labs):
            if vitals:
                for i, spec in enumerate(VITALS):
                    self._add(self.observation(patient, enc, moment + timedelta(minutes=5 + i), spec, "vital-signs"))
            for spec in rng.sample(LABS, labs):
                self._add(self.observation(patient, enc, moment + timedelta(minutes=40), spec, "laboratory"))
        for i in shape.rare:
            enc, moment = rng.choice(encounters)
            self._add(self.observation(patient, enc, moment + timedelta(minutes=50), RARE_LABS[i][:-1], "laboratory"))
        for _ in range(shape.conditions):
            enc, moment = rng.choice(encounters)
            self._add(self.condition(patient, enc, moment))
        for _ in range(shape.medications):
            enc, moment = rng.choice(encounters)
            self._add(self.medication_request(patient, enc, moment))
        for _ in range(shape.appointments):
            self._add(self.appointment(patient))
        return self.out

    # -- resources ----------------------------------------------------------------------

    def patient(self) -> dict:
        rng = self.rng
        female = rng.random() < 0.52
        family = rng.choices(FAMILY, FAMILY_WEIGHTS)[0]
        given = [rng.choice(GIVEN_F if female else GIVEN_M)]
        if rng.random() < 0.4:
            given.append(rng.choice(GIVEN_F if female else GIVEN_M))
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(33000))
        city, postal = rng.choice(CITIES)
        ins = f"{2 if female else 1}{born:%y%m}{rng.randrange(1, 96):02d}{rng.randrange(1, 999):03d}" \
              f"{self.k % 1000:03d}"
        names = [{"use": "official", "family": family, "given": given}]
        if female and rng.random() < 0.3:
            names.append({"use": "maiden", "family": rng.choices(FAMILY, FAMILY_WEIGHTS)[0], "given": given[:1]})
        return {
            "resourceType": "Patient",
            "identifier": [
                {"use": "usual",
                 "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                 "system": MRN_SYSTEM, "value": f"MRN{self.k:08d}"},
                {"use": "official", "system": INS_SYSTEM, "value": ins},
            ],
            "active": True,
            "name": names,
            "telecom": [{"system": "phone", "use": "home",
                         "value": f"+33 4 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)} "
                                  f"{rng.randrange(10, 99)}"}],
            "gender": "female" if female else "male",
            "birthDate": born.isoformat(),
            "address": [{"use": "home", "line": [f"{rng.randrange(1, 180)} rue Victor Hugo"], "city": city,
                         "postalCode": postal, "country": "FR"}],
        }

    def encounter(self, patient: str, start: datetime) -> dict:
        code, display = self.rng.choice(ENCOUNTER_CLASS)
        hours = {"AMB": 1, "EMER": 6, "IMP": 24 * self.rng.randint(1, 10)}[code]
        return {
            "resourceType": "Encounter",
            "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.9", "value": f"VN{self.rng.getrandbits(40):012d}"}],
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": code, "display": display},
            "type": [{"coding": [{"system": SNOMED, "code": "185349003", "display": "Encounter for check up"}]}],
            "subject": {"reference": patient},
            "period": {"start": self._instant(start), "end": self._instant(start + timedelta(hours=hours))},
        }

    def observation(self, patient: str, encounter: str, when: datetime, spec: tuple, category: str) -> dict:
        code, display, unit, low, high, decimals = spec
        obs = {
            "resourceType": "Observation",
            "status": "final",
            "category": [{"coding": [{"system": OBS_CATEGORY, "code": category}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
            "subject": {"reference": patient},
            "encounter": {"reference": encounter},
            "effectiveDateTime": self._instant(when),
            "issued": self._instant(when + timedelta(minutes=self.rng.randrange(5, 240))),
        }
        if unit is None:  # a qualitative result
            detected = self.rng.random() < 0.2
            result = "260373001" if detected else "260415000"
            obs["valueCodeableConcept"] = {"coding": [{"system": SNOMED, "code": result,
                                                       "display": "Detected" if detected else "Not detected"}]}
        else:
            value = round(self.rng.uniform(low, high), decimals)
            obs["valueQuantity"] = {"value": int(value) if decimals == 0 else value, "unit": unit, "system": UCUM,
                                    "code": unit}
        return obs

    def condition(self, patient: str, encounter: str, when: datetime) -> dict:
        snomed, display, icd = self.rng.choice(CONDITIONS)
        return {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": self.rng.choice(["active", "active", "resolved"])}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                               "code": "confirmed"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                      "code": "encounter-diagnosis"}]}],
            "code": {"coding": [{"system": SNOMED, "code": snomed, "display": display},
                                {"system": ICD10, "code": icd}], "text": display},
            "subject": {"reference": patient},
            "encounter": {"reference": encounter},
            "onsetDateTime": self._instant(when - timedelta(days=self.rng.randrange(2000))),
            "recordedDate": self._instant(when),
        }

    def medication_request(self, patient: str, encounter: str, when: datetime) -> dict:
        atc, display, dosage = self.rng.choice(MEDICATIONS)
        return {
            "resourceType": "MedicationRequest",
            "status": "active" if when > datetime(2024, 6, 1) else "completed",
            "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": ATC, "code": atc, "display": display}],
                                          "text": display},
            "subject": {"reference": patient},
            "encounter": {"reference": encounter},
            "authoredOn": self._instant(when),
            "dosageInstruction": [{"text": dosage}],
        }

    def appointment(self, patient: str) -> dict:
        start = self._moment(datetime(2024, 1, 1), datetime(2026, 6, 30)).replace(minute=0, second=0)
        return {
            "resourceType": "Appointment",
            "status": "booked" if start > datetime(2025, 7, 1) else "fulfilled",
            "serviceType": [{"text": self.rng.choice(APPOINTMENT_SERVICES)}],
            "start": self._instant(start),
            "end": self._instant(start + timedelta(minutes=30)),
            "participant": [{"actor": {"reference": patient}, "status": "accepted"}],
        }
