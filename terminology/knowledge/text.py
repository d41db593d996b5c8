"""Name folding and the dictionary matcher used to find substance and class names.

Names are compared folded: lower case, accents removed, punctuation (apostrophes
too: French elision) and runs of spaces reduced to one space. "Acide
acétylsalicylique", "ACIDE ACETYLSALICYLIQUE" and "acide  acetylsalicylique" are one name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

_TOKEN = re.compile(r"[a-z0-9]+")  # apostrophes split: "l'aspirine" is "l aspirine"
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def fold(text: str) -> str:
    """The comparison form of a name: lower case, no accents, single spaces."""
    return " ".join(tokens(text))


def tokens(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("œ", "oe").replace("æ", "ae")
    return _TOKEN.findall(plain)


class NameIndex:
    """Folded names -> values, with a longest-match scan of free text.

    One name may carry several values (a French and an English substance that fold the
    same are merged upstream; an ambiguous abbreviation may stay ambiguous).
    """

    def __init__(self) -> None:
        self._names: dict[tuple[str, ...], list] = {}
        self._longest = 1

    def add(self, name: str, value) -> None:
        key = tuple(tokens(name))
        if not key:
            return
        values = self._names.setdefault(key, [])
        if value not in values:
            values.append(value)
        self._longest = max(self._longest, len(key))

    def get(self, name: str) -> list:
        return list(self._names.get(tuple(tokens(name)), ()))

    def scan(self, text: str) -> Iterator[tuple[str, list]]:
        """(matched folded name, values) for each longest match, left to right, no overlap."""
        words = tokens(text)
        i = 0
        while i < len(words):
            for n in range(min(self._longest, len(words) - i), 0, -1):
                values = self._names.get(tuple(words[i:i + n]))
                if values:
                    yield " ".join(words[i:i + n]), list(values)
                    i += n
                    break
            else:
                i += 1

    def names(self) -> Iterable[str]:
        return (" ".join(k) for k in self._names)
