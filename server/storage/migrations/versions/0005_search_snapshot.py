"""search_snapshot: ordered matches of searches paged by snapshot (server.search.paging)

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_snapshot",
        sa.Column("search_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("pid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("search_id", "position", name=op.f("pk_search_snapshot")),
    )
    op.create_index(op.f("ix_search_snapshot_created"), "search_snapshot", ["created"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_search_snapshot_created"), table_name="search_snapshot")
    op.drop_table("search_snapshot")
