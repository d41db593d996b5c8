"""directory_entry: what each directory extract row last wrote (server.directory)

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_entry",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("entry_key", sa.String(length=512), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("fhir_id", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("import_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("source", "entry_key", name=op.f("pk_directory_entry")),
    )
    op.create_index("ix_directory_entry_vanished", "directory_entry", ["source", "resource_type", "import_id"])


def downgrade() -> None:
    op.drop_index("ix_directory_entry_vanished", table_name="directory_entry")
    op.drop_table("directory_entry")
