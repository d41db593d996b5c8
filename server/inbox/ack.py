"""Acknowledgements (HL7 v2 chapter 2.9, ACK^xxx^ACK): MSA echoes MSH-10, ERR says why.

Original mode: AA / AE / AR. Enhanced mode: CA / CE / CR commit acks, then an
application ack (AA / AE / AR) when MSH-16 asks for one. The ack is written in the
separators and the character set of the message it answers. ERR follows the version:
ERR-2 (location) + ERR-3 (HL7 table 0357) + ERR-4 (severity) from v2.5 on, ERR-1 before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from mappers.hl7v2.errors import ParseError
from mappers.hl7v2.escape import escape
from mappers.hl7v2.message import Encoding
from mappers.hl7v2.parser import decode

_VERSION = re.compile(r"2\.(\d)")
# HL7 table 0155 (accept/application acknowledgment conditions).
ALWAYS, NEVER, ERROR_ONLY, SUCCESS_ONLY = "AL", "NE", "ER", "SU"


@dataclass(frozen=True)
class Envelope:
    """What an ack echoes of the message it answers (best effort for unreadable ones)."""

    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    trigger_event: str = ""
    control_id: str = ""
    processing_id: str = "P"
    version: str = "2.5"
    accept_ack_type: str = ""
    application_ack_type: str = ""
    encoding: Encoding = Encoding()
    codec: str = "utf-8"
    charset: str = ""  # MSH-18 as received, echoed so the peer decodes the ack alike

    @classmethod
    def of(cls, message) -> Envelope:
        """From a parsed ``mappers.hl7v2.Message``."""
        h = message.header
        return cls(h.sending_application, h.sending_facility, h.receiving_application, h.receiving_facility,
                   h.trigger_event, h.control_id, h.processing_id or "P", h.version, h.accept_ack_type,
                   h.application_ack_type, message.encoding, message.charset or "utf-8", h.charset)

    @classmethod
    def salvage(cls, raw: bytes) -> Envelope:
        """For a message the parser refused: echo whatever the MSH line shows, so the
        sender can still match the reject to what it sent (MSA-2 = MSH-10 when present)."""
        text, codec = decode(raw.lstrip(b"\x0b\r\n"))
        line = re.split(r"[\r\n]", text, maxsplit=1)[0]
        if not line.startswith("MSH") or len(line) < 4 or line[3].isalnum():
            return cls()
        fields = line.split(line[3])
        get = lambda n: fields[n - 1] if len(fields) >= n else ""  # noqa: E731  (MSH-n is fields[n-1])
        component = line[4] if len(line) > 4 else "^"
        event = get(9).split(component)
        version = get(12).split(component)[0]
        return cls(get(3), get(4), get(5), get(6), event[1] if len(event) > 1 else "", get(10)[:199],
                   get(11).split(component)[0] or "P", version if _VERSION.match(version) else "2.5",
                   get(15), get(16), codec=codec, charset=get(18).split("~")[0])

    @property
    def enhanced(self) -> bool:
        return bool(self.accept_ack_type or self.application_ack_type)


def wants(condition: str, success: bool) -> bool:
    """Whether an ack is due under an MSH-15/16 condition (empty: always, as AL)."""
    condition = condition or ALWAYS
    return condition == ALWAYS or (condition == ERROR_ONLY and not success) or (
        condition == SUCCESS_ONLY and success)


def build(code: str, env: Envelope, *, control_id: str, now: datetime, error: ParseError | None = None) -> bytes:
    """The ack message, CR-ended segments, encoded in the message's character set."""
    enc = env.encoding
    fs, cs = enc.field, enc.component
    minor = int(_VERSION.match(env.version).group(1)) if _VERSION.match(env.version) else 5
    msg_type = f"ACK{cs}{env.trigger_event}{cs}ACK" if minor >= 4 else (
        f"ACK{cs}{env.trigger_event}" if env.trigger_event else "ACK")
    encoding_chars = enc.component + enc.repetition + enc.escape + enc.subcomponent
    msh = fs.join(["MSH", encoding_chars, env.receiving_application, env.receiving_facility,
                   env.sending_application, env.sending_facility, now.strftime("%Y%m%d%H%M%S"), "",
                   msg_type, control_id, env.processing_id, env.version]
                  + (["", "", "", "", "", env.charset] if env.charset else []))
    msa = ["MSA", code, escape(env.control_id, enc)]
    segments = [msh]
    if error is not None:
        text = escape(error.text, enc)
        # ERL: segment ^ sequence ^ field ^ field repetition ^ component
        component = [] if error.component is None else ["1", str(error.component)]
        location = cs.join([escape(error.segment, enc), str(error.sequence), str(error.field or ""),
                            *component]).rstrip(cs)
        if minor >= 5:
            severity = "E"
            segments += [fs.join(msa), fs.join(["ERR", "", location,
                                                 cs.join([error.code, _CODE_TEXT.get(error.code, ""), "HL70357"]),
                                                 severity, "", "", "", text])]
        else:
            ss = enc.subcomponent
            msa.append(text)
            segments += [fs.join(msa), fs.join(["ERR", cs.join([escape(error.segment, enc), str(error.sequence),
                                                               str(error.field or ""),
                                                               ss.join([error.code, _CODE_TEXT.get(error.code, ""),
                                                                        "HL70357"])])])]
    else:
        segments.append(fs.join(msa))
    return ("\r".join(segments) + "\r").encode(env.codec, errors="replace")


# HL7 table 0357 display texts.
_CODE_TEXT = {
    "0": "Message accepted", "100": "Segment sequence error", "101": "Required field missing",
    "102": "Data type error", "103": "Table value not found", "200": "Unsupported message type",
    "201": "Unsupported event code", "202": "Unsupported processing id", "203": "Unsupported version id",
    "204": "Unknown key identifier", "205": "Duplicate key identifier", "206": "Application record locked",
    "207": "Application internal error",
}
