"""Search index: probe indexes led by pid, and pid at the end of the lookup indexes.

A search drives from its most selective criterion and tests the others with
``EXISTS (… WHERE idx_x.pid = resource.pid AND resource_type = … AND param = …)``.
On ``(pid)`` alone that probe reads every index row of the resource (dozens for an
Observation, every start date of a Slot's schedule) and filters them on the heap, and
SQLite preferred the value index instead; ``(pid, resource_type, param)`` answers it
with one short index range. It replaces ``(pid)``, which it also serves (the writer's
``DELETE … WHERE pid = …``), so the write path keeps the same number of indexes.

The token, reference and string lookup indexes get ``pid`` as their last key column:
the pids of a code, a reference target or a name prefix then come from the index
alone (PostgreSQL index-only scans, SQLite covering indexes), and for an exact code or
target in pid order. A key column rather than PostgreSQL's ``INCLUDE (pid)``: the same
size, on both databases, and ordered.

New indexes are built before the old ones go, so searches keep an index meanwhile. The
build locks writes to the idx_* tables while it runs (40-80 s per 100k resources on this
busy 2-core machine): on a large store, run it in a maintenance window.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = ("idx_string", "idx_token", "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_uri")

# table: (old lookup columns, new lookup columns)
LOOKUPS = {
    "idx_string": (["resource_type", "param", "value"], ["resource_type", "param", "value", "pid"]),
    "idx_token": (["resource_type", "param", "code", "system"], ["resource_type", "param", "code", "system", "pid"]),
    "idx_reference": (["resource_type", "param", "target_id", "target_type"],
                      ["resource_type", "param", "target_id", "target_type", "pid"]),
}
PATTERN_OPS = {"idx_string": {"value": "varchar_pattern_ops"}}  # prefix LIKE on PostgreSQL


def _name(table: str, columns: list[str]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def _swap(old: dict[str, list[str]], new: dict[str, list[str]]) -> None:
    """Per table: create the ``new`` indexes, then drop the ``old`` ones."""
    for table in TABLES:
        for columns in new.get(table, []):
            op.create_index(_name(table, columns), table, columns, postgresql_ops=PATTERN_OPS.get(table, {}))
        for columns in old.get(table, []):
            op.drop_index(_name(table, columns), table_name=table)


def _indexes(probe: list[str], lookups: int) -> dict[str, list[list[str]]]:
    return {t: [probe] + ([LOOKUPS[t][lookups]] if t in LOOKUPS else []) for t in TABLES}


def upgrade() -> None:
    _swap(old=_indexes(["pid"], 0), new=_indexes(["pid", "resource_type", "param"], 1))


def downgrade() -> None:
    _swap(old=_indexes(["pid", "resource_type", "param"], 1), new=_indexes(["pid"], 0))
