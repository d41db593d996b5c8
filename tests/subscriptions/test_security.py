"""Who may subscribe to what, and what leaves the server: auth ON, real tokens."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest

from interfaces.app import create_app
from server.auth.tokens import issue_access_token
from tests.conftest import BACKENDS, FHIR_JSON, database_url, empty_store
from tests.subscriptions.conftest import serve, settings, subscription, wait_status

HEADERS = {"Content-Type": FHIR_JSON}


class Secured:
    def __init__(self, url: str, ctx):
        self.url, self.ctx = url, ctx

    def client(self, scopes: str) -> httpx.Client:
        token, _ = issue_access_token(self.ctx, issuer=f"{self.url}/fhir", audience=f"{self.url}/fhir",
                                      client_id=f"app-{uuid.uuid4().hex[:8]}", scopes=scopes.split(),
                                      subject="someone")
        return httpx.Client(base_url=f"{self.url}/fhir", timeout=60,
                            headers={"Accept": FHIR_JSON, "Authorization": f"Bearer {token}"})


@pytest.fixture(scope="session", params=BACKENDS)
def secured_live(request, tmp_path_factory):
    with database_url(request.param, tmp_path_factory, suffix="_subs_auth") as url:
        app = create_app(settings(url, auth="enabled"))
        server, thread, base = serve(app)
        yield Secured(base, app.state.ctx)
        server.should_exit = True
        thread.join(timeout=10)
        app.state.ctx.store.engine.dispose()


@pytest.fixture
def secured(secured_live, receiver):
    empty_store(secured_live.ctx)
    return secured_live


def observation(category: str, family_note: str = "") -> dict:
    return {"resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": category}]}],
            "code": {"text": f"test {family_note}"}}


def test_creating_needs_write_on_subscription_and_read_on_what_it_watches(secured, receiver):
    resource = subscription(f"{receiver.url}/hook", "Observation?")
    with secured.client("user/Subscription.cruds") as no_read:
        response = no_read.post("/Subscription", json=resource, headers=HEADERS)
        assert response.status_code == 403, response.text
        assert "Observation" in response.json()["issue"][0]["diagnostics"]
    with secured.client("user/Observation.rs") as no_write:
        assert no_write.post("/Subscription", json=resource, headers=HEADERS).status_code == 403
    with secured.client("user/Subscription.cruds user/Observation.rs") as allowed:
        assert allowed.post("/Subscription", json=resource, headers=HEADERS).status_code == 201


def test_notifications_never_reach_beyond_the_creators_grants(secured, receiver):
    with secured.client("user/Subscription.cruds user/Observation.rs?category=laboratory") as lab_only:
        response = lab_only.post("/Subscription", json=subscription(
            f"{receiver.url}/hook", "Observation?", payload="application/fhir+json"), headers=HEADERS)
        assert response.status_code == 201, response.text
        wait_status(lab_only, response.json()["id"], "active")
        receiver.reset()
        # A $status of it is theirs; a client without Subscription read gets none.
        assert lab_only.get(f"/Subscription/{response.json()['id']}/$status").status_code == 200
    with secured.client("user/Observation.rs") as stranger:
        assert stranger.get(f"/Subscription/{response.json()['id']}/$status").status_code == 403
    with secured.client("system/*.cruds") as admin:
        vital = admin.post("/Observation", json=observation("vital-signs"), headers=HEADERS).json()
        lab = admin.post("/Observation", json=observation("laboratory"), headers=HEADERS).json()
    got = receiver.wait_for(1)
    assert [r.path for r in receiver.settle(1.2)] == [f"/hook/Observation/{lab['id']}"]
    assert vital["id"] not in got[0].path


def test_delivery_logs_carry_no_content_or_secrets(secured, receiver, caplog):
    caplog.set_level(logging.INFO, logger="passerelle")
    with secured.client("system/*.cruds") as admin:
        response = admin.post("/Subscription", json=subscription(
            f"{receiver.url}/hook", "Observation?", payload="application/fhir+json",
            headers=("Authorization: Bearer hook-secret-42",)), headers=HEADERS)
        wait_status(admin, response.json()["id"], "active")
        receiver.statuses.extend([500])
        admin.post("/Observation", json=observation("laboratory", "Zorglub-the-patient"), headers=HEADERS)
        receiver.wait_for(3)
    text = caplog.text
    assert "Subscription/" in text  # the worker did log, by id
    assert "Zorglub" not in text and "hook-secret-42" not in text
