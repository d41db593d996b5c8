"""Access tokens of an external OpenID provider, against a real local issuer: a second
HTTP server serving the discovery document and the JWKS, its keys generated here."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from server.app import create_app
from server.auth import remote_keys
from server.config import Settings
from tests.conftest import FHIR_JSON, start_server


class Issuer:
    """A minimal OpenID provider: discovery + JWKS, and a way to rotate its key."""

    def __init__(self):
        self.key = self._new_key()
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/realms/hospital"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    @staticmethod
    def _new_key() -> RSAKey:
        key = RSAKey.generate_key(2048, private=True)
        key.ensure_kid()
        return key

    def _handler(self):
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.endswith("/.well-known/openid-configuration"):
                    body = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/certs"}
                elif self.path.endswith("/certs"):
                    body = KeySet([issuer.key]).as_dict(private=False)
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler

    def token(self, audience: str, *, key: RSAKey | None = None, **claims) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": audience, "sub": "u-42", "azp": "ward-app", "exp": now + 300,
                "iat": now, "scope": "openid user/*.rs", **claims}
        key = key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, body, key, algorithms=["RS256"])


@pytest.fixture(scope="module")
def oidc(tmp_path_factory):
    issuer = Issuer()
    url = f"sqlite:///{tmp_path_factory.mktemp('oidc') / 'passerelle.db'}"
    app = create_app(Settings(database_url=url, oidc_issuer=issuer.url, oidc_audience="https://fhir.example/fhir",
                              rate_limit_per_minute=0))
    server, thread, base = start_server(app)
    yield issuer, base
    server.should_exit = True
    thread.join(timeout=10)
    issuer.http.shutdown()
    app.state.ctx.store.engine.dispose()


def _get(base: str, token: str, path: str = "Patient") -> httpx.Response:
    return httpx.get(f"{base}/fhir/{path}", headers={"Authorization": f"Bearer {token}", "Accept": FHIR_JSON},
                     timeout=30)


def test_external_token_is_accepted_with_its_scopes(oidc):
    issuer, base = oidc
    token = issuer.token("https://fhir.example/fhir")
    assert _get(base, token).status_code == 200
    r = httpx.post(f"{base}/fhir/Patient", json={"resourceType": "Patient"}, timeout=30,
                   headers={"Authorization": f"Bearer {token}", "Content-Type": FHIR_JSON})
    assert r.status_code == 403  # user/*.rs: no create
    azure = issuer.token("https://fhir.example/fhir", scope=None, scp="user/Patient.rs")
    assert _get(base, azure).status_code == 200
    assert _get(base, azure, "Observation").status_code == 403


@pytest.mark.parametrize("claims", [{"aud": "https://elsewhere.example/fhir"}, {"iss": "https://evil.example"},
                                    {"exp": int(time.time()) - 120}])
def test_wrong_audience_issuer_or_expired_is_401(oidc, claims):
    issuer, base = oidc
    r = _get(base, issuer.token("https://fhir.example/fhir", **claims))
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]


def test_a_key_not_published_is_refused_and_rotation_is_followed(oidc):
    issuer, base = oidc
    stranger = Issuer._new_key()
    assert _get(base, issuer.token("https://fhir.example/fhir", key=stranger)).status_code == 401
    # The provider rotates to that key: after the refetch interval, tokens it signs are accepted.
    issuer.key = stranger
    remote_keys.expire()  # as once the refetch interval (a minute) has passed
    assert _get(base, issuer.token("https://fhir.example/fhir")).status_code == 200
