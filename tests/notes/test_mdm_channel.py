"""From an HL7 MDM^T02 on a real MLLP socket to unconfirmed allergies and medications."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from tests.mllp.conftest import RunningChannel
from tests.mllp.test_processing import wait_settled

AUTHORITY = "CHU-NOTES"


def mdm(control_id: str, patient_id: str, lines: list[str], document: str = "DOC-1") -> bytes:
    segments = [
        f"MSH|^~\\&|DOCS|{AUTHORITY}|PASSERELLE|COORD|20240305170000||MDM^T02^MDM_T02|{control_id}|P|2.6",
        "EVN|T02|20240305170000",
        f"PID|1||{patient_id}^^^{AUTHORITY}^PI||BLANC^Odile||19500101|F",
        f"TXA|1|DS^Discharge summary^HL70270|TX|20240305165000||||||||{document}^DOCS|||||AU",
        *(f"OBX|{i}|TX|11490-0^Discharge summary^LN||{line}||||||F" for i, line in enumerate(lines, 1)),
    ]
    return "\r".join(segments).encode("utf-8") + b"\r"


def eventually(read, expected, timeout: float = 30):
    """The inbox marks a message done when its transaction commits; the notes are read just
    after that commit, so their resources may land a moment later."""
    deadline = time.monotonic() + timeout
    while (found := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


@pytest.fixture
def channel(server):
    settings = replace(server.ctx.settings, inbox_workers=1, inbox_lease_seconds=30, mllp_idle_timeout_seconds=5)
    running = RunningChannel(server.ctx, settings)
    yield running
    running.stop()


def test_a_discharge_summary_message_becomes_unconfirmed_allergies_and_treatments(channel, server, fhir):
    lines = ["Patiente hospitalisée pour infarctus.",
             "Allergie à la pénicilline (urticaire) ; pas d'allergie à l'iode.",
             "Traitement de sortie : Kardégic 75 mg 1 sachet par jour, bisoprolol 2,5 mg le matin."]
    # the same document sent twice (two messages): its second version says the same, nothing doubles
    channel.send(mdm("NLP-1", "PN-1", lines), mdm("NLP-2", "PN-1", lines))
    rows = wait_settled(server, 2)
    assert {r.state for r in rows} == {"done"}, [r.error for r in rows]
    patient = fhir.get("/Patient", params={"identifier": f"urn:passerelle:v2:authority:{AUTHORITY}|PN-1"}).json()
    patient_id = patient["entry"][0]["resource"]["id"]
    [document] = fhir.get("/DocumentReference", params={"subject": f"Patient/{patient_id}"}).json()["entry"]
    version = f"DocumentReference/{document['resource']['id']}/_history/{document['resource']['meta']['versionId']}"
    count = lambda: len(fhir.get("/Provenance", params={"entity": version}).json().get("entry", []))  # noqa: E731
    assert eventually(count, 3) == 3
    allergies = fhir.get("/AllergyIntolerance", params={"patient": patient_id}).json().get("entry", [])
    assert [a["resource"]["code"]["text"] for a in allergies] == ["pénicilline"]
    assert allergies[0]["resource"]["verificationStatus"]["coding"][0]["code"] == "unconfirmed"
    statements = fhir.get("/MedicationStatement", params={"subject": f"Patient/{patient_id}"}).json().get("entry", [])
    assert sorted(s["resource"]["medicationCodeableConcept"]["text"] for s in statements) == ["Kardégic", "bisoprolol"]
