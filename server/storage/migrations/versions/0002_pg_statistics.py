"""PostgreSQL: extended statistics on the index tables.

The planner assumes resource_type, param and the value are independent; they are
not (gender=male is a large share of Patient rows, a tiny share of the table), and
its 40x misestimates picked nested loops that took seconds. Dependencies and MCV
lists over (resource_type, param, value) fix the estimates. SQLite has no such thing.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

VALUE_COLUMNS = {
    "idx_string": "value",
    "idx_token": "code",
    "idx_date": "low",
    "idx_number": "value",
    "idx_quantity": "value",
    "idx_reference": "target_id",
    "idx_uri": "uri",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in VALUE_COLUMNS.items():
        op.execute(f"CREATE STATISTICS IF NOT EXISTS st_{table} (dependencies, mcv) "
                   f"ON resource_type, param, {column} FROM {table}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in VALUE_COLUMNS:
        op.execute(f"DROP STATISTICS IF EXISTS st_{table}")
