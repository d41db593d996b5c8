"""Which language a note is written in, when its metadata does not say (en or fr)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

RULES = Path(__file__).resolve().parent / "rules"
_WORD = re.compile(r"[a-zà-ÿœ']+")


@cache
def _words() -> dict[str, frozenset[str]]:
    words = {}
    for line in (RULES / "language_words.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            language, *listed = line.split("\t")
            words[language] = frozenset(listed)
    return words


def guess(text: str, default: str = "en") -> str:
    """The language whose common words the text uses most (``default`` on a tie)."""
    tokens = _WORD.findall(text.lower())
    counts = {language: sum(t in words for t in tokens) for language, words in _words().items()}
    best = max(counts, key=counts.get)
    return best if counts[best] > counts.get(default, 0) else default


def normalise(tag: str | None) -> str | None:
    """A BCP-47 tag ("fr-FR", "en-GB") to the language we read, or None when we read neither."""
    if not tag:
        return None
    primary = tag.split("-")[0].lower()
    return primary if primary in _words() else None
