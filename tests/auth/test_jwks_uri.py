"""Backend clients registered with a jwks_uri: keys fetched from a real local HTTP
server, chosen by kid, fetched again when the client rotates to a new kid."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from auth_helpers import backend_token, ec_key, rsa_key
from joserfc.jwk import KeySet

from server.auth import registry, remote_keys


@pytest.fixture
def published():
    """A JWKS publisher; ``keys`` is what it serves, ``hits`` how often it was asked."""
    state = {"keys": [], "hits": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state["hits"] += 1
            data = json.dumps(KeySet(state["keys"]).as_dict(private=False)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{http.server_address[1]}/jwks.json"
    remote_keys.expire()
    yield state
    http.shutdown()
    remote_keys.expire()


def test_keys_from_jwks_uri_and_rotation(server, web, token_url, published):
    first, second = rsa_key(), ec_key()
    published["keys"] = [first]
    registry.add_client(server.ctx, "remote-keys", client_type="confidential", jwks_uri=published["url"],
                        launch=["backend"], scopes=["system/*.rs"])
    assert backend_token(web, token_url, "remote-keys", first, scope="system/Patient.rs").status_code == 200
    assert backend_token(web, token_url, "remote-keys", first, scope="system/Patient.rs").status_code == 200
    assert published["hits"] == 1  # cached
    # A kid the publisher does not have: refused, and no refetch storm within the interval.
    assert backend_token(web, token_url, "remote-keys", second).status_code == 401
    assert backend_token(web, token_url, "remote-keys", second).status_code == 401
    assert published["hits"] == 1
    published["keys"] = [first, second]  # the client rotates
    remote_keys.expire(published["url"])  # as once the interval has passed
    r = backend_token(web, token_url, "remote-keys", second, scope="system/Patient.rs")
    assert r.status_code == 200, r.text
