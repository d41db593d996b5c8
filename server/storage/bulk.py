"""Insert many rows in one statement whose text does not depend on how many there are.

PostgreSQL: ``INSERT INTO t (a, b) SELECT * FROM unnest(CAST(:a AS type[]), CAST(:b AS type[]))``,
one array per column. The text is the same for 1 row or 5,000, so SQLAlchemy compiles it
once and psycopg prepares it on the server after a few runs; a multi-row ``VALUES`` list
was a new statement for every row count (measured: a third of a transaction's time went
to compiling and planning them).

SQLite: the driver's ``executemany`` with the rows as tuples, each value passed through its
column type's bind processor (what SQLAlchemy stores for a DateTime or a Boolean) but not
through SQLAlchemy's per-row parameter handling, which cost more than sqlite3's own insert.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Connection, Table, text
from sqlalchemy.dialects import postgresql

_PG = postgresql.dialect()


def insert_rows(conn: Connection, table: Table, rows: list[dict]) -> None:
    if not rows:
        return
    columns = tuple(rows[0])
    if conn.dialect.name == "postgresql":
        conn.execute(_unnest_insert(table, columns), {f"c{i}": [row[name] for row in rows]
                                                      for i, name in enumerate(columns)})
        return
    sql, processors = _sqlite_insert(conn.dialect, table, columns)
    if processors:
        tuples = [tuple(p(row[name]) if p else row[name] for name, p in zip(columns, processors)) for row in rows]
    else:
        tuples = [tuple(row[name] for name in columns) for row in rows]
    conn.exec_driver_sql(sql, tuples)


@lru_cache(maxsize=256)
def _unnest_insert(table: Table, columns: tuple[str, ...]):
    quote = _PG.identifier_preparer.quote
    arrays = ", ".join(f"CAST(:c{i} AS {table.c[name].type.compile(dialect=_PG)}[])"
                       for i, name in enumerate(columns))
    names = ", ".join(quote(name) for name in columns)
    return text(f"INSERT INTO {quote(table.name)} ({names}) SELECT * FROM unnest({arrays})")


@lru_cache(maxsize=256)
def _sqlite_insert(dialect, table: Table, columns: tuple[str, ...]):
    quote = dialect.identifier_preparer.quote
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in columns)}) "
           f"VALUES ({', '.join('?' * len(columns))})")
    return sql, processors if any(processors) else None
