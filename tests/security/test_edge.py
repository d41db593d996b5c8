"""The HTTP edge: security headers, CORS, rate limit per client, the CapabilityStatement's
security block, and the loud warning of PASSERELLE_AUTH=disabled."""

from __future__ import annotations

import logging

import pytest
from security_helpers import MAX_BODY, RATE_LIMIT

from server.authz.middleware import warn_if_disabled
from server.authz.ratelimit import RateLimiter
from server.config import Settings


def test_security_and_cors_headers(secure, two_patients):
    with secure.client("user/*.rs") as client:
        r = client.get("Patient/A", headers={"Origin": "https://app.example"})
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["access-control-allow-origin"] == "*"
        assert "Location" in r.headers["access-control-expose-headers"]
    with secure.client() as anonymous:
        pre = anonymous.options("Patient", headers={"Origin": "https://app.example",
                                                    "Access-Control-Request-Method": "GET"})
        assert pre.status_code == 204 and "Authorization" in pre.headers["access-control-allow-headers"]
        assert anonymous.get("metadata").headers["access-control-allow-origin"] == "*"


def test_capability_statement_security(secure):
    with secure.client() as anonymous:
        security = anonymous.get("metadata").json()["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    uris = {e["url"]: e["valueUri"] for e in security["extension"][0]["extension"]}
    assert uris["token"] == f"{secure.url}/auth/token" and uris["authorize"] == f"{secure.url}/auth/authorize"


def test_rate_limit_per_client_answers_429_with_retry_after(secure):
    with secure.client("user/*.rs", client_id="burst") as greedy, secure.client("user/*.rs") as other:
        statuses = []
        for _ in range(2 * RATE_LIMIT):
            last = greedy.get("Patient")
            statuses.append(last.status_code)
            if last.status_code == 429:
                break
        # The whole burst passes (plus what the bucket refilled meanwhile), then 429.
        assert statuses[-1] == 429 and statuses.count(200) >= RATE_LIMIT
        assert int(last.headers["retry-after"]) >= 1
        assert last.json()["issue"][0]["code"] == "throttled"
        assert other.get("Patient").status_code == 200  # another client is not throttled


def test_token_bucket_refills():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.retry_after("k") is None for _ in range(60))
    assert limiter.retry_after("k") == 1
    now[0] += 1.0
    assert limiter.retry_after("k") is None
    assert RateLimiter(0).retry_after("k") is None


def test_disabled_auth_warns_loudly(caplog):
    with caplog.at_level(logging.WARNING, logger="passerelle.security"):
        warn_if_disabled(Settings(auth="disabled"))
    assert "OPEN" in caplog.text
    with pytest.raises(ValueError):
        warn_if_disabled(Settings(auth="maybe"))


def test_body_limit_holds_on_every_endpoint(secure):
    big = "x" * (MAX_BODY + 1)
    with secure.client() as anonymous:
        r = anonymous.post(f"{secure.url}/auth/token", content=f"grant_type={big}",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 413 and r.json()["issue"][0]["code"] == "too-costly"

        def chunks():  # no Content-Length: the limit is counted as the body arrives
            for _ in range(3):
                yield b"a=" + b"y" * (MAX_BODY // 2)

        r = anonymous.post(f"{secure.url}/auth/token", content=chunks(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 413


def test_after_commit_work_runs_as_the_server(secure):
    from server.authz.access import Access, acting_as, current, grants_of

    seen = []
    caller = Access(grants_of(["patient/Observation.rs"]), patient="A", client_id="app")
    with acting_as(caller):
        with secure.ctx.store.write() as uow:
            uow.after_commit.append(lambda: seen.append(current()))
        assert current() is caller
    assert len(seen) == 1 and seen[0].internal


def test_access_log_names_the_client(secure, caplog):
    with caplog.at_level(logging.INFO, logger="passerelle.access"):
        with secure.client("user/*.rs", client_id="logged-app") as client:
            client.get("Patient", params={"family": "Secret"})
    lines = [r.getMessage() for r in caplog.records if r.name == "passerelle.access"]
    assert any('"client":"logged-app"' in line and '"params":["family"]' in line for line in lines), lines
    assert not any("Secret" in line for line in lines)
