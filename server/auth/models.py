"""Tables of the authorization server (migrations 0006, 0008).

Secrets that a database reader could replay (authorization codes, refresh tokens) are
stored as SHA-256 digests only; access tokens are signed JWTs and are not stored at all:
revoking one records its ``jti``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base


class OAuthClient(Base):
    __tablename__ = "oauth_client"
    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # public: PKCE only, no secret; confidential: authenticates with private_key_jwt.
    client_type: Mapped[str] = mapped_column(String(16))
    redirect_uris: Mapped[str] = mapped_column(Text, default="")  # space separated
    scopes: Mapped[str] = mapped_column(Text, default="")  # allowed scopes, space separated
    jwks: Mapped[str | None] = mapped_column(Text, nullable=True)  # inline JWKS (JSON)
    jwks_uri: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    launch: Mapped[str] = mapped_column(String(64), default="")  # "standalone ehr backend", space separated
    created: Mapped[datetime] = mapped_column(DateTime)


class User(Base):
    __tablename__ = "auth_user"
    username: Mapped[str] = mapped_column(String(128), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    fhir_user: Mapped[str | None] = mapped_column(String(255), nullable=True)  # e.g. Practitioner/123
    created: Mapped[datetime] = mapped_column(DateTime)


class AuthorizationCode(Base):
    __tablename__ = "oauth_code"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128))
    username: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(1024))
    scope: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str | None] = mapped_column(String(255), nullable=True)
    patient: Mapped[str | None] = mapped_column(String(64), nullable=True)
    encounter: Mapped[str | None] = mapped_column(String(64), nullable=True)  # launch context (0008)
    expires: Mapped[datetime] = mapped_column(DateTime)
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class RefreshToken(Base):
    __tablename__ = "oauth_refresh_token"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(128), nullable=True)
    scope: Mapped[str] = mapped_column(Text)
    patient: Mapped[str | None] = mapped_column(String(64), nullable=True)
    encounter: Mapped[str | None] = mapped_column(String(64), nullable=True)
    expires: Mapped[datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class UsedJti(Base):
    """Client assertion ids seen until they expire: a second use is a replay."""

    __tablename__ = "oauth_used_jti"
    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires: Mapped[datetime] = mapped_column(DateTime, index=True)


class RevokedToken(Base):
    """Access tokens revoked before their expiry (by ``jti``)."""

    __tablename__ = "oauth_revoked_token"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires: Mapped[datetime] = mapped_column(DateTime, index=True)


class SigningKey(Base):
    """The server's RS256 keys. The private key is stored as unencrypted PKCS#8 PEM:
    whoever reads this table can mint tokens (encryption at rest is not done yet)."""

    __tablename__ = "oauth_signing_key"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    private_pem: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(DateTime)
