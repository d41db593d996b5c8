"""passerelle demo: load the synthetic demo data (idempotent), and set up a demo backend
client whose token a plain ``curl`` can get (printed at the end)."""

from __future__ import annotations

import json
import os
import shlex
from importlib.resources import files
from pathlib import Path

from joserfc.jwk import RSAKey

from server import jsonio
from server.app import build_context
from server.auth import registry
from server.bundles.processor import process_bundle
from server.config import Settings

NAME = "demo"
HELP = "Load synthetic demo data (conditional creates: loading twice changes nothing)"
DEMO_CLIENT = "demo-backend"
DEMO_SCOPES = ["system/*.rs", "system/*.cruds"]


def add_arguments(parser) -> None:
    parser.add_argument("--database-url", help="SQLAlchemy URL (PASSERELLE_DATABASE_URL)")
    parser.add_argument("--key-file", default="var/demo-backend.jwk",
                        help="where the demo client's private key is kept (default var/demo-backend.jwk)")


def run(args) -> int:
    settings = Settings().with_overrides(database_url=args.database_url)
    ctx = build_context(settings)
    bundle = jsonio.loads(files("interfaces.cli").joinpath("demo_data/demo-bundle.json").read_bytes())
    answer = process_bundle(ctx, bundle, {"return": "minimal"}, settings.base_url)
    statuses = [e["response"]["status"] for e in answer.body["entry"]]
    print(f"demo data: {statuses.count('201')} created, {statuses.count('200')} already present")
    demo_client(ctx, Path(args.key_file))
    print(demo_commands(settings, args.key_file))
    return 0


def demo_client(ctx, key_file: Path) -> None:
    """The demo backend client, registered with the public half of a key kept in
    ``key_file`` (mode 0600). A client or key found from an earlier run is reused."""
    if key_file.exists() and registry.get_client(ctx, DEMO_CLIENT) is not None:
        return
    key = RSAKey.generate_key(2048, private=True)
    key.ensure_kid()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(key.as_dict(private=True), f)
    registry.remove_client(ctx, DEMO_CLIENT)
    registry.add_client(ctx, DEMO_CLIENT, client_type="confidential", launch=["backend"], scopes=DEMO_SCOPES,
                        jwks={"keys": [key.as_dict(private=False)]}, name="Passerelle demo backend")


def demo_commands(settings, key_file: str) -> str:
    root = settings.base_url.removesuffix("/fhir")
    token_url = f"{root}/auth/token"
    assertion = (f".venv/bin/passerelle assertion --key {shlex.quote(key_file)} --client-id {DEMO_CLIENT} "
                 f"--token-url {token_url}")
    warning = ("\n!!! PASSERELLE_AUTH=disabled: the API answers without a token !!!"
               if settings.auth == "disabled" else "")
    return f"""
Demo backend client: {DEMO_CLIENT} (private_key_jwt, key in {key_file}; scopes {' '.join(DEMO_SCOPES)})
Get a token and read the demo patients:{warning}

TOKEN=$(curl -s {token_url} -d grant_type=client_credentials -d 'scope=system/*.rs' \\
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \\
  -d client_assertion=$({assertion}) \\
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
curl -s -H "Authorization: Bearer $TOKEN" {settings.base_url}/Patient
"""
