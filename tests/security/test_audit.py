"""AuditEvent for every FHIR request: who, what, when, patient, outcome, client; ids
only; readable by a token that names AuditEvent, and by no wildcard scope."""

from __future__ import annotations

from tests.conftest import FHIR_JSON


def _events(admin, **params) -> list[dict]:
    r = admin.get("AuditEvent", params={"_count": "100", **params})
    assert r.status_code == 200, r.text
    return [e["resource"] for e in r.json().get("entry", [])]


def test_a_read_is_audited_with_who_what_patient_and_client(secure, two_patients, admin):
    with secure.client("patient/*.rs", patient="A", user="Practitioner/doc", client_id="audited-app") as app:
        assert app.get("Observation/a-lab").status_code == 200
        assert app.get("Observation/b-lab").status_code == 404
    events = _events(admin, patient="Patient/A")
    reads = [e for e in events if e["subtype"][0]["code"] == "read"]
    assert len(reads) == 2
    ok = next(e for e in reads if e["outcome"] == "0")
    failed = next(e for e in reads if e["outcome"] == "4")
    assert ok["action"] == "R" and ok["recorded"]
    assert {"reference": "Observation/a-lab"} in [x.get("what") for x in ok["entity"]]
    assert {"reference": "Observation/b-lab"} in [x.get("what") for x in failed["entity"]]
    assert ok["agent"][0]["who"] == {"reference": "Practitioner/doc"} and ok["agent"][0]["requestor"] is True
    assert ok["agent"][1]["who"]["identifier"]["value"] == "audited-app"


def test_searches_and_creates_are_audited_without_phi(secure, two_patients, admin):
    with secure.client("user/*.cruds", client_id="writer-app") as app:
        assert app.get("Patient", params={"family": "Bravo", "birthdate": "1970-01-01"}).status_code == 200
        r = app.post("Patient", json={"resourceType": "Patient", "name": [{"family": "Charlie"}]},
                     headers={"Content-Type": FHIR_JSON})
        new_id = r.json()["id"]
    events = _events(admin)
    search = next(e for e in events if e["subtype"][0]["code"] == "search-type")
    assert search["action"] == "E"
    assert search["entity"][0]["detail"][0]["valueString"] == "birthdate,family"
    create = next(e for e in events if e["subtype"][0]["code"] == "create")
    assert create["action"] == "C" and {"reference": f"Patient/{new_id}"} in [x.get("what") for x in create["entity"]]
    text = str(events)
    assert "Bravo" not in text and "1970-01-01" not in text and "Charlie" not in text


def test_refused_requests_are_audited(secure, admin):
    with secure.client() as anonymous:
        assert anonymous.get("Patient/A").status_code == 401
    event = next(e for e in _events(admin) if e["outcome"] == "4")
    assert event["agent"][0]["who"] == {"display": "unauthenticated"}
    assert event["outcomeDesc"] == "HTTP 401"


def test_only_an_auditor_reads_the_trail(secure, two_patients):
    for scopes, patient in (("user/*.rs", None), ("system/*.cruds", None), ("patient/*.rs", "A")):
        with secure.client(scopes, patient=patient) as client:
            assert client.get("AuditEvent").status_code == 403
            assert "AuditEvent" not in str(client.get("", params={"_type": "AuditEvent,Patient"}).json()["entry"])
            assert "AuditEvent" not in str(client.get("Patient/A/*").json().get("entry", []))
    with secure.client("user/AuditEvent.rs") as auditor:
        assert auditor.get("AuditEvent").json()["entry"]
