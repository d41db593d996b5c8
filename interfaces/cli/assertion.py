"""passerelle assertion: a fresh signed client assertion (private_key_jwt) for a backend client.

What a SMART Backend Services client sends to the token endpoint; printed so that a
plain ``curl`` can get a token (``passerelle demo`` prints such a command line). Valid
five minutes, usable once (its ``jti`` is new each time).
"""

from __future__ import annotations

import json
import sys
import time
import uuid

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

NAME = "assertion"
HELP = "Print a fresh private_key_jwt client assertion (RS384/ES384) for the token endpoint"


def add_arguments(parser) -> None:
    parser.add_argument("--key", required=True, help="file holding the client's PRIVATE JWK (JSON)")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--token-url", required=True, help="the token endpoint, e.g. http://localhost:8080/auth/token")


def sign_assertion(jwk: dict, client_id: str, token_url: str) -> str:
    key = ECKey.import_key(jwk) if jwk.get("kty") == "EC" else RSAKey.import_key(jwk)
    alg = "ES384" if jwk.get("kty") == "EC" else "RS384"
    claims = {"iss": client_id, "sub": client_id, "aud": token_url, "exp": int(time.time()) + 240,
              "jti": uuid.uuid4().hex}
    return jwt.encode({"alg": alg, "kid": jwk.get("kid"), "typ": "JWT"}, claims, key, algorithms=[alg])


def run(args) -> int:
    try:
        with open(args.key, encoding="utf-8") as f:
            jwk = json.load(f)
        print(sign_assertion(jwk, args.client_id, args.token_url))
    except (OSError, ValueError) as exc:
        print(f"passerelle assertion: {args.key}: {exc}", file=sys.stderr)
        return 2
    return 0
