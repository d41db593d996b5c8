"""Claim/$submit and $inquire (PAS Bundles), adjudicated by the bundled example site rules,
and the coordinator's review Task."""

from __future__ import annotations

import pytest

from tests.coordination.pas import actions, item, member, pas_bundle, submit
X12 = "https://codesystem.x12.org/005010/306"
DECISION = "http://passerelle.example/CodeSystem/task-output"


@pytest.fixture
def insured(fhir):
    return member(fhir)


def test_auto_approved_preauthorization(fhir, insured):
    answer, claim = submit(fhir, pas_bundle(insured, [item(1, "MRI-LUMBAR"), item(2, "CONSULT", price=30)]))
    assert answer["resourceType"] == "ClaimResponse"
    assert (answer["outcome"], actions(answer)) == ("complete", ["A1", "A1"])
    assert answer["preAuthRef"].startswith("PA-")
    assert answer["request"] == {"reference": f"Claim/{claim['id']}"}
    # the stored Claim points at our records; a provider we do not hold is a logical reference
    assert claim["patient"] == {"reference": f"Patient/{insured['patient']['id']}"}
    assert claim["insurance"][0]["coverage"] == {"reference": f"Coverage/{insured['coverage']['id']}"}
    assert claim["provider"] == {"type": "Organization", "display": "Clinique du Parc",
                                 "identifier": {"system": "urn:oid:1.2.250.1.71.4.2.2", "value": "330000000"}}
    inquiry = fhir.post("/Claim/$inquire", json=pas_bundle(insured, [item(1, "MRI-LUMBAR")]))
    assert inquiry.status_code == 200
    assert inquiry.json()["entry"][0]["resource"]["id"] == answer["id"]
    by_identifier = fhir.get("/Claim/$inquire", params={"identifier": "http://provider.example/requests|PA-REQ-1"})
    assert by_identifier.json()["entry"][0]["resource"]["preAuthRef"] == answer["preAuthRef"]
    # a retry of the same request answers the same, without a second Claim
    again, _ = submit(fhir, pas_bundle(insured, [item(1, "MRI-LUMBAR")]))[:2]
    assert again["id"] == answer["id"]
    assert fhir.get("/Claim").json()["total"] == 1


def test_rules_deny_and_pend(fhir, insured):
    answer, *_ = submit(fhir, pas_bundle(insured, [item(1, "COSMETIC"), item(2, "CT-HEAD", quantity=3),
                                                   item(3, "MRI-LUMBAR", date="2030-06-01")]))
    assert actions(answer) == ["A3", "A4", "A3"]
    reasons = [it["adjudication"][0]["reason"]["text"] for it in answer["item"]]
    assert reasons[0] == "service not covered by the plan"
    assert "above the automatic limit" in reasons[1]
    assert reasons[2] == "coverage not in force on the service date"
    assert answer["outcome"] == "partial" and "preAuthRef" not in answer


def test_pended_request_becomes_a_task_and_its_completion_updates_the_answer(fhir, insured, coordination):
    answer, claim, task = submit(fhir, pas_bundle(insured, [item(1, "MRI-LUMBAR"), item(2, "KNEE-ARTHRO"),
                                                            item(3, "SLEEP-STUDY")]))
    assert (answer["outcome"], actions(answer)) == ("partial", ["A1", "A4", "A4"])
    assert task["resourceType"] == "Task" and task["status"] == "requested"
    assert task["focus"] == {"reference": f"Claim/{claim['id']}"}
    assert task["description"] == "Review prior authorization items 2, 3"
    # completing without a decision is refused, nothing changes
    refused = fhir.put(f"/Task/{task['id']}", json={**task, "status": "completed"})
    assert refused.status_code == 422 and refused.json()["issue"][0]["expression"] == ["Task.output"]
    decision = [{"type": {"coding": [{"system": DECISION, "code": "decision"}]},
                 "valueCodeableConcept": {"coding": [{"system": X12, "code": "A1"}]}},
                {"extension": [{"url": "http://passerelle.example/StructureDefinition/item-sequence",
                                "valuePositiveInt": 3}],
                 "type": {"coding": [{"system": DECISION, "code": "decision"}]},
                 "valueCodeableConcept": {"coding": [{"system": X12, "code": "A3"}]}}]
    done = fhir.put(f"/Task/{task['id']}", json={**task, "status": "completed", "output": decision})
    assert done.status_code == 200, done.text
    current = fhir.get("/Claim/$inquire", params={"identifier": "PA-REQ-1"}).json()["entry"][0]["resource"]
    assert (current["outcome"], actions(current)) == ("complete", ["A1", "A1", "A3"])
    assert current["meta"]["versionId"] == "2" and current["preAuthRef"] == answer["preAuthRef"]


