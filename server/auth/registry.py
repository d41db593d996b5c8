"""Clients and users: the functions the CLI and the endpoints share."""

from __future__ import annotations

import json

from joserfc.jwk import KeySet
from sqlalchemy import delete, select

from .models import OAuthClient, User
from .passwords import hash_password
from .store import now, session

CLIENT_TYPES = ("public", "confidential")
LAUNCH_KINDS = ("standalone", "ehr", "backend")


def add_client(ctx, client_id: str, *, client_type: str, redirect_uris: list[str] = (), scopes: list[str] = (),
               jwks: dict | None = None, jwks_uri: str | None = None, launch: list[str] = (),
               name: str | None = None) -> OAuthClient:
    if client_type not in CLIENT_TYPES:
        raise ValueError(f"client type must be one of {CLIENT_TYPES}")
    if client_type == "confidential" and not (jwks or jwks_uri):
        raise ValueError("a confidential client authenticates with private_key_jwt: give its JWKS or jwks_uri")
    if jwks is not None:
        KeySet.import_key_set(jwks)  # refuse a malformed JWKS now rather than at the first token request
        if any("d" in k for k in jwks.get("keys", [])):
            raise ValueError("the JWKS holds a private key: register the public keys only")
    if "backend" in launch and client_type != "confidential":
        raise ValueError("a backend client must be confidential (private_key_jwt)")
    bad = [k for k in launch if k not in LAUNCH_KINDS]
    if bad:
        raise ValueError(f"unknown launch kinds {bad}; known: {LAUNCH_KINDS}")
    client = OAuthClient(client_id=client_id, name=name, client_type=client_type,
                         redirect_uris=" ".join(redirect_uris), scopes=" ".join(scopes),
                         jwks=json.dumps(jwks) if jwks else None, jwks_uri=jwks_uri,
                         launch=" ".join(launch), created=now())
    with session(ctx, write=True) as s:
        if s.get(OAuthClient, client_id):
            raise ValueError(f"client {client_id!r} exists")
        s.add(client)
    return client


def get_client(ctx, client_id: str | None) -> OAuthClient | None:
    if not client_id:
        return None
    with session(ctx) as s:
        return s.get(OAuthClient, client_id)


def list_clients(ctx) -> list[OAuthClient]:
    with session(ctx) as s:
        return list(s.scalars(select(OAuthClient).order_by(OAuthClient.client_id)))


def remove_client(ctx, client_id: str) -> bool:
    with session(ctx, write=True) as s:
        return s.execute(delete(OAuthClient).where(OAuthClient.client_id == client_id)).rowcount > 0


def add_user(ctx, username: str, password: str, *, fhir_user: str | None = None) -> User:
    if not password:
        raise ValueError("empty password")
    user = User(username=username, password_hash=hash_password(password), fhir_user=fhir_user, created=now())
    with session(ctx, write=True) as s:
        if s.get(User, username):
            raise ValueError(f"user {username!r} exists")
        s.add(user)
    return user


def get_user(ctx, username: str | None) -> User | None:
    if not username:
        return None
    with session(ctx) as s:
        return s.get(User, username)


def list_users(ctx) -> list[User]:
    with session(ctx) as s:
        return list(s.scalars(select(User).order_by(User.username)))


def remove_user(ctx, username: str) -> bool:
    with session(ctx, write=True) as s:
        return s.execute(delete(User).where(User.username == username)).rowcount > 0


def words(value: str | None) -> list[str]:
    return (value or "").split()
