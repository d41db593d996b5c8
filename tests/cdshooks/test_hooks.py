"""CDS Hooks 2.0 contract: discovery, patient-view, order-select, order-sign, over HTTP."""

from __future__ import annotations

import pytest

from tests.alerts.fhirdata import allergy, order, patient, statement
from tests.cdshooks.hooks import bundle, draft, request, store

PATIENT_VIEW = "/cds-services/passerelle-patient-alerts"
ORDER_SELECT = "/cds-services/passerelle-order-select-check"
ORDER_SIGN = "/cds-services/passerelle-order-sign-check"


@pytest.fixture
def http(cds):
    with cds.client() as client:
        yield client


def cards(http, path: str, body: dict) -> list[dict]:
    r = http.post(path, json=body)
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == "*"
    return r.json()["cards"]


def check_card(card: dict) -> None:
    """The required parts of a CDS Hooks 2.0 card."""
    assert card["summary"] and len(card["summary"]) < 140
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"]
    assert all(r["code"] and r["system"] for r in card["overrideReasons"])
    if "suggestions" in card:
        assert card["selectionBehavior"] == "at-most-one"
        for s in card["suggestions"]:
            assert s["label"] and s["uuid"] and s["actions"]


def test_discovery(http):
    r = http.get("/cds-services")
    assert r.status_code == 200
    services = {s["id"]: s for s in r.json()["services"]}
    assert {s["hook"] for s in services.values()} == {"patient-view", "order-select", "order-sign"}
    for s in services.values():
        assert s["title"] and s["description"]
        assert s["prefetch"]["allergies"] == "AllergyIntolerance?patient=Patient/{{context.patientId}}"
        assert "{{context.patientId}}" in s["prefetch"]["medicationRequests"]
    assert services["passerelle-patient-alerts"]["hook"] == "patient-view"


def test_patient_view_from_the_store(http):
    p = store(http, patient())
    a = store(http, allergy(p["id"], text="penicillin"))
    m = store(http, order(p["id"], rxnorm="723", display="amoxicillin"))
    [card] = cards(http, PATIENT_VIEW, request("patient-view", p["id"]))
    check_card(card)
    assert card["indicator"] == "critical"
    assert "suggestions" not in card  # nothing being ordered: nothing to remove
    assert card["source"]["topic"]["code"] == "ALGY"
    assert f"MedicationRequest/{m['id']}" in card["detail"] and f"AllergyIntolerance/{a['id']}" in card["detail"]
    # The card is the stored alert: same id.
    [issue] = http.get("/fhir/DetectedIssue", params={"patient": p["id"]}).json()["entry"]
    assert issue["resource"]["id"] == card["uuid"]


def test_patient_view_from_prefetch_only(http):
    prefetch = {
        "patient": {"resourceType": "Patient", "id": "pf-1"},
        "medicationRequests": bundle([{**order("pf-1", text="simvastatine 20 mg"), "id": "mr-1"}]),
        "medicationStatements": bundle([{**statement("pf-1", text="clarithromycine 500 mg"), "id": "ms-1"}]),
        "allergies": bundle([]),
    }
    [card] = cards(http, PATIENT_VIEW, request("patient-view", "pf-1", prefetch=prefetch))
    check_card(card)
    assert card["source"]["topic"]["code"] == "DRG"
    assert card["indicator"] == "critical"
    assert "MedicationRequest/mr-1" in card["detail"] and "MedicationStatement/ms-1" in card["detail"]


def test_prefetch_is_used_instead_of_the_store(http):
    p = store(http, patient())
    store(http, allergy(p["id"], text="penicillin"))
    store(http, order(p["id"], text="amoxicillin"))
    empty = {"medicationRequests": bundle([]), "medicationStatements": bundle([]), "allergies": bundle([])}
    assert cards(http, PATIENT_VIEW, request("patient-view", p["id"], prefetch=empty)) == []
    # A prefetch key the client could not fill (null) or left out falls back to the store, key by key.
    assert cards(http, PATIENT_VIEW, request("patient-view", p["id"], prefetch={**empty, "allergies": None})) == []
    partial = {"medicationStatements": bundle([]), "allergies": None}
    assert len(cards(http, PATIENT_VIEW, request("patient-view", p["id"], prefetch=partial))) == 1


