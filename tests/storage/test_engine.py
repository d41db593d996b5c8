"""The PostgreSQL engine's connection options."""

from __future__ import annotations

import os
from urllib.parse import quote

import pytest
from sqlalchemy import text

from server.storage.db import make_engine

PG_URL = os.environ.get("PASSERELLE_TEST_DATABASE_URL")


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only (PASSERELLE_TEST_DATABASE_URL)")
def test_options_in_the_url_are_kept_beside_the_servers_own():
    # The benchmarks isolate their tables in a schema of their own this way.
    engine = make_engine(f"{PG_URL}?options={quote('-csearch_path=bench_schema')}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW search_path")).scalar() == "bench_schema"
            assert conn.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"
    finally:
        engine.dispose()
