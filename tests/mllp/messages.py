"""Synthetic HL7 v2 messages for the channel tests (no real patient data)."""

from __future__ import annotations

import zlib

AUTHORITY = "PASSERELLE-TEST"
GIVEN = ("Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Gaëlle", "Hugo", "Inès", "Jules", "Karim", "Léa")


def demographics(patient: str) -> tuple[str, str, str]:
    """A given name, birth date and sex spread by the patient id: a population, not clones
    (identity matching compares every newcomer with its look-alikes)."""
    h = zlib.crc32(patient.encode())
    birth = f"{1930 + h % 90}{1 + (h >> 8) % 12:02d}{1 + (h >> 12) % 28:02d}"
    return GIVEN[(h >> 16) % len(GIVEN)], birth, "FM"[(h >> 20) % 2]


def adt(control_id: str, patient: str, *, event: str = "A01", family: str = "Martin", given: str | None = None,
        version: str = "2.5", accept: str = "", application: str = "", sender: str = "ADTAPP",
        facility: str = "HOPITAL") -> bytes:
    default_given, birth, sex = demographics(patient)
    msh = (f"MSH|^~\\&|{sender}|{facility}|PASSERELLE|GW|20260101120000||ADT^{event}^ADT_A01|{control_id}|P|{version}"
           + (f"|||{accept}|{application}" if accept or application else ""))
    segments = [
        msh,
        f"EVN|{event}|20260101120000",
        f"PID|1||{patient}^^^{AUTHORITY}^MR||{family}^{given or default_given}||{birth}|{sex}",
        "PV1|1|I|WARD^101^1",
    ]
    return ("\r".join(segments) + "\r").encode()


def oru(control_id: str, patient: str, *, value: str = "7.2") -> bytes:
    segments = [
        f"MSH|^~\\&|LABAPP|LAB|PASSERELLE|GW|20260101120000||ORU^R01^ORU_R01|{control_id}|P|2.5",
        f"PID|1||{patient}^^^{AUTHORITY}^MR||Durand^Bob||{demographics(patient)[1]}|M",
        f"OBR|1||LAB{control_id}|2345-7^Glucose^LN|||20260101110000",
        f"OBX|1|NM|2345-7^Glucose^LN||{value}|mmol/L|3.9-5.5|H|||F",
    ]
    return ("\r".join(segments) + "\r").encode()


def identifier(patient: str) -> str:
    """The search token a mapped PID-3 should carry (any system): ``|value``."""
    return f"|{patient}"
