"""HL7 v2 parse and map rates (messages/s), pure: no database, no network.

    .venv/bin/python -m tests.mappers.hl7v2.bench_mapping [--seconds 2]

Prints a table and writes ``bench_mapping-results.md`` beside this file. Columns: parse
(bytes -> Message), parse + map (bytes -> transaction Bundle), and hl7apy's parse of the
same message for scale (its ``parse_message``, tolerant, groups found).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

from mappers.hl7v2 import parse, to_bundle

SAMPLES = Path(__file__).with_name("samples")
OUT = Path(__file__).with_name("bench_mapping-results.md")
MESSAGES = ["adt_a01.hl7", "adt_a08.hl7", "adt_a03.hl7", "oru_r01.hl7", "vxu_v04.hl7", "siu_s12.hl7",
            "mdm_t02.hl7", "orm_o01.hl7", "rde_o11.hl7", "dft_p03.hl7"]


def rate(fn, seconds: float) -> float:
    fn()  # warm caches (concept maps, zone info)
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            fn()
        n += 50
    return n / elapsed


def hl7apy_rate(raw: bytes, seconds: float) -> float:
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message
    text = parse(raw).to_er7()
    try:
        return rate(lambda: parse_message(text, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=True),
                    seconds / 2)
    except Exception:  # noqa: BLE001  (hl7apy refuses some of ours: show it as not measured)
        return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = ap.parse_args()
    rows = []
    for name in MESSAGES:
        raw = (SAMPLES / name).read_bytes()
        message = parse(raw)
        entries = len(to_bundle(message)["entry"])
        rows.append((message.type, len(raw), len(message.segments), entries, rate(lambda: parse(raw), args.seconds),
                     rate(lambda: to_bundle(parse(raw)), args.seconds), hl7apy_rate(raw, args.seconds)))
    lines = [f"# HL7 v2 parse and map rates ({platform.python_implementation()} {platform.python_version()}, "
             f"one core, messages/s)", "",
             "| message | bytes | segments | Bundle entries | parse | parse + map | hl7apy parse |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for mtype, size, segs, entries, p, pm, h in rows:
        lines.append(f"| {mtype} | {size} | {segs} | {entries} | {p:,.0f} | {pm:,.0f} | {h:,.0f} |")
    total = sum(r[4] for r in rows) / len(rows), sum(r[5] for r in rows) / len(rows)
    lines += ["", f"Mean over the {len(rows)} messages: parse {total[0]:,.0f}/s, parse + map {total[1]:,.0f}/s.", ""]
    text = "\n".join(lines)
    print(text)
    OUT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
