"""passerelle client|user add|list|remove, run as a process against the test server's
database; what the CLI registers is then used through HTTP."""

from __future__ import annotations

import json
import subprocess
import sys

from auth_helpers import backend_token, rsa_key
from joserfc.jwk import KeySet

from server.auth import registry
from server.auth.passwords import verify_password


def cli(server, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "interfaces.cli.main", *args, "--database-url",
                           server.ctx.settings.database_url], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_client_add_list_remove(server, web, token_url, tmp_path):
    key = rsa_key()
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(KeySet([key]).as_dict(private=False)))
    r = cli(server, "client", "add", "cli-backend", "--type", "confidential", "--jwks", str(jwks),
            "--launch", "backend", "--scope", "system/*.rs")
    assert r.returncode == 0, r.stderr
    assert backend_token(web, token_url, "cli-backend", key, scope="system/Patient.rs").status_code == 200
    listing = cli(server, "client", "list")
    assert "cli-backend\tconfidential\tprivate_key_jwt" in listing.stdout
    assert cli(server, "client", "remove", "cli-backend").returncode == 0
    assert backend_token(web, token_url, "cli-backend", key).status_code == 401
    assert cli(server, "client", "remove", "cli-backend").returncode == 1


def test_client_add_refuses_a_private_jwks(server, tmp_path):
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(KeySet([rsa_key()]).as_dict(private=True)))
    r = cli(server, "client", "add", "leaky", "--type", "confidential", "--jwks", str(jwks))
    assert r.returncode == 2 and "private key" in r.stderr


def test_user_password_comes_from_stdin_and_is_hashed(server):
    r = cli(server, "user", "add", "alice", "--fhir-user", "Practitioner/p1", stdin="s3cret-pass\n")
    assert r.returncode == 0, r.stderr
    user = registry.get_user(server.ctx, "alice")
    assert user.password_hash.startswith("$argon2id$") and "s3cret-pass" not in user.password_hash
    assert verify_password(user.password_hash, "s3cret-pass") and not verify_password(user.password_hash, "x")
    assert "alice\tfhirUser=Practitioner/p1" in cli(server, "user", "list").stdout
    assert cli(server, "user", "add", "alice", stdin="other\n").returncode == 2  # exists
    assert cli(server, "user", "remove", "alice").returncode == 0
    assert registry.get_user(server.ctx, "alice") is None
