"""Typed search values: the right-hand side of ``name=value`` (R4 search, §3.1.1.4–3.1.1.5).

Pure functions, no database. A raw value is first split on unescaped commas (OR), then
each piece is parsed according to the parameter type and modifier into one of the frozen
dataclasses below. Escapes (``\\,`` ``\\|`` ``\\$`` ``\\\\``) are honoured at every level.
Dates become a closed [low, high] range in naive UTC at their written precision; numbers
and quantities keep their implicit precision range ("100" means [99.5, 100.5)).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

import terminology
from server.errors import BadRequest

PREFIXES = frozenset({"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"})
ONE_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class StringValue:
    text: str  # as written; normalised by the SQL layer (``:exact`` needs the original)


@dataclass(frozen=True, slots=True)
class TokenValue:
    code: str | None
    system: str | None = None
    has_system: bool = False  # True for "sys|code", "|code" (system must be absent), "sys|"


@dataclass(frozen=True, slots=True)
class OfTypeValue:  # identifier:of-type=type-system|type-code|value
    system: str
    code: str
    value: str


@dataclass(frozen=True, slots=True)
class CodesValue:
    """A set of codes from the terminology: ``:in``/``:not-in`` a ValueSet, ``:below``/``:above``
    a code (its is-a descendants / ancestors, itself included)."""

    codes: frozenset[tuple[str, str]]  # (system, code)
    systems: frozenset[str]  # whole code systems (every code of LOINC...)
    text: str  # the value as written, for messages


@dataclass(frozen=True, slots=True)
class DateValue:
    prefix: str
    low: datetime  # first instant, naive UTC
    high: datetime  # last instant, inclusive
    text: str


@dataclass(frozen=True, slots=True)
class NumberValue:
    prefix: str
    value: Decimal
    low: Decimal  # implicit precision range: value ± half a unit of the last digit written
    high: Decimal


@dataclass(frozen=True, slots=True)
class QuantityValue:
    number: NumberValue
    system: str | None
    code: str | None  # with no system given: matches the code or the unit as written


@dataclass(frozen=True, slots=True)
class ReferenceValue:
    id: str | None
    type: str | None = None
    version: str | None = None
    url: str | None = None  # absolute or canonical reference, matched as written


@dataclass(frozen=True, slots=True)
class UriValue:
    uri: str


@dataclass(frozen=True, slots=True)
class MissingValue:
    missing: bool


@dataclass(frozen=True, slots=True)
class CompositeValue:
    """``loinc|8480-6$gt100``: one value per component, typed by the component's parameter."""

    parts: tuple[tuple[str, Value], ...]  # (component parameter type, value)


Value = (
    StringValue | TokenValue | OfTypeValue | CodesValue | DateValue | NumberValue | QuantityValue
    | ReferenceValue | UriValue | MissingValue | CompositeValue
)


# --- escapes ------------------------------------------------------------------------------


def split_escaped(raw: str, sep: str, maxsplit: int = -1) -> list[str]:
    """Split on ``sep`` unless backslash-escaped; escapes are kept for a later ``unescape``."""
    parts, cur, i = [], [], 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            cur.append(raw[i : i + 2])
            i += 2
            continue
        if ch == sep and maxsplit != 0:
            parts.append("".join(cur))
            cur = []
            maxsplit -= 1
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def unescape(s: str) -> str:
    return re.sub(r"\\([\\,|$])", r"\1", s)


# --- dates --------------------------------------------------------------------------------

_DATE = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?P<f>\.\d+)?)?(?P<tz>Z|[+\- ]\d{2}:\d{2})?)?)?)?"
)


