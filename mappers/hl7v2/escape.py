"""HL7 v2 escape sequences (v2.5 chapter 2.7): ``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\ \\Xhh\\ \\.br\\``.

Formatting (``\\H\\ \\N\\ \\.sp\\ ...``) and character-set switches (``\\C..\\ \\M..\\``) carry
no text of their own: they are dropped, except ``.br``/``.sp`` which become line breaks.
An unknown or unterminated sequence is kept as written (tolerant: real feeds send stray
backslashes).
"""

from __future__ import annotations


def unescape(text: str, enc, charset: str = "utf-8") -> str:
    esc = enc.escape
    if esc not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = text.find(esc, i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        k = text.find(esc, j + 1)
        if k < 0:  # unterminated: keep the rest as written
            out.append(text[j:])
            break
        out.append(_sequence(text[j + 1:k], enc, charset, text[j:k + 1]))
        i = k + 1
    return "".join(out)


def _sequence(body: str, enc, charset: str, written: str) -> str:
    simple = {"F": enc.field, "S": enc.component, "T": enc.subcomponent, "R": enc.repetition,
              "E": enc.escape}
    if body in simple:
        return simple[body]
    if body in (".br", ".sp") or body.startswith(".sp"):
        return "\n"
    if body in ("H", "N") or body.startswith((".", "C", "M", "Z")):
        return ""
    if body[:1] == "X" and len(body) > 1 and len(body) % 2 == 1:
        try:
            data = bytes.fromhex(body[1:])
        except ValueError:
            return written
        try:
            return data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            return data.decode("latin-1")
    return written


def escape(text: str, enc) -> str:
    """The inverse, for values written back into v2 (acks echo what they received)."""
    e = enc.escape
    return (text.replace(e, f"{e}E{e}").replace(enc.field, f"{e}F{e}").replace(enc.component, f"{e}S{e}")
            .replace(enc.subcomponent, f"{e}T{e}").replace(enc.repetition, f"{e}R{e}")
            .replace("\r", f"{e}.br{e}").replace("\n", f"{e}.br{e}"))
