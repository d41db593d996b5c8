"""reindex_job: state of $reindex runs (resumable, visible from every worker)

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reindex_job",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("resource_types", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("max_pid", sa.BigInteger(), nullable=False),
        sa.Column("last_pid", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("heartbeat", sa.DateTime(), nullable=True),
        sa.Column("requested", sa.DateTime(), nullable=False),
        sa.Column("started", sa.DateTime(), nullable=True),
        sa.Column("finished", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reindex_job")),
    )


def downgrade() -> None:
    op.drop_table("reindex_job")
