"""Acks over a real MLLP socket: both modes, broken input with a precise ERR, duplicates.

Every ack is sent only after the message is in the inbox table (checked by reading it).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from interfaces.mllp.client import Connection
from interfaces.mllp.framing import END, START
from mappers.hl7v2 import parse
from server.inbox.models import InboxMessage

from .messages import adt


def rows(server):
    with server.ctx.store.read() as uow:
        return uow.conn.execute(select(InboxMessage.__table__).order_by(InboxMessage.id)).all()


def msa(ack: bytes) -> tuple[str, str]:
    segment = parse(ack).segment("MSA")
    return segment.get(1), segment.get(2)


def err(ack: bytes):
    return parse(ack).segment("ERR")


def test_original_mode_answers_aa_echoing_msh10_after_the_commit(channel, server):
    [reply] = channel.send(adt("CTRL-1", "P1"))
    assert [msa(a) for a in reply.acks] == [("AA", "CTRL-1")]
    header = parse(reply.acks[0]).header
    assert (header.message_code, header.trigger_event, header.structure) == ("ACK", "A01", "ACK")
    assert (header.sending_application, header.receiving_application) == ("PASSERELLE", "ADTAPP")
    assert header.version == "2.5" and header.control_id != "CTRL-1"
    [row] = rows(server)
    assert row.control_id == "CTRL-1" and row.sender == "ADTAPP^HOPITAL" and row.message_type == "ADT^A01"
    assert row.raw == adt("CTRL-1", "P1") and row.commit_ack == reply.acks[0]


def test_enhanced_mode_commit_ack_then_application_ack(channel, server):
    [reply] = channel.send(adt("ENH-1", "P2", accept="AL", application="AL"))
    assert [msa(a) for a in reply.acks] == [("CA", "ENH-1"), ("AA", "ENH-1")]
    [row] = rows(server)
    assert row.state == "done" and row.app_ack == reply.acks[1]


def test_enhanced_mode_follows_msh15_and_msh16(channel):
    # NE: no commit ack, only the application ack; ER: errors only, so a success sends no app ack.
    [only_app] = channel.send(adt("ENH-2", "P3", accept="NE", application="AL"))
    assert [msa(a)[0] for a in only_app.acks] == ["AA"]
    [only_commit] = channel.send(adt("ENH-3", "P4", accept="AL", application="ER"))
    assert [msa(a)[0] for a in only_commit.acks] == ["CA"]


def test_bad_separators_are_rejected_with_err_on_msh2(channel, server):
    bad = b"MSH|^~|ADTAPP|HOPITAL|PASSERELLE|GW|20260101||ADT^A01|BAD-1|P|2.5\rPID|1||X^^^A\r"
    [reply] = channel.send(bad)
    [ack] = reply.acks
    assert msa(ack) == ("AR", "BAD-1")
    e = err(ack)
    assert (e.get(2, 1), e.get(2, 2), e.get(2, 3)) == ("MSH", "1", "2")
    assert (e.get(3, 1), e.get(3, 3), e.get(4)) == ("102", "HL70357", "E")
    [row] = rows(server)
    assert row.state == "rejected" and row.dedup_key is None and "MSH[1]-2" in row.error


def test_missing_version_is_rejected_with_required_field_missing(channel):
    no_version = b"MSH|^~\\&|ADTAPP|HOPITAL|PASSERELLE|GW|20260101||ADT^A01|NOVER-1|P|\rPID|1||X^^^A\r"
    [reply] = channel.send(no_version)
    assert msa(reply.acks[0]) == ("AR", "NOVER-1")
    e = err(reply.acks[0])
    assert (e.get(2, 1), e.get(2, 3), e.get(3, 1)) == ("MSH", "12", "101")
    assert "MSH-12" in e.get(8)


def test_old_versions_get_err1(channel):
    bad = b"MSH|^~\\&|ADTAPP|HOPITAL|PASSERELLE|GW|20260101||ADT^A01|OLD-1|P|2.3\rPID|1||X^^^A\r\x00\x01|x\r"
    [reply] = channel.send(bad)
    ack = reply.acks[0]
    assert msa(ack)[0] == "AE" and parse(ack).header.version == "2.3"
    e = err(ack)
    assert e.get(1, 1) and e.get(1, 4) == "100" and not e.raw(3)


def test_the_ack_keeps_the_character_set_of_the_message(channel):
    latin = ("MSH|^~\\&|ADTAPP|HOPITAL|PASSERELLE|GW|20260101||ADT^A01|LAT-1|P|2.5||||||8859/1\r"
             "PID|1||PL^^^A||Hélène^Zoé\rZé1|x\r").encode("latin-1")
    [reply] = channel.send(latin)
    ack = reply.acks[0]
    assert msa(ack) == ("AE", "LAT-1") and parse(ack).header.charset == "8859/1"
    assert "Zé1" in ack.decode("latin-1") and "Zé1" in err(ack).get(8)


def test_truncated_frame_and_oversize_are_answered(channel, server, channel_settings):
    message = adt("TRUNC-1", "P5")

    async def go():
        connection = await Connection.open("127.0.0.1", channel.port)
        connection.writer.write(START + message[:message.index(b"\rPID") + 8] + START + adt("AFTER-1", "P6") + END)
        acks = [await connection._next(10), await connection._next(10)]
        huge = adt("HUGE-1", "P7") + b"OBX|1|TX|||" + b"x" * channel_settings.mllp_max_message_bytes + b"\r"
        acks.append((await connection.send(huge)).acks[0])
        await connection.close()
        return acks

    cut, after, huge = asyncio.run(go())
    assert msa(cut) == ("AR", "TRUNC-1") and err(cut).get(3, 1) == "100"
    assert msa(after) == ("AA", "AFTER-1")
    assert msa(huge) == ("AR", "HUGE-1") and "limit" in err(huge).get(8)
    states = {r.control_id: (r.state, len(r.raw)) for r in rows(server)}
    assert states["TRUNC-1"][0] == "rejected" and states["AFTER-1"][0] in ("received", "processing", "done")
    assert states["HUGE-1"][0] == "rejected" and states["HUGE-1"][1] <= 4096  # only its head is kept


def test_a_repeat_gets_the_original_ack_and_is_stored_once(channel, server):
    message = adt("DUP-1", "P8")
    first, again = channel.send(message, message)
    [third] = channel.send(message)  # another connection
    assert first.acks == again.acks == third.acks
    assert [r.control_id for r in rows(server)] == ["DUP-1"]
    other_sender = adt("DUP-1", "P8", sender="OTHERAPP")
    [fourth] = channel.send(other_sender)
    assert fourth.acks != first.acks and len(rows(server)) == 2
