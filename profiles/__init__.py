"""FHIR definitions as data (see README.md for their source and licence).

This package imports nothing of ours: every other layer may read it.
"""

from __future__ import annotations

import gzip
import json
from importlib import resources


def load_bundle(name: str) -> dict:
    """Return the parsed JSON of ``data/<name>.json.gz`` (``name`` with or without the suffix).

    Callers cache what they derive from it; this reads and decompresses on every call.
    """
    if not name.endswith(".json.gz"):
        name = f"{name}.json.gz"
    with resources.files(__name__).joinpath("data", name).open("rb") as raw:
        with gzip.open(raw, "rt", encoding="utf-8") as text:
            return json.load(text)
