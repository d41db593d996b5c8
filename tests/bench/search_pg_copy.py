"""Copy a loaded SQLite search population into its PostgreSQL benchmark database.

Loading through the write path runs at a few hundred resources/s on an idle machine and at
~20/s when the 2 shared cores are saturated. The rows the write path produced for SQLite
(``resource``, ``resource_version``, the ``idx_*`` tables) are the same rows it produces
for PostgreSQL, so when a PostgreSQL load cannot finish in time this copies them with
COPY into a freshly migrated ``passerelle_bench_<size>``, runs ``VACUUM (ANALYZE)`` and
writes the usual marker (with ``copied_from``). Searches measured on it read the same
data; the load time in the report is then the copy's, not the write path's.

    .venv/bin/python -m tests.bench.search_pg_copy --size 100000
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime

from sqlalchemy import create_engine, select

from server.storage.db import make_engine, migrate
from server.storage.models import INDEX_TABLES, Resource, ResourceVersion

from .search import _fresh_database, database_size, extract_fingerprint, read_marker, schema_head, target, \
    write_marker

TABLES = [Resource.__table__, ResourceVersion.__table__, *INDEX_TABLES.values()]
CHUNK = 20_000


def copy(size: int) -> dict:
    source, dest = target("sqlite", size), target("postgresql", size)
    marker = read_marker(source)
    if not marker or not marker.get("complete"):
        raise SystemExit(f"no loaded SQLite population of {size:,}: run tests.bench.run --search first")
    started = time.perf_counter()
    _fresh_database(dest)
    engine = make_engine(dest.url)
    migrate(engine)
    src = create_engine(source.url)
    rows = 0
    with src.connect() as s, engine.connect() as d:
        cursor = d.connection.dbapi_connection.cursor()
        for table in TABLES:
            cols = [c.name for c in table.columns]
            with cursor.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as out:
                for row in s.execution_options(yield_per=CHUNK).execute(select(*table.columns)):
                    out.write_row(tuple(row))
                    rows += 1
            key = "pid" if table.name == "resource" else ("id" if "id" in cols else None)
            if key:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key}'), "
                               f"(SELECT coalesce(max({key}), 1) FROM {table.name}))")
        d.connection.dbapi_connection.commit()
    src.dispose()
    engine.dispose()
    copied = time.perf_counter() - started
    admin = create_engine(dest.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")
    admin.dispose()
    out = dict(complete=True, generator=marker["generator"], seed=marker["seed"], size=size, schema=schema_head(),
               extract=marker.get("extract", extract_fingerprint()), load_seconds=round(copied, 1), load_workers=1,
               load_batch=CHUNK, finish_seconds=round(time.perf_counter() - started - copied, 1),
               loaded_at=f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
               copied_from=f"{source.sqlite_path.name} (loaded {marker.get('loaded_at')})", rows=rows,
               **database_size(dest))
    write_marker(dest, out)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.search_pg_copy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, required=True)
    args = parser.parse_args(argv)
    print(copy(args.size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
