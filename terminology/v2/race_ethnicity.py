"""PID-10 race and PID-22 ethnic group as CDC Race & Ethnicity codes (US Core extensions).

``race("ASIAN")`` -> ``("omb", Coding("2028-9", "Asian", CDCREC))``; a CDC code outside
the OMB categories (``2034-7`` Chinese) is ``detailed``; ``None`` when the value means
nothing we know. The table (``race_ethnicity.json``) holds the OMB categories and the
aliases feeds send: table 0005/0189 codes, legacy letters, English texts.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from . import Coding

CDCREC = "urn:oid:2.16.840.1.113883.6.238"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
_CDC_CODE = re.compile(r"\d{4}-\d\Z")
_DATA = Path(__file__).with_name("race_ethnicity.json")


@cache
def _table() -> dict:
    return json.loads(_DATA.read_text(encoding="utf-8"))


def race(value: str, display: str = "") -> tuple[str, Coding] | None:
    return _classify("race", value, display)


def ethnicity(value: str, display: str = "") -> tuple[str, Coding] | None:
    return _classify("ethnicity", value, display)


def _classify(kind: str, value: str, display: str) -> tuple[str, Coding] | None:
    """(``omb`` | ``detailed``, its coding) for a code, legacy code or text of table 0005/0189."""
    table = _table()[kind]
    key = " ".join(value.split()).upper()
    code = key if key in table["omb"] or key in table["detailed"] else table["aliases"].get(key)
    if code is None and _CDC_CODE.match(key):
        return "detailed", Coding(key, display, CDCREC)  # a CDC code finer than the OMB categories
    if code is None:
        return None
    system = NULL_FLAVOR if code in ("UNK", "ASKU") else CDCREC
    if code in table["omb"]:
        return "omb", Coding(code, table["omb"][code], system)
    return "detailed", Coding(code, table["detailed"][code], system)
