"""Profile the transaction-bundle ingest path in-process with cProfile.

What ``POST /fhir`` does minus uvicorn/Starlette: parse the body bytes (``jsonio.loads``),
``process_bundle``, serialize the transaction-response (``jsonio.dumps``). Reports the
functions of our own code (``server/``, ``profiles/``...) by cumulative time.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]
OURS = tuple(str(ROOT / d) + "/" for d in ("server", "profiles", "terminology", "mappers"))


def profile_ingest(database_url: str, bundles: list[dict], top: int = 25) -> tuple[str, float]:
    """Ingest ``bundles``: two as warm-up, half of the rest timed without the profiler, the other half
    under cProfile; return (markdown report, resources/s without the profiler)."""
    from server import jsonio
    from server.app import build_context
    from server.bundles.processor import process_bundle
    from server.config import Settings

    ctx = build_context(Settings(database_url=database_url))
    base = "http://127.0.0.1/fhir"
    payloads = [orjson.dumps(b) for b in bundles]

    def ingest(body: bytes) -> None:
        answer = process_bundle(ctx, jsonio.loads(body), {}, base)
        jsonio.dumps(answer.body)

    try:
        for body in payloads[:2]:
            ingest(body)
        half = 2 + (len(payloads) - 2) // 2
        plain_count = sum(len(b["entry"]) for b in bundles[2:half])
        start = time.perf_counter()
        for body in payloads[2:half]:
            ingest(body)
        plain_rate = plain_count / (time.perf_counter() - start)
        measured = payloads[half:]
        count = sum(len(b["entry"]) for b in bundles[half:])
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        for body in measured:
            ingest(body)
        profiler.disable()
        seconds = time.perf_counter() - start
    finally:
        ctx.store.engine.dispose()

    stats = pstats.Stats(profiler)
    total = stats.total_tt
    rows = []
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        if filename.startswith(OURS):
            rows.append((cumtime, tottime, ncalls, f"{Path(filename).relative_to(ROOT)}:{line}({name})"))
    rows.sort(reverse=True)
    out = io.StringIO()
    out.write(f"Without HTTP and without the profiler: {plain_rate:.0f} resources/s "
              f"({plain_count} resources). Under cProfile: {len(measured)} bundles, {count} resources in "
              f"{seconds:.2f} s ({count / seconds:.0f} resources/s; profiled total {total:.2f} s).\n\n"
              f"Our functions by cumulative time (time inside them, callees included):\n\n")
    out.write("| # | function (our code) | cumulative s | % of total | own s | calls |\n"
              "|---|---|---:|---:|---:|---:|\n")
    for rank, (cum, own, calls, where) in enumerate(rows[:top], 1):
        out.write(f"| {rank} | `{where}` | {cum:.2f} | {100 * cum / total:.0f}% | {own:.2f} | {calls} |\n")
    # Where our code hands over to libraries (database driver, SQLAlchemy, json...): the edges
    # (our caller -> library callee) by the cumulative time spent below them.
    edges = []
    for (fn, ln, nm), (_c, _nc, _tt, _ct, callers) in stats.stats.items():
        if fn.startswith(OURS):
            continue
        for (cfn, cln, cnm), edge in callers.items():
            if cfn.startswith(OURS):
                edges.append((edge[3], edge[1], f"{_short(cfn)}:{cln}({cnm})", f"{_short(fn)}:{ln}({nm})"))
    edges.sort(reverse=True)
    out.write("\nOur calls into libraries, by cumulative time below the call:\n\n")
    out.write("| our caller | library callee | cumulative s | % of total | calls |\n|---|---|---:|---:|---:|\n")
    for ct, nc, caller, callee in edges[:15]:
        out.write(f"| `{caller}` | `{callee}` | {ct:.2f} | {100 * ct / total:.0f}% | {nc} |\n")
    # Own-time leaders, all code (ours and libraries): where the time is actually spent.
    out.write("\nTop own-time (tottime) functions, any code:\n\n")
    out.write("| function | own s | % of total | calls |\n|---|---:|---:|---:|\n")
    own_rows = sorted(((tt, nc, f"{_short(fn)}:{ln}({nm})") for (fn, ln, nm), (_c, nc, tt, _ct, _cl)
                       in stats.stats.items()), reverse=True)
    for tt, nc, where in own_rows[:15]:
        out.write(f"| `{where}` | {tt:.2f} | {100 * tt / total:.0f}% | {nc} |\n")
    return out.getvalue(), plain_rate


def _short(filename: str) -> str:
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1:])
    if "python3.11" in parts:
        return "stdlib/" + "/".join(parts[parts.index("python3.11") + 1:])
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return filename
