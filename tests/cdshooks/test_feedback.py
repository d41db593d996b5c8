"""CDS Hooks feedback: card outcomes kept on the DetectedIssue the card stands for."""

from __future__ import annotations

import pytest

from tests.alerts.fhirdata import allergy, order, patient
from tests.cdshooks.hooks import request, store

SERVICE = "/cds-services/passerelle-patient-alerts"


@pytest.fixture
def http(cds):
    with cds.client() as client:
        yield client


def test_override_is_kept_on_the_alert_and_survives_a_recheck(http):
    p = store(http, patient())
    a = store(http, allergy(p["id"], text="penicillin", verification="unconfirmed"))
    store(http, order(p["id"], text="amoxicillin"))
    [card] = http.post(SERVICE, json=request("patient-view", p["id"])).json()["cards"]
    reason = card["overrideReasons"][1]
    item = {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-12-02T01:02:03Z",
            "overrideReason": {"reason": reason, "userComment": "took it last year"}}
    for _ in range(2):  # sent twice: kept once
        r = http.post(f"{SERVICE}/feedback", json={"feedback": [item]})
        assert r.status_code == 200, r.text
    issue = http.get(f"/fhir/DetectedIssue/{card['uuid']}").json()
    assert issue["mitigation"] == [{"action": {"text": f"CDS card overridden: {reason['display']} (took it last year)"},
                                    "date": "2026-12-02T01:02:03Z"}]
    assert issue["status"] == "preliminary"
    # The allergy is confirmed: the alert is rewritten (final) and keeps what the clinician did.
    a["verificationStatus"]["coding"][0]["code"] = "confirmed"
    assert http.put(f"/fhir/AllergyIntolerance/{a['id']}", json=a).status_code == 200
    updated = http.get(f"/fhir/DetectedIssue/{card['uuid']}").json()
    assert (updated["status"], updated["mitigation"]) == ("final", issue["mitigation"])


def test_feedback_on_an_unstored_card_is_acknowledged(http):
    body = {"feedback": [{"card": "00000000-0000-0000-0000-000000000000", "outcome": "accepted",
                          "outcomeTimestamp": "2026-12-02T01:00:00Z", "acceptedSuggestions": [{"id": "x"}]}]}
    assert http.post(f"{SERVICE}/feedback", json=body).status_code == 200


@pytest.mark.parametrize("body, words", [
    ({}, "feedback"),
    ({"feedback": [{"outcome": "accepted", "outcomeTimestamp": "2026-12-02T01:00:00Z"}]}, "card"),
    ({"feedback": [{"card": "c", "outcome": "ignored", "outcomeTimestamp": "2026-12-02T01:00:00Z"}]}, "outcome"),
    ({"feedback": [{"card": "c", "outcome": "accepted"}]}, "outcomeTimestamp"),
])
def test_malformed_feedback(http, body, words):
    r = http.post(f"{SERVICE}/feedback", json=body)
    assert r.status_code == 400 and words in r.json()["error"]
