"""Token parameters -> TokenIndex (http://hl7.org/fhir/R4/search.html#token).

- code, string, id, uri... -> code only; a ``code`` element whose required binding
  has one code system (Patient.gender) -> that system too (``bound_rows``, see
  ``bound.py``);
- boolean -> code "true" / "false";
- Coding -> system, code, text = display;
- CodeableConcept -> one row per coding, plus a code-less row carrying ``text``;
- Identifier -> system, value, text = type.text; and, for ``:of-type``, one row per
  typed coding: param ``<code>:of-type``, system = the type's system, code =
  ``<type code>|<value>`` (the convention ``server.search.sql.token`` queries);
- ContactPoint -> system (phone, email...), value (as HAPI FHIR does).

``text`` (for ``:text``) is kept as written, cut to 200 characters.
"""

from __future__ import annotations

from collections.abc import Callable

from server.search.extract.model import infer_type
from server.search.index_rows import OF_TYPE_SUFFIX, TokenIndex
from server.search.normalize import MAX_STRING_LENGTH


def _text(text) -> str | None:
    return text[:MAX_STRING_LENGTH] if isinstance(text, str) and text else None


def _coding(code: str, coding) -> TokenIndex | None:
    if not isinstance(coding, dict):
        return None
    system, value, display = coding.get("system"), coding.get("code"), coding.get("display")
    if system is None and value is None and display is None:
        return None
    return TokenIndex(code, system, value, _text(display))


def rows(code: str, ftype: str | None, value) -> list[TokenIndex]:
    if isinstance(value, bool):
        return [TokenIndex(code, None, "true" if value else "false")]
    if isinstance(value, str):
        return [TokenIndex(code, None, value)] if value else []
    if not isinstance(value, dict):
        return []
    kind = ftype if ftype in _DICT_TYPES else infer_type(value)
    if kind == "Coding":
        row = _coding(code, value)
        return [row] if row else []
    if kind == "CodeableConcept":
        out = [row for c in value.get("coding") or () if (row := _coding(code, c))]
        if text := _text(value.get("text")):
            out.append(TokenIndex(code, None, None, text))
        return out
    if kind == "Identifier":
        return _identifier(code, value)
    if kind == "ContactPoint":
        return [TokenIndex(code, value.get("system"), value["value"])] if value.get("value") else []
    return []


def bound_rows(system: str) -> Callable[[str, str | None, object], list[TokenIndex]]:
    """``rows`` for an expression whose ``code`` elements are bound to ``system``."""

    def convert(code: str, ftype: str | None, value) -> list[TokenIndex]:
        if ftype == "code" and isinstance(value, str):
            return [TokenIndex(code, system, value)] if value else []
        return rows(code, ftype, value)

    return convert


def _identifier(code: str, value: dict) -> list[TokenIndex]:
    system, ident = value.get("system"), value.get("value")
    if system is None and ident is None:
        return []
    id_type = value.get("type") if isinstance(value.get("type"), dict) else {}
    out = [TokenIndex(code, system, ident, _text(id_type.get("text")))]
    if isinstance(ident, str):
        for coding in id_type.get("coding") or ():
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                out.append(TokenIndex(code + OF_TYPE_SUFFIX, coding.get("system"), f"{coding['code']}|{ident}"))
    return out


_DICT_TYPES = frozenset({"Coding", "CodeableConcept", "Identifier", "ContactPoint"})
