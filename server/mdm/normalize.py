"""Normalization of identity values: names, phones, e-mails, French INS-NIR keys.

Names lose accents, case, punctuation and particles ("de la", "van", "d'") so that
"Hélène de La Fontaine-Dupré" and "HELENE FONTAINE DUPRE" compare equal.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import jellyfish

PARTICLES = frozenset({"de", "du", "des", "d", "la", "le", "les", "l", "van", "von", "der", "den", "di", "da",
                       "del", "della", "dos", "das", "y", "ter", "ten"})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_DIGITS = re.compile(r"\D+")


def fold(text: str) -> str:
    """Lower case, accents removed, anything not a letter or digit becomes one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.replace("ß", "ss").replace("æ", "ae").replace("œ", "oe").replace("Æ", "ae").replace("Œ", "oe")
    return _NON_ALNUM.sub(" ", plain.lower()).strip()


def name_tokens(text: str) -> tuple[str, ...]:
    """The meaningful tokens of a name: particles dropped (unless nothing else is left)."""
    tokens = fold(text).split()
    kept = tuple(t for t in tokens if t not in PARTICLES)
    return kept or tuple(tokens)


def name_key(text: str) -> str:
    return " ".join(name_tokens(text))


@lru_cache(maxsize=65536)
def phonetic(token: str) -> str:
    """A phonetic code for blocking; NYSIIS copes with French spellings better than Soundex."""
    return jellyfish.nysiis(token) if token else ""


def digits(text: str) -> str:
    return _DIGITS.sub("", text)


def phone(text: str) -> str:
    """National significant number: +33 6 12.. / 0033 6.. / 06 12.. all become 612..."""
    number = digits(text)
    for prefix in ("0033", "33"):
        if text.strip().startswith(("+", "00")) and number.startswith(prefix) and len(number) == len(prefix) + 9:
            return number[len(prefix):]
    if text.strip().startswith("+1") and len(number) == 11:
        return number[1:]
    return number[1:] if number.startswith("0") and len(number) == 10 else number


def email(text: str) -> str:
    return text.strip().lower()


def date_digits(text: str) -> str:
    """YYYY-MM-DD (or YYYY-MM, YYYY) as digits only: the comparators work on YYYYMMDD."""
    return digits(text)[:8]


INS_NIR = "urn:oid:1.2.250.1.213.1.4.8"
INS_NIA = "urn:oid:1.2.250.1.213.1.4.9"


def ins_key_ok(value: str) -> bool:
    """Check the 2-digit key of a 15-character NIR/NIA: 97 - (number mod 97).

    Corsica's departments 2A/2B count as 19/18 in the computation (INSEE rule).
    """
    value = value.replace(" ", "").upper()
    if len(value) != 15 or not value[13:].isdigit():
        return False
    body = value[:13]
    if body[5:7] == "2A":
        body = body[:5] + "19" + body[7:]
    elif body[5:7] == "2B":
        body = body[:5] + "18" + body[7:]
    if not body.isdigit():
        return False
    return 97 - int(body) % 97 == int(value[13:])
