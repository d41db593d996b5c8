"""identity matching: a record's own block-key rows by a covering index

The write-time hook reads a record's own rows (fingerprint, golden link) in the same
query as its candidates. With (resource_type, fhir_id) only, SQLite's planner, lacking
statistics on a new table, preferred the covering primary key and scanned every key of
the type (11 ms per write at 3,000 records); (resource_type, fhir_id, key) covers that
read, so both backends take it.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index(op.f("ix_mdm_block_key_resource_type_fhir_id"), table_name="mdm_block_key")
    op.create_index(op.f("ix_mdm_block_key_resource_type_fhir_id_key"), "mdm_block_key",
                    ["resource_type", "fhir_id", "key"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_mdm_block_key_resource_type_fhir_id_key"), table_name="mdm_block_key")
    op.create_index(op.f("ix_mdm_block_key_resource_type_fhir_id"), "mdm_block_key", ["resource_type", "fhir_id"],
                    unique=False)