def test_order_select_checks_the_selection(http):
    p = store(http, patient())
    store(http, allergy(p["id"], text="Allergie aux pénicillines"))
    store(http, statement(p["id"], text="warfarine 5 mg"))
    store(http, order(p["id"], text="aspirine 500 mg"))  # an existing interaction: not this hook's business
    amox = draft(order(p["id"], text="amoxicilline 1 g"), "draft-amox")
    para = draft(order(p["id"], text="metformine 500 mg"), "draft-para")
    [card] = cards(http, ORDER_SELECT, request("order-select", p["id"], drafts=[amox, para],
                                                selections=["MedicationRequest/draft-amox"]))
    check_card(card)
    assert card["indicator"] == "critical" and card["source"]["topic"]["code"] == "ALGY"
    [suggestion] = card["suggestions"]
    assert suggestion["isRecommended"] is True
    assert suggestion["actions"] == [{"type": "delete",
                                      "description": "Remove the draft order MedicationRequest/draft-amox",
                                      "resourceId": ["MedicationRequest/draft-amox"]}]
    assert cards(http, ORDER_SELECT, request("order-select", p["id"], drafts=[amox, para],
                                             selections=["MedicationRequest/draft-para"])) == []


def test_order_sign_checks_drafts_against_each_other_and_the_record(http):
    p = store(http, patient())
    store(http, statement(p["id"], text="warfarin 5 mg daily"))
    simva = draft(order(p["id"], text="simvastatin 40 mg"), "d1")
    clari = draft(order(p["id"], text="clarithromycin 500 mg"), "d2")
    aspirin = draft(order(p["id"], text="aspirin 500 mg"), "d3")
    found = cards(http, ORDER_SIGN, request("order-sign", p["id"], drafts=[simva, clari, aspirin]))
    for card in found:
        check_card(card)
    pairs = {tuple(sorted(s["actions"][0]["resourceId"][0] for s in c["suggestions"])) for c in found}
    assert ("MedicationRequest/d1", "MedicationRequest/d2") in pairs       # two drafts
    assert ("MedicationRequest/d3",) in pairs                               # a draft and the record (warfarin)
    assert all(c["indicator"] == "critical" for c in found[:2])
    # Nothing was stored by checking: drafts stay drafts of the EHR.
    assert not http.get("/fhir/DetectedIssue", params={"patient": p["id"]}).json().get("entry")


def test_medication_reference_in_draft(http):
    p = store(http, patient())
    store(http, allergy(p["id"], text="sulfonamides"))
    med = {"resourceType": "Medication", "id": "med-1", "code": {"text": "Bactrim forte"}}
    mr = draft({**order(p["id"], text="x"), "medicationReference": {"reference": "#med-1"}, "contained": [med]}, "d9")
    del mr["medicationCodeableConcept"]
    [card] = cards(http, ORDER_SIGN, request("order-sign", p["id"], drafts=[mr]))
    assert card["indicator"] == "critical"


@pytest.mark.parametrize("path, body, status, words", [
    (PATIENT_VIEW, {"hook": "order-sign", "hookInstance": "x", "context": {"patientId": "1"}}, 400, "patient-view"),
    (PATIENT_VIEW, {"hook": "patient-view", "hookInstance": "x", "context": {}}, 400, "patientId"),
    (PATIENT_VIEW, {"hook": "patient-view", "context": {"patientId": "1"}}, 400, "hookInstance"),
    (ORDER_SIGN, {"hook": "order-sign", "hookInstance": "x", "context": {"patientId": "1"}}, 400, "draftOrders"),
    (ORDER_SELECT, {"hook": "order-select", "hookInstance": "x",
                    "context": {"patientId": "1", "draftOrders": bundle([])}}, 400, "selections"),
    ("/cds-services/nope", {}, 404, "nope"),
])
def test_bad_requests(http, path, body, status, words):
    r = http.post(path, json=body)
    assert r.status_code == status
    assert words in r.json()["error"]


def test_body_not_json(http):
    r = http.post(PATIENT_VIEW, content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "not JSON" in r.json()["error"]


def test_every_registered_service_is_discovered_and_answers(http):
    from interfaces.cdshooks.registry import SERVICES

    discovered = {s["id"]: s["hook"] for s in http.get("/cds-services").json()["services"]}
    assert discovered == {s.id: s.hook for s in SERVICES.values()}
    for service_id, hook in discovered.items():
        drafts = [draft(order("nobody", text="metformin 500 mg"), "d1")] if hook.startswith("order-") else []
        r = http.post(f"/cds-services/{service_id}", json=request(hook, "nobody", drafts=drafts))
        assert r.status_code == 200, (service_id, r.text)
        assert r.json() == {"cards": []}
