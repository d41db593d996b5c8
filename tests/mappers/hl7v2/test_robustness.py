"""Damaged messages (bytes deleted, inserted, changed, cut) are a ParseError, never a crash."""

from __future__ import annotations

import random

import pytest

from mappers.hl7v2 import ParseError, parse, to_bundle

from .helpers import SAMPLES

NOISE = b"|^~\\&\r0123456789AZaz \"."


def damaged(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        if not data:
            break
        op, pos = rng.random(), rng.randrange(len(data))
        if op < 0.3:
            del data[pos]
        elif op < 0.6:
            data.insert(pos, rng.choice(NOISE))
        elif op < 0.8:
            data[pos] = rng.randrange(256)
        else:
            del data[pos:]
    return bytes(data)


def empty_values(node, path: str):
    """Paths of empty strings, lists, objects or nulls: FHIR forbids them (ele-1)."""
    if isinstance(node, dict):
        if not node:
            yield path
        for key, value in node.items():
            yield from empty_values(value, f"{path}.{key}")
    elif isinstance(node, list):
        if not node:
            yield path
        for i, value in enumerate(node):
            yield from empty_values(value, f"{path}[{i}]")
    elif node is None or node == "":
        yield path


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.hl7")))
def test_damaged_messages_fail_cleanly(name):
    rng = random.Random(name)  # deterministic per sample
    raw = (SAMPLES / name).read_bytes()
    outcomes = {"mapped": 0, "refused": 0}
    for _ in range(150):
        try:
            bundle = to_bundle(parse(damaged(raw, rng)))
            outcomes["mapped"] += 1
            assert list(empty_values(bundle, "Bundle")) == []
        except ParseError as exc:  # MappingError included: a place and a 0357 code
            assert exc.code in ("100", "101", "102", "103", "200", "201", "203") and exc.segment
            outcomes["refused"] += 1
    assert outcomes["mapped"] and outcomes["refused"]  # both happen: the damage is real, the tolerance too
