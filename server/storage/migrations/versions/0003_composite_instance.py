"""Search index: ``instance`` on every idx_* table; idx_reference searchable by URL.

A composite parameter (``code-value-quantity``) is indexed as rows of its components'
types sharing ``instance``, the number of the element the composite expression
selected within the resource; NULL on every other row. Nullable with no default, so
adding it rewrites no table on either database.

Absolute references are now indexed by URL only (type and id empty), and canonical
ones always were: a partial index on (resource_type, param, url) serves those
searches without costing the many relative references anything.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("idx_string", "idx_token", "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_uri")


URL_INDEX = "ix_idx_reference_resource_type_param_url"


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("instance", sa.Integer(), nullable=True))
    op.create_index(
        URL_INDEX, "idx_reference", ["resource_type", "param", "url"],
        postgresql_where=sa.text("url IS NOT NULL"), sqlite_where=sa.text("url IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(URL_INDEX, table_name="idx_reference")
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:  # SQLite: DROP COLUMN needs the batch copy before 3.35
            batch_op.drop_column("instance")
