"""Fixtures of the enforcement tests: a server of their own with auth ON (the shared one
runs with auth disabled), real tokens signed by that server, and a two-patient store.

Tokens are issued by the server's own issuer (``issue_access_token``, what the token
endpoint calls once it has authenticated the client); tests/auth covers the grants.
Each test uses fresh client ids, so the per-client rate limit never couples tests.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from security_helpers import MAX_BODY, RATE_LIMIT

from server.app import create_app
from server.auth.tokens import issue_access_token
from server.config import Settings
from tests.conftest import BACKENDS, FHIR_JSON, database_url, empty_store, start_server



class Secure:
    def __init__(self, url: str, ctx, backend: str):
        self.url, self.ctx, self.backend = url, ctx, backend

    def token(self, scopes: str, *, patient: str | None = None, user: str | None = None,
              client_id: str | None = None) -> str:
        token, _ = issue_access_token(self.ctx, issuer=f"{self.url}/fhir", audience=f"{self.url}/fhir",
                                      client_id=client_id or f"app-{uuid.uuid4().hex[:8]}", scopes=scopes.split(),
                                      subject=user or "someone", patient=patient, fhir_user=user)
        return token

    def client(self, scopes: str | None = None, **claims) -> httpx.Client:
        headers = {"Accept": FHIR_JSON}
        if scopes is not None:
            headers["Authorization"] = f"Bearer {self.token(scopes, **claims)}"
        return httpx.Client(base_url=f"{self.url}/fhir", headers=headers, timeout=60)


@pytest.fixture(scope="session", params=BACKENDS)
def secure_live(request, tmp_path_factory):
    with database_url(request.param, tmp_path_factory, suffix="_secure") as url:
        app = create_app(Settings(database_url=url, rate_limit_per_minute=RATE_LIMIT, max_body_bytes=MAX_BODY))
        server, thread, base = start_server(app)
        yield Secure(base, app.state.ctx, request.param)
        server.should_exit = True
        thread.join(timeout=10)
        app.state.ctx.store.engine.dispose()


@pytest.fixture
def secure(secure_live) -> Secure:
    empty_store(secure_live.ctx)
    return secure_live


@pytest.fixture
def admin(secure):
    """A backend client with every system/ scope (and the audit trail)."""
    with secure.client("system/*.cruds system/AuditEvent.rs") as client:
        yield client


def _patient(pid: str, family: str) -> dict:
    return {"resourceType": "Patient", "id": pid, "name": [{"family": family, "given": ["Test"]}],
            "birthDate": "1970-01-01"}


def _observation(oid: str, patient: str, category: str, code: str, **extra) -> dict:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": category}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": f"Patient/{patient}"}, **extra}


def _put(resource: dict) -> dict:
    return {"resource": resource, "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}}


@pytest.fixture
def two_patients(admin) -> dict:
    """Patients A and B, their observations, encounters and a provenance; a practitioner
    who performed one observation of each; an observation of A whose focus is B."""
    resources = [
        _patient("A", "Alpha"), _patient("B", "Bravo"),
        {"resourceType": "Practitioner", "id": "doc", "name": [{"family": "Doctor"}]},
        _observation("a-lab", "A", "laboratory", "2345-7", performer=[{"reference": "Practitioner/doc"}]),
        _observation("a-vital", "A", "vital-signs", "8867-4"),
        _observation("a-focus", "A", "laboratory", "2345-7", focus=[{"reference": "Patient/B"}]),
        _observation("b-lab", "B", "laboratory", "2345-7", performer=[{"reference": "Practitioner/doc"}]),
        _observation("b-vital", "B", "vital-signs", "8867-4"),
        {"resourceType": "Encounter", "id": "a-enc", "status": "finished",
         "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
         "subject": {"reference": "Patient/A"}},
        {"resourceType": "Encounter", "id": "b-enc", "status": "finished",
         "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
         "subject": {"reference": "Patient/B"}},
        {"resourceType": "Provenance", "id": "b-prov", "recorded": "2024-01-01T00:00:00Z",
         "target": [{"reference": "Observation/b-lab"}, {"reference": "Patient/B"}],
         "agent": [{"who": {"reference": "Practitioner/doc"}}]},
    ]
    r = admin.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": [_put(x) for x in resources]},
                   headers={"Content-Type": FHIR_JSON})
    assert r.status_code == 200, r.text
    r = admin.put("Observation/b-vital", json={**_observation("b-vital", "B", "vital-signs", "8867-4"),
                                               "valueString": "v2"}, headers={"Content-Type": FHIR_JSON})
    assert r.status_code == 200, r.text
    return {r["id"]: r for r in resources}

