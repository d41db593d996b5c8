"""Live servers of the whole application (interfaces.app) for the CDS Hooks tests.

``cds``: auth disabled, no trusted client (the services are open, as in development).
``secured``: auth on, one trusted CDS client whose ES384 key the tests sign with.
Both on SQLite, and PostgreSQL when PASSERELLE_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from interfaces.app import create_app
from server.config import Settings
from tests.conftest import BACKENDS, database_url, empty_store, start_server

EHR = "https://ehr.example.org"


@dataclass
class CdsServer:
    url: str
    ctx: object

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)


@pytest.fixture(scope="session")
def ehr_key():
    return ECKey.generate_key("P-384", parameters={"kid": "ehr-1"})


def _serve(backend, tmp_path_factory, suffix, **settings):
    cm = database_url(backend, tmp_path_factory, suffix)
    url = cm.__enter__()
    app = create_app(Settings(database_url=url, rate_limit_per_minute=0, **settings))
    server, thread, base = start_server(app)

    def stop():
        server.should_exit = True
        thread.join(timeout=10)
        app.state.ctx.store.engine.dispose()
        cm.__exit__(None, None, None)

    return CdsServer(base, app.state.ctx), stop


@pytest.fixture(scope="session", params=BACKENDS)
def cds_live(request, tmp_path_factory):
    live, stop = _serve(request.param, tmp_path_factory, "_cds", auth="disabled")
    yield live
    stop()


@pytest.fixture(scope="session", params=BACKENDS)
def secured_live(request, tmp_path_factory, ehr_key):
    clients = tmp_path_factory.mktemp("cds") / "clients.json"
    clients.write_text(json.dumps({"clients": [{"iss": EHR, "jwks": {"keys": [ehr_key.as_dict(private=False)]}}]}))
    live, stop = _serve(request.param, tmp_path_factory, "_cdssec", auth="enabled",
                        cds_hooks_clients=str(clients))
    yield live
    stop()


@pytest.fixture
def cds(cds_live) -> CdsServer:
    empty_store(cds_live.ctx)
    return cds_live


@pytest.fixture
def secured(secured_live) -> CdsServer:
    empty_store(secured_live.ctx)
    return secured_live


def client_jwt(key, audience: str, *, issuer: str = EHR, lifetime: int = 120, jti: str | None = None) -> str:
    issued = int(time.time())
    claims = {"iss": issuer, "sub": "ehr-client", "aud": audience, "iat": issued, "exp": issued + lifetime,
              "jti": jti or str(uuid.uuid4())}
    return jwt.encode({"alg": "ES384", "typ": "JWT", "kid": key.kid}, claims, key, algorithms=["ES384"])
