"""Closing a review Task with auth on: the Provenance names the reviewer, and the record is
written only where the reviewer's token may write."""

from __future__ import annotations

import copy
import uuid

import httpx
import pytest

from server.app import create_app
from server.auth.tokens import issue_access_token
from server.config import Settings
from tests.conftest import BACKENDS, FHIR_JSON, database_url, empty_store, start_server

VALUE_TYPE = {"coding": [{"system": "urn:passerelle:form-review", "code": "value"}]}


@pytest.fixture(scope="module", params=BACKENDS)
def secure(request, tmp_path_factory):
    with database_url(request.param, tmp_path_factory, suffix="_forms_auth") as url:
        app = create_app(Settings(database_url=url, rate_limit_per_minute=0, mdm="off",
                                  max_body_bytes=40 * 1024 * 1024))
        server, thread, base = start_server(app)
        yield base, app.state.ctx
        server.should_exit = True
        thread.join(timeout=10)
        app.state.ctx.store.engine.dispose()


def client(secure, scopes: str, user: str | None = None) -> httpx.Client:
    base, ctx = secure
    token, _ = issue_access_token(ctx, issuer=f"{base}/fhir", audience=f"{base}/fhir",
                                  client_id=f"coordination-{uuid.uuid4().hex[:6]}", scopes=scopes.split(),
                                  subject=user or "someone", fhir_user=user)
    return httpx.Client(base_url=f"{base}/fhir", timeout=60,
                        headers={"Accept": FHIR_JSON, "Content-Type": FHIR_JSON, "Authorization": f"Bearer {token}"})


@pytest.fixture
def tasks(secure, doubtful_admission):
    empty_store(secure[1])
    _, bundle = doubtful_admission
    with client(secure, "system/*.cruds") as admin:
        assert admin.post("", json=copy.deepcopy(bundle)).status_code == 200
        found = admin.get("/Task?_count=100").json()["entry"]
    return {e["resource"]["input"][0]["valueString"]: e["resource"] for e in found}


def completed(task: dict, value: str) -> dict:
    return {**task, "status": "completed", "output": [{"type": VALUE_TYPE, "valueString": value}]}


def test_the_provenance_names_the_reviewer(secure, tasks):
    with client(secure, "user/*.cruds", user="Practitioner/coord-1") as coordinator:
        task = tasks["patient.family"]
        answer = coordinator.put(f"/Task/{task['id']}", json=completed(task, "Martin"))
        assert answer.status_code == 200, answer.text
        provenance = coordinator.get(answer.json()["relevantHistory"][0]["reference"]).json()
    assert provenance["agent"][0]["who"]["reference"] == "Practitioner/coord-1"
    assert provenance["agent"][0]["type"]["coding"][0]["code"] == "verifier"
    assert provenance["entity"][0]["what"] == {"reference": f"Task/{task['id']}"}


def test_a_token_that_may_not_write_the_patient_stores_nothing(secure, tasks):
    with client(secure, "user/Task.cruds user/QuestionnaireResponse.cruds", user="Practitioner/coord-2") as narrow:
        task = tasks["patient.family"]
        answer = narrow.put(f"/Task/{task['id']}", json=completed(task, "Martin"))
        assert answer.status_code == 403, answer.text
        assert "Patient" in answer.json()["issue"][0]["diagnostics"]
        assert narrow.get(f"/Task/{task['id']}").json()["status"] == "requested"
        # an item stored in the response only is within its reach
        task = tasks["medications"]
        assert narrow.put(f"/Task/{task['id']}", json=completed(task, "metformine")).status_code == 200
    with client(secure, "system/*.cruds") as admin:
        assert not admin.get("/Patient").json().get("entry")
