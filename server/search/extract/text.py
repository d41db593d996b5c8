"""``_text`` (the narrative) and ``_content`` (the whole resource) -> one TokenIndex each.

R4 leaves their matching to the server (http://hl7.org/fhir/R4/search.html#text). Ours
is :text-like and cheap on both databases without a full-text engine: the text is
folded as string search folds it (``normalize``: case and accents), cut into words,
each distinct word kept once in order, and stored as ``" word word ... "`` in
``idx_token.text`` (code NULL); a query word matches the start of a stored word
(``server.search.sql.text``). Stored text is capped at ``MAX_TEXT_LENGTH`` characters.

``_content`` reads every string of the resource except those that are identifiers of
other things rather than content (references, systems, URLs, ids, meta, base64 data)
and dates; the narrative's XHTML tags are dropped.
"""

from __future__ import annotations

import html
import re
import unicodedata

from server.search.index_rows import TokenIndex

MAX_TEXT_LENGTH = 10_000
_WORD = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]*>")
# Not content: names of other things (references, systems, URLs, ids) and base64 data.
_NOT_CONTENT = frozenset({"resourceType", "id", "meta", "reference", "system", "url", "fullUrl", "data"})


def words(text: str) -> list[str]:
    """The folded words of ``text``, as both sides of ``_text``/``_content`` cut them.

    Folded like ``normalize`` (NFKD, case-folded, combining marks dropped) but with a
    regex over the common combining blocks instead of its per-character table: whole
    texts are long and rarely repeat, so ``normalize``'s cache would not help either.
    """
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text).casefold())
    return _WORD.findall(text.lower())


_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def _row(code: str, texts: list[str]) -> TokenIndex | None:
    # One regex pass over all the ASCII strings, and one fold of the others (names with
    # accents): far cheaper than word-splitting each string, or folding them all.
    plain = " ".join(t for t in texts if t.isascii())
    other = " ".join(t for t in texts if not t.isascii())
    found = dict.fromkeys(_WORD.findall(plain.lower()) + (words(other) if other else []))
    if not found:
        return None
    joined = " " + " ".join(found) + " "
    if len(joined) > MAX_TEXT_LENGTH:
        joined = joined[: joined.rfind(" ", 0, MAX_TEXT_LENGTH) + 1]
    return TokenIndex(code, None, None, joined)


def _narrative(resource: dict) -> str | None:
    text = resource.get("text")
    div = text.get("div") if isinstance(text, dict) else None
    return html.unescape(_TAG.sub(" ", div)) if isinstance(div, str) else None


def narrative_rows(code: str, resource: dict) -> list[TokenIndex]:
    narrative = _narrative(resource)
    row = _row(code, [narrative]) if narrative else None
    return [row] if row else []


def _strings(node: dict, out: list[str]) -> None:
    """Append the content strings under ``node`` (leaves inline: this runs on every write)."""
    for key, value in node.items():
        if key in _NOT_CONTENT:
            continue
        kind = type(value)
        if kind is str:
            if not _is_date(value):  # dates and times are not words
                out.append(value)
        elif kind is dict:
            if key != "text":  # a Narrative: the resource's own is added once, without tags
                _strings(value, out)
        elif kind is list:
            for item in value:
                if type(item) is dict:
                    _strings(item, out)
                elif type(item) is str and not _is_date(item):
                    out.append(item)


def _is_date(s: str) -> bool:
    """``2024-05``, ``2024-05-02``, ``2024-05-02T09:00:00Z``; not a LOINC code (``8480-6``)."""
    return len(s) >= 7 and s[4] == "-" and s[:4].isdigit() and s[5:7].isdigit()


def content_rows(code: str, resource: dict) -> list[TokenIndex]:
    texts: list[str] = []
    narrative = _narrative(resource)
    if narrative:
        texts.append(narrative)
    _strings(resource, texts)
    row = _row(code, texts)
    return [row] if row else []


SPECIAL = {"_text": narrative_rows, "_content": content_rows}
"""Parameters without an expression that extraction still indexes, by code."""
