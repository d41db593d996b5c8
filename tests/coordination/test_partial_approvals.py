"""Partial approvals (Da Vinci PAS 2.x): item by item, some certified in total (A1), some
certified for less than asked (A6, by the site rules or a coordinator), some denied (A3),
some pended (A4); the authorization number only on what was certified; $inquire shows
the current state of every item."""

from __future__ import annotations

import json

import pytest

from server.coordination.rules import load_rules
from tests.coordination.pas import actions, item, member, pas_bundle, submit

X12 = "https://codesystem.x12.org/005010/306"
PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
DECISION = "http://passerelle.example/CodeSystem/task-output"
ITEM_SEQUENCE = "http://passerelle.example/StructureDefinition/item-sequence"
AUTHORIZED_QUANTITY = "http://passerelle.example/StructureDefinition/authorized-quantity"


@pytest.fixture
def insured(fhir):
    return member(fhir)


def review(item: dict) -> dict:
    ext = next(e for e in item["adjudication"][0]["extension"] if e["url"] == PAS + "extension-reviewAction")
    return {p["url"].removeprefix(PAS): p for p in ext["extension"]}


def benefit(item: dict):
    return next((a["amount"]["value"] for a in item["adjudication"]
                 if a["category"]["coding"][0]["code"] == "benefit"), None)


def authorized_detail(item: dict) -> dict:
    ext = next((e for e in item.get("extension", []) if e["url"] == PAS + "extension-itemAuthorizedDetail"), None)
    return {p["url"]: p for p in ext["extension"]} if ext else {}


def decision(code: str, sequence: int | None = None, quantity=None) -> dict:
    out = {"type": {"coding": [{"system": DECISION, "code": "decision"}]},
           "valueCodeableConcept": {"coding": [{"system": X12, "code": code}]}, "extension": []}
    if sequence is not None:
        out["extension"].append({"url": ITEM_SEQUENCE, "valuePositiveInt": sequence})
    if quantity is not None:
        out["extension"].append({"url": AUTHORIZED_QUANTITY, "valueDecimal": quantity})
    if not out["extension"]:
        del out["extension"]
    return out


def inquire(fhir, identifier: str = "PA-REQ-1") -> dict:
    r = fhir.get("/Claim/$inquire", params={"identifier": identifier})
    assert r.status_code == 200, r.text
    return r.json()["entry"][0]["resource"]


def test_some_certified_some_modified_denied_pended(fhir, insured, coordination):
    answer, claim, task = submit(fhir, pas_bundle(insured, [
        item(1, "PHYSIO", quantity=15, price=50), item(2, "COSMETIC"), item(3, "KNEE-ARTHRO"),
        item(4, "MRI-LUMBAR", price=450)]))
    assert (answer["outcome"], actions(answer)) == ("partial", ["A6", "A3", "A4", "A1"])
    assert answer["disposition"] == "1 certified in total, 1 modified, 1 not certified, 1 pended"
    physio, cosmetic, knee, mri = answer["item"]
    # A6: certified for the rules' 10 of the 15 asked, said in the PAS authorized detail
    assert authorized_detail(physio)["quantity"]["valueQuantity"] == {"value": 10}
    assert physio["adjudication"][0]["amount"]["value"] == 750 and benefit(physio) == 500
    assert "certified for 10 of the 15 requested" in physio["adjudication"][0]["reason"]["text"]
    # the authorization number on the certified items only
    assert review(physio)["number"]["valueString"] == review(mri)["number"]["valueString"] == answer["preAuthRef"]
    for refused in (cosmetic, knee):
        assert "number" not in review(refused) and benefit(refused) is None and "extension" not in refused
    assert {e["url"] for e in mri["extension"]} == {PAS + "extension-itemPreAuthIssueDate"}
    assert task["description"] == "Review prior authorization items 3"
    current = inquire(fhir)
    assert current["id"] == answer["id"] and actions(current) == ["A6", "A3", "A4", "A1"]
    # the coordinator denies the pended item: every item decided, the A6 stays as it was
    done = fhir.put(f"/Task/{task['id']}", json={**task, "status": "completed", "output": [decision("A3")]})
    assert done.status_code == 200, done.text
    current = inquire(fhir)
    assert (current["outcome"], actions(current)) == ("complete", ["A6", "A3", "A3", "A1"])
    assert current["meta"]["versionId"] == "2" and current["item"][0] == physio


def test_a_coordinator_certifies_part_of_an_item(fhir, insured, coordination):
    answer, _, task = submit(fhir, pas_bundle(insured, [item(1, "SLEEP-STUDY", quantity=3),
                                                        item(2, "KNEE-ARTHRO")]))
    assert (answer["outcome"], actions(answer)) == ("queued", ["A4", "A4"])
    assert "preAuthRef" not in answer
    for wrong, expression in (([decision("A6", 1), decision("A1", 2)], "Task.output[0].extension"),
                              ([decision("A6", 1, 3), decision("A1", 2)], "Task.output"),
                              ([decision("A1", 1, 2), decision("A1", 2)], "Task.output[0].extension")):
        r = fhir.put(f"/Task/{task['id']}", json={**task, "status": "completed", "output": wrong})
        assert r.status_code == 422, r.text
        assert r.json()["issue"][0]["expression"] == [expression]
    assert inquire(fhir)["meta"]["versionId"] == "1"  # nothing written by the refused completions
    done = fhir.put(f"/Task/{task['id']}", json={**task, "status": "completed",
                                                 "output": [decision("A6", 1, 2), decision("A3", 2)]})
    assert done.status_code == 200, done.text
    current = inquire(fhir)
    assert (current["outcome"], actions(current)) == ("complete", ["A6", "A3"])
    assert authorized_detail(current["item"][0])["quantity"]["valueQuantity"] == {"value": 2}
    assert review(current["item"][0])["number"]["valueString"] == current["preAuthRef"]
    assert "number" not in review(current["item"][1])


def test_a_claim_is_paid_up_to_what_was_certified(fhir, insured):
    preauth, *_ = submit(fhir, pas_bundle(insured, [item(1, "PHYSIO", quantity=15, price=50)]))
    assert actions(preauth) == ["A6"]
    over, *_ = submit(fhir, pas_bundle(insured, [item(1, "PHYSIO", quantity=12, price=50)], use="claim",
                                       identifier="CLAIM-1", pre_auth_ref=preauth["preAuthRef"]))
    assert actions(over) == ["A6"] and over["payment"]["amount"] == {"value": 500, "currency": "EUR"}
    assert "preAuthRef" not in over and "number" not in review(over["item"][0])
    within, *_ = submit(fhir, pas_bundle(insured, [item(1, "PHYSIO", quantity=8, price=50)], use="claim",
                                         identifier="CLAIM-2", pre_auth_ref=preauth["preAuthRef"]))
    assert actions(within) == ["A1"] and within["payment"]["amount"]["value"] == 400


def test_over_limit_rule_is_checked_when_loaded(tmp_path):
    rules = tmp_path / "rules.json"
    service = {"system": "http://s", "code": "X", "maxQuantity": 2}
    rules.write_text(json.dumps({"autoApprove": [{**service, "overLimit": "halve"}]}))
    with pytest.raises(ValueError, match="overLimit"):
        load_rules(str(rules))
    rules.write_text(json.dumps({"autoApprove": [{"system": "http://s", "code": "Y", "overLimit": "modify"}]}))
    with pytest.raises(ValueError, match="needs a maxQuantity"):
        load_rules(str(rules))
