"""mdm: identity matching state (server.mdm): the blocking-key index

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mdm_block_key",
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fhir_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("resource_type", "key", "fhir_id", name=op.f("pk_mdm_block_key")),
    )
    op.create_index(op.f("ix_mdm_block_key_resource_type_fhir_id"), "mdm_block_key", ["resource_type", "fhir_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_mdm_block_key_resource_type_fhir_id"), table_name="mdm_block_key")
    op.drop_table("mdm_block_key")
