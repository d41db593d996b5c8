"""auth: OAuth clients, users, codes, refresh tokens, used jti, revoked tokens, signing keys (server.auth)

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_client",
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("client_type", sa.String(length=16), nullable=False),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("jwks", sa.Text(), nullable=True),
        sa.Column("jwks_uri", sa.String(length=1024), nullable=True),
        sa.Column("launch", sa.String(length=64), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_oauth_client")),
    )
    op.create_table(
        "auth_user",
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("fhir_user", sa.String(length=255), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_auth_user")),
    )
    op.create_table(
        "oauth_code",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("redirect_uri", sa.String(length=1024), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("nonce", sa.String(length=255), nullable=True),
        sa.Column("patient", sa.String(length=64), nullable=True),
        sa.Column("expires", sa.DateTime(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_oauth_code")),
    )
    op.create_table(
        "oauth_refresh_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("patient", sa.String(length=64), nullable=True),
        sa.Column("expires", sa.DateTime(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oauth_refresh_token")),
    )
    op.create_table(
        "oauth_used_jti",
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "jti", name=op.f("pk_oauth_used_jti")),
    )
    op.create_index(op.f("ix_oauth_used_jti_expires"), "oauth_used_jti", ["expires"], unique=False)
    op.create_table(
        "oauth_revoked_token",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("expires", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_oauth_revoked_token")),
    )
    op.create_index(op.f("ix_oauth_revoked_token_expires"), "oauth_revoked_token", ["expires"], unique=False)
    op.create_table(
        "oauth_signing_key",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=16), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_oauth_signing_key")),
    )


def downgrade() -> None:
    for table in ("oauth_signing_key", "oauth_revoked_token", "oauth_used_jti", "oauth_refresh_token",
                  "oauth_code", "auth_user", "oauth_client"):
        op.drop_table(table)
