"""Intake: judge a received message, store it durably, and say what to answer.

``examine`` is pure (the clock aside): it reads the header with the v2 parser, builds
the inbox row and the ack due on receipt. ``store`` commits a batch of them in ONE
transaction (group commit across connections) and turns repeats into their original
acks. Nothing is acknowledged by the channels before ``store`` has returned.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from mappers.hl7v2 import parse
from mappers.hl7v2.errors import INTERNAL_ERROR, SEGMENT_SEQUENCE, ParseError

from . import ack
from .models import RECEIVED, REJECTED, InboxMessage

T = InboxMessage.__table__
# When original mode (MSH-15/16 empty) answers: once stored, or once mapped (mllp_original_ack).
COMMIT, APPLICATION = "commit", "application"
# Ack codes: (original mode, enhanced commit ack) for accepted, error, rejected.
ACCEPT, ERROR, REJECT = ("AA", "CA"), ("AE", "CE"), ("AR", "CR")


@dataclass
class Pending:
    """A message judged but not yet stored: its row, and its ack on receipt (None: none due)."""

    row: dict
    ack: bytes | None
    envelope: ack.Envelope
    wants_app_ack: bool  # enhanced mode, MSH-16 may ask for an application ack after processing


@dataclass
class Verdict:
    """What the channel answers once the batch is committed."""

    inbox_id: int | None
    state: str
    acks: list[bytes] = field(default_factory=list)  # in the order to send them
    duplicate: bool = False
    wants_app_ack: bool = False  # the application ack will follow processing


def examine(raw: bytes, *, channel: str, source: str | None, now: datetime, scope: str | None = None,
            problem: ParseError | None = None, original_ack: str = COMMIT) -> Pending:
    """Judge one message. ``scope`` replaces the sender in the idempotency key (files:
    ``file|<sha256>``); ``problem`` is a framing fault found before parsing (truncated);
    ``original_ack`` APPLICATION: original-mode messages are acknowledged after mapping."""
    error = problem
    message = None
    if error is None:
        try:
            message = parse(raw)
        except ParseError as exc:
            error = exc
    if message is None:
        env = ack.Envelope.salvage(raw)
        return _refused(raw, env, error, channel=channel, source=source, now=now)
    env = ack.Envelope.of(message)
    h = message.header
    sender = f"{h.sending_application}^{h.sending_facility}"
    key = f"{scope or sender}|{h.control_id}"
    row = dict(dedup_key=key[:512], channel=channel, source=(source or "")[:255] or None, received=now,
               sender=sender[:255], control_id=h.control_id[:199], message_type=message.type[:64],
               patient_key=(message.patient_key() or "")[:255] or None, state=RECEIVED, attempts=0, raw=raw)
    row = _printable(row)
    code = ACCEPT[1] if env.enhanced else ACCEPT[0]
    due = ack.wants(env.accept_ack_type, True) if env.enhanced else original_ack == COMMIT
    receipt = ack.build(code, env, control_id=new_control_id(), now=now) if due else None
    row["commit_ack"] = receipt
    wants_app = env.application_ack_type != ack.NEVER if env.enhanced else original_ack == APPLICATION
    return Pending(row, receipt, env, wants_app)


def _refused(raw: bytes, env: ack.Envelope, error: ParseError, *, channel, source, now) -> Pending:
    # A fault in the envelope (MSH) means the message cannot be handled at all: reject.
    # Elsewhere (a truncated body) it is an error in the content.
    codes = REJECT if error.segment == "MSH" or error.code.startswith("2") else ERROR
    code = codes[1] if env.enhanced else codes[0]
    due = ack.wants(env.accept_ack_type, False) if env.enhanced else True
    receipt = ack.build(code, env, control_id=new_control_id(), now=now, error=error) if due else None
    row = dict(dedup_key=None, channel=channel, source=(source or "")[:255] or None, received=now,
               sender=f"{env.sending_application}^{env.sending_facility}"[:255],
               control_id=env.control_id[:199] or None, message_type=None, patient_key=None,
               state=REJECTED, attempts=0, raw=raw, error=str(error)[:4000], commit_ack=receipt)
    return Pending(_printable(row), receipt, env, False)


_CONTROL = dict.fromkeys(range(32), "?")


def _printable(row: dict) -> dict:
    """Text columns without control characters (PostgreSQL refuses NUL in text; the raw
    bytes keep everything as received)."""
    return {k: v.translate(_CONTROL) if isinstance(v, str) else v for k, v in row.items()}


def truncated(raw: bytes) -> ParseError:
    return ParseError("the frame was cut off: a new frame began before its end block (0x1C 0x0D)",
                      "MSH", 1, None, SEGMENT_SEQUENCE)


def oversize(limit: int) -> ParseError:
    return ParseError(f"the message exceeds the {limit}-byte limit of this channel", "MSH", 1, None,
                      INTERNAL_ERROR)


def new_control_id() -> str:
    return uuid.uuid4().hex[:20]  # MSH-10 is at most 20 characters before v2.7


def store(conn: Connection, batch: list[Pending]) -> list[Verdict]:
    """Insert a batch in the caller's transaction; a key already present (or twice in the
    batch) is a duplicate, answered with the acks the original got."""
    keyed = [p for p in batch if p.row["dedup_key"] is not None]
    inserted: dict[str, int] = {}
    if keyed:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        # executemany with RETURNING: SQLAlchemy batches the rows into multi-row INSERTs
        # ("insertmanyvalues") from one cached statement.
        statement = (dialect.insert(T).on_conflict_do_nothing(index_elements=["dedup_key"])
                     .returning(T.c.id, T.c.dedup_key))
        inserted = {r.dedup_key: r.id for r in conn.execute(statement, [p.row for p in keyed])}
    others = [p for p in batch if p.row["dedup_key"] is None]
    rejected_ids = []
    if others:
        statement = T.insert().returning(T.c.id, sort_by_parameter_order=True)
        rejected_ids = list(conn.execute(statement, [p.row for p in others]).scalars())
    repeats = {p.row["dedup_key"] for p in keyed} - set(inserted)
    originals = {}
    if repeats:
        originals = {r.dedup_key: r for r in conn.execute(
            select(T.c.id, T.c.dedup_key, T.c.state, T.c.commit_ack, T.c.app_ack).where(T.c.dedup_key.in_(repeats)))}
    verdicts, first = [], set()
    rejected = iter(rejected_ids)
    for p in batch:
        key = p.row["dedup_key"]
        if key is None:
            verdicts.append(Verdict(next(rejected), REJECTED, [p.ack] if p.ack else []))
        elif key in inserted and key not in first:
            first.add(key)
            verdicts.append(Verdict(inserted[key], RECEIVED, [p.ack] if p.ack else [], False, p.wants_app_ack))
        elif key in inserted:  # twice in the same batch: the first one is the original
            verdicts.append(Verdict(inserted[key], RECEIVED, [p.ack] if p.ack else [], True))
        else:
            o = originals[key]
            verdicts.append(Verdict(o.id, o.state, [a for a in (o.commit_ack, o.app_ack) if a], True))
    return verdicts
