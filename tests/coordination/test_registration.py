"""The coordination operations are registered, advertised, and answer empty input with a 4xx."""

from __future__ import annotations

from server.operations.registry import OPERATIONS

OURS = {"find", "hold", "book", "submit", "inquire", "reconcile", "remittance-report"}


def test_each_operation_answers_empty_input_with_a_client_error(fhir):
    for name in sorted(OURS):
        op = OPERATIONS.get(name)
        for resource_type in sorted(op.resource_types):
            for level in op.levels:
                path = f"/{resource_type}" + ("/nope" if level == "instance" else "")
                method = fhir.post if op.affects_state else fhir.get
                kwargs = {"json": {"resourceType": "Parameters"}} if op.affects_state else {}
                response = method(f"{path}/${name}", **kwargs)
                assert response.status_code < 500, (name, resource_type, response.text)
                assert response.headers["content-type"].startswith("application/fhir+json")
                if name not in ("find", "remittance-report"):  # these answer 200 on an empty store
                    assert 400 <= response.status_code < 500, (name, resource_type, response.status_code)


def test_the_capability_statement_lists_them(fhir):
    statement = fhir.get("/metadata").json()
    listed = {(r["type"], o["name"]) for r in statement["rest"][0]["resource"] for o in r.get("operation", [])}
    for pair in [("Appointment", "find"), ("Appointment", "hold"), ("Appointment", "book"), ("Claim", "submit"),
                 ("CoverageEligibilityRequest", "submit"), ("Claim", "inquire"),
                 ("PaymentReconciliation", "reconcile"), ("Claim", "remittance-report")]:
        assert pair in listed, pair