def parse_date_range(text: str, name: str) -> tuple[datetime, datetime]:
    """The [low, high] instants (naive UTC, high inclusive) covered by a FHIR date/dateTime.

    No time zone means UTC: the index stores naive UTC and the server has no better guess.
    """
    m = _DATE.fullmatch(text)
    if not m:
        raise BadRequest(f"Invalid date '{text}' for parameter '{name}'", expression=name)
    g = {k: (int(v) if v and k not in ("f", "tz") else v) for k, v in m.groupdict().items()}
    try:
        if g["m"] is None:
            low = datetime(g["y"], 1, 1)
            end = _safe(lambda: datetime(g["y"] + 1, 1, 1))
        elif g["d"] is None:
            low = datetime(g["y"], g["m"], 1)
            end = _safe(lambda: datetime(g["y"] + g["m"] // 12, g["m"] % 12 + 1, 1))
        elif g["H"] is None:
            low, step = datetime(g["y"], g["m"], g["d"]), timedelta(days=1)
            end = _safe(lambda: low + step)
        else:
            micro, step = 0, timedelta(minutes=1)
            if g["S"] is not None:
                step = timedelta(seconds=1)
                if g["f"]:
                    digits = g["f"][1:7]  # beyond microseconds the index cannot tell apart
                    micro = int(digits.ljust(6, "0"))
                    step = timedelta(microseconds=10 ** (6 - len(digits)))
            low = datetime(g["y"], g["m"], g["d"], g["H"], g["M"], g["S"] or 0, micro)
            if g["tz"] and g["tz"] != "Z":
                sign = -1 if g["tz"][0] == "-" else 1  # " ": a "+" the query string decoded
                low -= sign * timedelta(hours=int(g["tz"][1:3]), minutes=int(g["tz"][4:6]))
            end = _safe(lambda: low + step)
    except (ValueError, OverflowError) as e:
        raise BadRequest(f"Invalid date '{text}' for parameter '{name}': {e}", expression=name) from None
    return low, (end - ONE_US) if end else datetime.max


def _safe(make):
    try:
        return make()
    except (OverflowError, ValueError):
        return None  # year 9999: the range runs to the end of time


# --- numbers ------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _split_prefix(raw: str) -> tuple[str, str]:
    if len(raw) > 2 and raw[:2] in PREFIXES and not raw[2].isalpha():
        return raw[:2], raw[2:]
    return "eq", raw


def parse_number(raw: str, name: str, prefix: str | None = None) -> NumberValue:
    if prefix is None:
        prefix, raw = _split_prefix(raw)
    if not _NUMBER.fullmatch(raw):
        raise BadRequest(f"Invalid number '{raw}' for parameter '{name}'", expression=name)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BadRequest(f"Invalid number '{raw}' for parameter '{name}'", expression=name) from None
    # "100" is 3 significant figures: half a unit of the last digit written either side.
    half = Decimal(5).scaleb(value.as_tuple().exponent - 1)
    return NumberValue(prefix, value, value - half, value + half)


def parse_date(raw: str, name: str) -> DateValue:
    prefix, text = _split_prefix(raw)
    low, high = parse_date_range(text, name)
    return DateValue(prefix, low, high, text)


def parse_quantity(raw: str, name: str) -> QuantityValue:
    parts = split_escaped(raw, "|", 2)
    number = parse_number(unescape(parts[0]), name)
    if len(parts) == 1:
        return QuantityValue(number, None, None)
    if len(parts) != 3:
        raise BadRequest(f"Invalid quantity '{raw}' for parameter '{name}'", expression=name)
    system, code = (unescape(p) or None for p in parts[1:])
    return QuantityValue(number, system, code)


# --- tokens, references, uris -------------------------------------------------------------


def parse_token(raw: str) -> TokenValue:
    parts = split_escaped(raw, "|", 1)
    if len(parts) == 1:
        return TokenValue(unescape(raw))
    system, code = (unescape(p) or None for p in parts)
    return TokenValue(code, system, True)


def parse_of_type(raw: str, name: str) -> OfTypeValue:
    parts = [unescape(p) for p in split_escaped(raw, "|", 2)]
    if len(parts) != 3 or not all(parts):
        raise BadRequest(
            f"'{name}' needs type-system|type-code|value, got '{raw}'", expression=name
        )
    return OfTypeValue(*parts)


def parse_codes(raw: str, name: str, modifier: str) -> CodesValue:
    """``:in``/``:not-in`` (a ValueSet URL) or ``:below``/``:above`` (``system|code``)."""
    text = unescape(raw)
    try:
        if modifier in ("in", "not-in"):
            found = terminology.expand(text)
            return CodesValue(found.codes, found.systems, text)
        token = parse_token(raw)
        if not token.system or not token.code:
            raise BadRequest(f"':{modifier}' needs system|code, got '{text}' ({name})", expression=name)
        codes = (terminology.subsumed if modifier == "below" else terminology.subsuming)(token.system, token.code)
        return CodesValue(frozenset((token.system, c) for c in codes), frozenset(), text)
    except terminology.NotExpandable as e:
        raise BadRequest(f"{e} ({name})", code="not-supported", expression=name) from None


_LOCAL_REF = re.compile(r"(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/(?P<v>[^/]+))?")


def parse_reference(raw: str, name: str, type_modifier: str | None) -> ReferenceValue:
    text = unescape(raw)
    if "://" in text or text.startswith("urn:"):
        url, _, version = text.partition("|")  # canonical: url|version, indexed apart
        return ReferenceValue(None, version=version or None, url=url)
    m = _LOCAL_REF.fullmatch(text)
    if m:
        if type_modifier and m["type"] != type_modifier:
            raise BadRequest(
                f"Reference '{text}' contradicts the type modifier of '{name}'", expression=name
            )
        return ReferenceValue(m["id"], m["type"], m["v"])
    if "/" in text:
        raise BadRequest(f"Invalid reference '{text}' for parameter '{name}'", expression=name)
    return ReferenceValue(text, type_modifier)


def parse_missing(raw: str, name: str) -> MissingValue:
    if raw not in ("true", "false"):
        raise BadRequest(f"':missing' takes true or false, got '{raw}' ({name})", expression=name)
    return MissingValue(raw == "true")


def parse_value(param_type: str, modifier: str | None, raw: str, name: str) -> Value:
    """One OR-piece of a value, typed by the parameter type and its modifier."""
    if modifier == "missing":
        return parse_missing(raw, name)
    match param_type:
        case "string":
            return StringValue(unescape(raw))
        case "token":
            if modifier == "text":
                return StringValue(unescape(raw))
            if modifier == "of-type":
                return parse_of_type(raw, name)
            if modifier in ("in", "not-in", "below", "above"):
                return parse_codes(raw, name, modifier)
            return parse_token(raw)
        case "date":
            return parse_date(raw, name)
        case "number":
            return parse_number(raw, name)
        case "quantity":
            return parse_quantity(raw, name)
        case "reference":
            if modifier == "identifier":
                return parse_token(raw)
            return parse_reference(raw, name, modifier if modifier and modifier[0].isupper() else None)
        case "uri":
            return UriValue(unescape(raw))
    raise BadRequest(f"Parameter '{name}' of type {param_type} cannot be searched", expression=name)


def parse_composite(component_types: tuple[str, ...], raw: str, name: str) -> CompositeValue:
    """``a$b$c``: split on unescaped ``$``, each part parsed as its component's type."""
    parts = split_escaped(raw, "$")
    if len(parts) != len(component_types):
        raise BadRequest(
            f"'{name}' needs {len(component_types)} values separated by '$', got '{raw}'", expression=name
        )
    return CompositeValue(tuple((t, parse_value(t, None, p, name)) for t, p in zip(component_types, parts)))


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