def test_a_claim_needs_the_prior_authorization(fhir, insured):
    preauth, *_ = submit(fhir, pas_bundle(insured, [item(1, "MRI-LUMBAR", price=450)]))
    without, *_ = submit(fhir, pas_bundle(insured, [item(1, "MRI-LUMBAR", price=450)], use="claim",
                                          identifier="CLAIM-1"))
    assert actions(without) == ["A3"] and without["payment"]["amount"]["value"] == 0
    paid, *_ = submit(fhir, pas_bundle(insured, [item(1, "MRI-LUMBAR", price=450), item(2, "CONSULT", price=30)],
                                       use="claim", identifier="CLAIM-2", pre_auth_ref=preauth["preAuthRef"]))
    assert actions(paid) == ["A1", "A1"]
    assert paid["payment"]["amount"] == {"value": 480, "currency": "EUR"}


def test_bad_bundles_get_precise_outcomes(fhir, insured):
    no_claim = pas_bundle(insured, [item(1, "MRI-LUMBAR")])
    no_claim["entry"] = no_claim["entry"][1:]
    response = fhir.post("/Claim/$submit", json=no_claim)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Bundle.entry[0].resource"]

    broken = pas_bundle(insured, [{"sequence": 1}])
    broken["type"] = "batch"
    del broken["identifier"]
    broken["entry"] = [e for e in broken["entry"] if e["resource"]["resourceType"] != "Coverage"]
    issues = fhir.post("/Claim/$submit", json=broken).json()["issue"]
    expressions = [i["expression"][0] for i in issues]
    assert expressions == ["Bundle.type", "Bundle.identifier", "Bundle.entry[0].resource.insurance[0].coverage",
                           "Bundle.entry[0].resource.item[0].productOrService"]

    unknown = pas_bundle(insured, [item(1, "MRI-LUMBAR")])
    unknown["entry"][4]["resource"]["identifier"] = [{"system": "http://payers.example/members", "value": "NOPE"}]
    response = fhir.post("/Claim/$submit", json=unknown)
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["code"] == "not-found" and issue["expression"] == ["Bundle.entry[0].resource.insurance[0].coverage"]
    assert "Unknown Coverage" in issue["diagnostics"]

    assert fhir.get("/Claim").json()["total"] == 0  # nothing half-written
    missing = fhir.get("/Claim/$inquire", params={"identifier": "NOPE"})
    assert missing.status_code == 404


def test_malformed_bundles_are_client_errors(fhir, insured):
    garbage = pas_bundle(insured, [item(1, "MRI-LUMBAR")])
    garbage["entry"].append("not an entry")
    claim = garbage["entry"][0]["resource"]
    claim["item"].append("not an item")
    claim["insurance"] = {"coverage": "Coverage/theirs-cov"}
    response = fhir.post("/Claim/$submit", json=garbage)
    assert response.status_code == 400, response.text
    expressions = [i["expression"][0] for i in response.json()["issue"]]
    assert expressions == ["Bundle.entry[5]", "Bundle.entry[0].resource.insurance",
                           "Bundle.entry[0].resource.insurance", "Bundle.entry[0].resource.item[1]"]
    for body in ({"resourceType": "Bundle", "type": "collection", "entry": "x"}, {"resourceType": "Patient"},
                 {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Claim", "item": "x"}}]}):
        assert fhir.post("/Claim/$submit", json=body).status_code == 400
