"""Every failure is an OperationOutcome with the right status (never a stack trace)."""

from __future__ import annotations

import pytest

FHIR_JSON = {"Content-Type": "application/fhir+json"}


def outcome(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error"
    return body


def test_malformed_json_is_400(fhir):
    body = outcome(fhir.post("/Patient", content=b'{"resourceType": "Patient",', headers=FHIR_JSON), 400)
    assert "not valid JSON" in body["issue"][0]["diagnostics"]


def test_not_a_resource_is_400(fhir):
    outcome(fhir.post("/Patient", content=b"[1, 2]", headers=FHIR_JSON), 400)
    outcome(fhir.post("/Patient", content=b"", headers=FHIR_JSON), 400)


def test_wrong_type_in_body_is_400(fhir):
    outcome(fhir.post("/Patient", json={"resourceType": "Observation", "status": "final", "code": {}}), 400)


def test_invalid_resource_is_422_naming_the_element(fhir):
    body = outcome(fhir.post("/Patient", json={"resourceType": "Patient", "birthDate": "1948-13-45"}), 422)
    expressions = [e for issue in body["issue"] for e in issue.get("expression", [])]
    assert any("birthDate" in e for e in expressions)
    body = outcome(fhir.post("/Patient", json={"resourceType": "Patient", "nickname": "x"}), 422)
    assert any("nickname" in e for issue in body["issue"] for e in issue.get("expression", []))


def test_method_not_allowed_is_405(fhir):
    outcome(fhir.request("PUT", "/metadata", json={}), 405)


def test_unsupported_media_type_is_415(fhir):
    outcome(fhir.post("/Patient", content=b"<Patient/>", headers={"Content-Type": "application/fhir+xml"}), 415)


def test_xml_requested_is_406(fhir):
    outcome(fhir.get("/metadata", params={"_format": "xml"}), 406)
    outcome(fhir.get("/metadata", headers={"Accept": "application/fhir+xml"}), 406)


def test_body_above_limit_is_413(fhir, server):
    limit = server.ctx.settings.max_body_bytes
    big = {"resourceType": "Patient", "text": {"status": "generated", "div": "<div>" + "x" * limit + "</div>"}}
    outcome(fhir.post("/Patient", json=big), 413)


@pytest.mark.parametrize("path", ["/Patient/x/_history/abc", "/Patient/x/_history/1"])
def test_vread_unknown_is_404(fhir, path):
    outcome(fhir.get(path), 404)


def test_unknown_endpoint_is_404_outcome(server):
    with server.client() as client:
        response = client.get(f"{server.url}/nothing-here")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"
