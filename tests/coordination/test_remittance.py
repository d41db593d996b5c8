"""PaymentReconciliation/$reconcile: payment details matched to Claims, anomalies as Tasks."""

from __future__ import annotations

import pytest

from tests.coordination.helpers import created
from tests.coordination.pas import item, member, pas_bundle, submit

ANOMALY = "http://passerelle.example/CodeSystem/payment-anomaly"


@pytest.fixture
def insured(fhir):
    return member(fhir)


def remittance(fhir, details: list[dict], *, paid_on: str = "2031-04-10") -> dict:
    return created(fhir.post("/PaymentReconciliation", json={
        "resourceType": "PaymentReconciliation", "status": "active", "created": paid_on + "T08:00:00Z",
        "paymentDate": paid_on, "paymentAmount": {"value": sum(d["amount"]["value"] for d in details),
                                                   "currency": "EUR"},
        "detail": details}))


def detail(claim_identifier: str, value) -> dict:
    return {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/payment-type", "code": "payment"}]},
            "request": {"identifier": {"system": "http://provider.example/requests", "value": claim_identifier}},
            "amount": {"value": value, "currency": "EUR"}}


def findings(report: dict) -> list[list[str]]:
    return [[p["valueCode"] for p in d["part"] if p["name"] == "finding"] for d in report["parameter"]]


def test_payments_matched_and_anomalies_flagged_once(fhir, insured):
    submit(fhir, pas_bundle(insured, [item(1, "CONSULT", price=30)], use="claim", identifier="C-1"))
    submit(fhir, pas_bundle(insured, [item(1, "CONSULT", price=60)], use="claim", identifier="C-2"))
    first = remittance(fhir, [detail("C-1", 30), detail("C-2", 45), detail("C-404", 12)])
    report = fhir.post(f"/PaymentReconciliation/{first['id']}/$reconcile", json={"resourceType": "Parameters"})
    assert report.status_code == 200, report.text
    assert findings(report.json()) == [["paid"], ["under-payment"], ["unknown-claim"]]
    expected = [p for p in report.json()["parameter"][1]["part"] if p["name"] == "expected"]
    assert expected == [{"name": "expected", "valueDecimal": 60}]
    tasks = fhir.get("/Task", params={"focus": f"PaymentReconciliation/{first['id']}"}).json()
    assert sorted(e["resource"]["code"]["coding"][0]["code"] for e in tasks["entry"]) == ["under-payment",
                                                                                          "unknown-claim"]
    # reconciling again flags nothing new
    fhir.post(f"/PaymentReconciliation/{first['id']}/$reconcile", json={"resourceType": "Parameters"})
    assert fhir.get("/Task", params={"focus": f"PaymentReconciliation/{first['id']}"}).json()["total"] == 2
    # the same claim paid again, two months later: duplicate and late
    second = remittance(fhir, [detail("C-1", 30)], paid_on="2031-06-30")
    again = fhir.post(f"/PaymentReconciliation/{second['id']}/$reconcile", json={"resourceType": "Parameters"}).json()
    assert findings(again) == [["duplicate-payment", "late-payment"]]
    assert fhir.post("/PaymentReconciliation/nope/$reconcile", json={"resourceType": "Parameters"}).status_code == 404


def test_report_lists_open_paid_rejected_and_late(fhir, insured):
    for identifier, code in (("C-1", "CONSULT"), ("C-2", "CONSULT"), ("C-3", "MRI-LUMBAR")):
        submit(fhir, pas_bundle(insured, [item(1, code, price=40)], use="claim", identifier=identifier))
    long_ago = submit(fhir, pas_bundle(insured, [item(1, "CONSULT", price=40)], use="claim", identifier="C-4",
                                       created="2020-01-06T09:00:00Z"))[1]
    claims = {c["resource"]["identifier"][0]["value"]: f"Claim/{c['resource']['id']}"
              for c in fhir.get("/Claim").json()["entry"]}
    remittance(fhir, [detail("C-1", 40)])
    answer = fhir.get("/Claim/$remittance-report")
    assert answer.status_code == 200, answer.text
    states = {p["name"]: [x["valueReference"]["reference"] for x in p["part"] if x["name"] == "claim"]
              for p in answer.json()["parameter"]}
    assert states == {"paid": [claims["C-1"]], "open": [claims["C-2"]], "rejected": [claims["C-3"]],
                      "late": [f"Claim/{long_ago['id']}"]}
