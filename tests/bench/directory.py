"""Directory import bench: rows/s and peak memory of ``passerelle import-directory``.

    .venv/bin/python -m tests.bench.directory                 # 100,000 RPPS rows, SQLite and PostgreSQL
    .venv/bin/python -m tests.bench.directory --rows 20000 --backends sqlite

Each phase runs the real command in a child process (its peak RSS is the child's own):
the first load of an extract into an empty store, the same extract again (nothing
changed), then a newer extract (1% of rows changed, 0.5% vanished, 0.5% new). The mapper
alone (read and map, no store) runs in the same session for scale.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path


from mappers.directory import read_rpps
from tests.bench.databases import scratch_database
from tests.directory.extracts import rpps_row, write_rpps

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TARGET_ROWS_PER_S = 5000


def extract_rows(n: int, seed: int = 0) -> list[dict[str, str]]:
    """``n`` activity rows: about 1.15 rows per professional, 4 professionals per site."""
    rng = random.Random(seed)
    rows, person = [], 0
    while len(rows) < n:
        person += 1
        for _ in range(2 if rng.random() < 0.15 else 1):
            rows.append(rpps_row(person, rng.randrange(max(1, n // 4)), profession=rng.randrange(5),
                                 mode=rng.randrange(2)))
    return rows[:n]


def newer(rows: list[dict[str, str]], seed: int = 1) -> list[dict[str, str]]:
    """The next month's extract: 1% changed, 0.5% vanished, 0.5% new."""
    rng = random.Random(seed)
    out = []
    for row in rows:
        draw = rng.random()
        if draw < 0.005:
            continue  # vanished
        if draw < 0.015:
            row = {**row, "Code mode exercice": "L" if row["Code mode exercice"] == "S" else "S"}
        out.append(row)
    base = 10_000_000
    out += [rpps_row(base + i, i) for i in range(len(rows) // 200)]
    return out


def run_phase(database_url: str, path: Path) -> tuple[float, int, str]:
    """(seconds, peak RSS in MiB, summary) of one ``passerelle import-directory`` child."""
    command = [str(ROOT / ".venv/bin/passerelle"), "import-directory", "--quiet", "--format", "rpps",
               "--database-url", database_url, str(path)]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    out = child.stdout.read().decode()
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError(f"import failed: {child.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss // 1024, out


def startup_seconds(database_url: str, path: Path) -> float:
    """The command's fixed cost (imports, knowledge and rules loaded), from an extract of one
    row, run twice: the first run also creates the schema."""
    run_phase(database_url, path)
    return run_phase(database_url, path)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--mdm", choices=("on", "off"), default="on",
                        help="identity matching on the Practitioners written (PASSERELLE_MDM)")
    args = parser.parse_args(argv)
    os.environ["PASSERELLE_MDM"] = args.mdm  # the import commands inherit it
    work = Path(tempfile.mkdtemp(prefix="passerelle-directory-bench-"))
    rows = extract_rows(args.rows)
    first = write_rpps(work / "v1.txt", rows)
    second = write_rpps(work / "v2.txt", newer(rows))
    tiny = write_rpps(work / "one.txt", rows[:1])

    start = time.perf_counter()
    for activity in read_rpps(open(first, encoding="utf-8")):
        for entry in activity.entries:
            entry.digest
    hash_rate = args.rows / (time.perf_counter() - start)
    start = time.perf_counter()
    for activity in read_rpps(open(first, encoding="utf-8")):
        for entry in activity.entries:
            entry.resource
    map_rate = args.rows / (time.perf_counter() - start)
    print(f"mapper alone: read and hash {hash_rate:,.0f} rows/s, read and map {map_rate:,.0f} rows/s", flush=True)

    table = []
    for backend in args.backends.split(","):
        with scratch_database(backend, "directory") as url:
            fixed = startup_seconds(url, tiny)  # also migrates the database
            for phase, path, n in (("first load", first, args.rows), ("same extract again", first, args.rows),
                                   ("newer extract (1% changed)", second, args.rows)):
                seconds, rss, summary = run_phase(url, path)
                rate = n / max(seconds - fixed, seconds / 100)  # start-up time varies: never below 1% of the run
                table.append((backend, phase, n, seconds, fixed, rate, rss))
                print(f"{backend:10} {phase:28} {n:>8} rows {seconds:7.1f} s  {rate:8,.0f} rows/s  "
                      f"peak {rss} MiB", flush=True)
                print("   " + "\n   ".join(summary.strip().splitlines()[1:]), flush=True)

    lines = [f"# Directory import bench ({datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores)", "",
             f"`python -m tests.bench.directory --rows {args.rows}`: synthetic RPPS extract, real layout; each",
             "phase is one `passerelle import-directory` process; seconds include the command's start-up",
             f"(measured on a one-row extract, subtracted for rows/s). Mapper alone: read and hash {hash_rate:,.0f} rows/s (what an",
             f"unchanged row costs), read and map {map_rate:,.0f} rows/s.",
             f"Identity matching (PASSERELLE_MDM): {args.mdm}. Target: {TARGET_ROWS_PER_S:,} rows/s.", "",
             "| backend | phase | rows | seconds | start-up s | rows/s | peak RSS (MiB) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {b} | {p} | {n:,} | {s:.1f} | {f:.1f} | {r:,.0f} | {m} |" for b, p, n, s, f, r, m in table]
    results = HERE / f"directory-results{'' if args.mdm == 'on' else '-mdm-off'}.md"
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
