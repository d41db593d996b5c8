"""Helpers over the shared live server (tests/conftest.py): create records, list alerts."""

from __future__ import annotations

import pytest


class Record:
    """Writes and reads through the FHIR REST API of the test server."""

    def __init__(self, client):
        self.client = client

    def create(self, resource: dict) -> dict:
        r = self.client.post(f"/{resource['resourceType']}", json=resource)
        assert r.status_code == 201, r.text
        return r.json()

    def update(self, resource: dict) -> dict:
        r = self.client.put(f"/{resource['resourceType']}/{resource['id']}", json=resource)
        assert r.status_code == 200, r.text
        return r.json()

    def alerts(self, patient_id: str, *params: tuple[str, str]) -> list[dict]:
        r = self.client.get("/DetectedIssue", params=[("patient", f"Patient/{patient_id}"), *params])
        assert r.status_code == 200, r.text
        return [e["resource"] for e in r.json().get("entry", [])]


@pytest.fixture
def record(fhir) -> Record:
    return Record(fhir)
