"""What the search indexes cost the write path: migration 0011's index set against the one
before it, side by side in one process.

Two databases of one backend, identical but for 0011 (``old``: migrated to head, then
0011's ``downgrade()`` applied, which restores the earlier idx_* indexes). The same
generated Patients with their records (``search_population``: ~55 resources each) are
written to both through the real write path (``store.write()``, ``create()`` per
resource), in alternating units of work of one group each, so that both see the same
machine load; the first rounds warm up and are not counted. Reports resources/s of each
and their ratio, from the medians of the per-unit times.

    .venv/bin/python -m tests.bench.search_write_cost --backend sqlite --groups 60
    .venv/bin/python -m tests.bench.search_write_cost --backend postgresql --groups 60
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations

from .databases import scratch_database
from .search_population import SearchPopulation

MIGRATION = Path(__file__).resolve().parents[2] / "server/storage/migrations/versions/0011_search_probe_indexes.py"
WARMUP = 3


def _without_0011(engine) -> None:
    spec = importlib.util.spec_from_file_location("m0011", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        module.downgrade()


def run(backend: str, groups: int, seed: int) -> dict:
    from server.app import build_context
    from server.config import Settings

    pop = SearchPopulation(seed)
    with scratch_database(backend, "wc_new") as new_url, scratch_database(backend, "wc_old") as old_url:
        contexts = {name: build_context(Settings(database_url=url)) for name, url in
                    (("new", new_url), ("old", old_url))}
        _without_0011(contexts["old"].store.engine)
        times: dict[str, list[float]] = {"new": [], "old": []}
        counts: list[int] = []
        for k in range(groups):
            group = pop.group(k)
            order = ("new", "old") if k % 2 == 0 else ("old", "new")  # neither always goes first
            for name in order:
                started = time.perf_counter()
                with contexts[name].store.write() as uow:
                    for fhir_id, resource in group:
                        uow.create(resource, fhir_id=fhir_id)
                if k >= WARMUP:
                    times[name].append((time.perf_counter() - started) / len(group))
            if k >= WARMUP:
                counts.append(len(group))
        for ctx in contexts.values():
            ctx.store.engine.dispose()
    per = {name: statistics.median(t) for name, t in times.items()}
    return dict(backend=backend, resources=sum(counts), new=1 / per["new"], old=1 / per["old"],
                ratio=per["new"] / per["old"], load=os.getloadavg())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.search_write_cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--groups", type=int, default=60, help="Patients with their records, per database")
    parser.add_argument("--seed", type=int, default=20241128)
    args = parser.parse_args(argv)
    os.environ.setdefault("PASSERELLE_MDM", "off")  # identity matching's cost is not the indexes'
    r = run(args.backend, args.groups, args.seed)
    print(f"{r['backend']}: {r['resources']:,} resources each, median per unit of work: "
          f"0011 indexes {r['new']:,.0f} resources/s, before 0011 {r['old']:,.0f} resources/s; "
          f"time ratio new/old {r['ratio']:.3f} (load average {' '.join(f'{x:.2f}' for x in r['load'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
