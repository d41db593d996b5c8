"""auth: the encounter of a launch context on codes and refresh tokens (server.auth)

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_code") as batch:
        batch.add_column(sa.Column("encounter", sa.String(length=64), nullable=True))
    with op.batch_alter_table("oauth_refresh_token") as batch:
        batch.add_column(sa.Column("encounter", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_refresh_token") as batch:
        batch.drop_column("encounter")
    with op.batch_alter_table("oauth_code") as batch:
        batch.drop_column("encounter")
