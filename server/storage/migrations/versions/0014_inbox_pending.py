"""inbox: the per-patient order probe reads an index of pending rows only

A claim skips rows that have an older received or processing row of the same patient.
With (patient_key, id) over every message ever received, and statistics taken while the
table was small, PostgreSQL probed that with a nested loop over all pending rows for each
pending row: 52 ms per claim at 334 pending, seconds with a backlog of thousands (4
messages/s stored with four workers). A partial index holds the pending rows only.

Revision ID: 0014
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

PENDING = "state IN ('received', 'processing')"


def upgrade() -> None:
    op.create_index("ix_inbox_pending", "inbox", ["patient_key", "id"],
                    postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))
    op.drop_index("ix_inbox_patient_key_id", table_name="inbox")


def downgrade() -> None:
    op.create_index("ix_inbox_patient_key_id", "inbox", ["patient_key", "id"])
    op.drop_index("ix_inbox_pending", table_name="inbox")
