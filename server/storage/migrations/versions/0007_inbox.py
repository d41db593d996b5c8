"""inbox: raw HL7 v2 messages, their acks and processing state (interfaces.mllp)

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.String(length=512), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("received", sa.DateTime(), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=True),
        sa.Column("control_id", sa.String(length=199), nullable=True),
        sa.Column("message_type", sa.String(length=64), nullable=True),
        sa.Column("patient_key", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim", sa.String(length=36), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("processed", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("commit_ack", sa.LargeBinary(), nullable=True),
        sa.Column("app_ack", sa.LargeBinary(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_inbox_dedup_key")),
    )
    op.create_index(op.f("ix_inbox_state_id"), "inbox", ["state", "id"])
    op.create_index(op.f("ix_inbox_patient_key_id"), "inbox", ["patient_key", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_inbox_patient_key_id"), table_name="inbox")
    op.drop_index(op.f("ix_inbox_state_id"), table_name="inbox")
    op.drop_table("inbox")
