"""String parameters -> StringIndex (http://hl7.org/fhir/R4/search.html#string).

Primitive strings (string, markdown, code, uri...) index as written; HumanName
indexes each of family, given, prefix, suffix and text; Address each of line,
city, district, state, postalCode, country and text. ``value`` is folded by
``server.search.normalize`` (the default and ``:contains`` searches), ``exact`` keeps
the text as written (``:exact``); both are cut to 200 characters.
"""

from __future__ import annotations

from server.search.extract.model import infer_type
from server.search.index_rows import StringIndex
from server.search.normalize import MAX_STRING_LENGTH, normalize

_PARTS = {
    "HumanName": ("family", "given", "prefix", "suffix", "text"),
    "Address": ("line", "city", "district", "state", "postalCode", "country", "text"),
}


def string_row(code: str, text: str) -> StringIndex | None:
    exact = text.strip()[:MAX_STRING_LENGTH]
    if not exact:
        return None
    return StringIndex(code, normalize(exact)[:MAX_STRING_LENGTH], exact)


def rows(code: str, ftype: str | None, value) -> list[StringIndex]:
    if isinstance(value, str):
        row = string_row(code, value)
        return [row] if row else []
    if not isinstance(value, dict):
        return []
    parts = _PARTS.get(ftype) or _PARTS.get(infer_type(value)) or ()
    out = []
    for part in parts:
        texts = value.get(part)
        for text in texts if isinstance(texts, list) else (texts,):
            if isinstance(text, str) and (row := string_row(code, text)):
                out.append(row)
    return out
