"""The commands: ingest (batch files, idempotent), inbox list/show/replay, send."""

from __future__ import annotations

from sqlalchemy import select, update

from interfaces.cli.main import main
from server.inbox.models import InboxMessage

from .messages import AUTHORITY, adt, oru

SYSTEM = f"urn:passerelle:v2:authority:{AUTHORITY}"


def batch_file(path, messages: list[bytes]) -> None:
    body = b"".join(messages)
    path.write_bytes(b"FHS|^~\\&|ADTAPP|HOPITAL\rBHS|^~\\&|ADTAPP|HOPITAL\r" + body
                     + f"BTS|{len(messages)}\rFTS|1\r".encode())


def test_ingest_a_batch_file_twice_stores_it_once(server, fhir, tmp_path, capsys):
    url = server.ctx.settings.database_url
    path = tmp_path / "feed.hl7"
    batch_file(path, [adt("F-1", "PF-1", family="Fichier"), oru("F-2", "PF-1"), adt("F-3", "PF-3", event="A99")])
    assert main(["ingest", "--quiet", "--database-url", url, str(path)]) == 1  # one dead letter
    err = capsys.readouterr().err
    assert "3 messages: 3 new, 0 already received, 0 rejected" in err and "2 done, 1 dead letters" in err
    assert main(["ingest", "--quiet", "--database-url", url, str(path)]) == 0
    assert "3 messages: 0 new, 3 already received" in capsys.readouterr().err
    assert fhir.get("/Patient", params={"identifier": SYSTEM + "|PF-1"}).json()["total"] == 1
    assert fhir.get("/Observation", params={"_summary": "count"}).json()["total"] == 1

    assert main(["inbox", "--database-url", url, "list", "--state", "dead"]) == 0
    listing = capsys.readouterr().out
    assert "dead: 1" in listing and "ADT^A99" in listing and "ADTAPP^HOPITAL #F-3" in listing

    [dead_id] = [r for r in _ids(server, "dead")]
    assert main(["inbox", "--database-url", url, "show", str(dead_id)]) == 0
    shown = capsys.readouterr().out
    assert "state: dead" in shown and "MSH[1]-9.2" in shown and "PID|1||PF-3" in shown

    # Replay after the cause is fixed (here: the message is made mappable in place).
    with server.ctx.store.write() as uow:
        uow.conn.execute(update(InboxMessage).where(InboxMessage.id == dead_id)
                         .values(raw=adt("F-3", "PF-3", event="A04")))
    assert main(["inbox", "--database-url", url, "replay", str(dead_id)]) == 0
    assert "1 replayed: 1 done, 0 dead" in capsys.readouterr().out
    assert main(["inbox", "--database-url", url, "replay", str(dead_id)]) == 0  # idempotent
    assert f"not dead letters, left as they are: {dead_id}" in capsys.readouterr().out
    assert fhir.get("/Patient", params={"identifier": SYSTEM + "|", "_summary": "count"}).json()["total"] == 2


def test_ingest_names_the_line_of_a_broken_batch(server, tmp_path, capsys):
    path = tmp_path / "broken.hl7"
    path.write_bytes(b"BHS|^~\\&|A\r" + adt("B-1", "PB-1") + b"BTS|5\r")
    assert main(["ingest", "--quiet", "--database-url", server.ctx.settings.database_url, str(path)]) == 2
    err = capsys.readouterr().err
    assert "broken.hl7: not ingested" in err and "line 6" in err and "BTS-1 announces 5" in err
    assert _ids(server, None) == []


def test_send_prints_each_ack(channel, tmp_path, capsys):
    path = tmp_path / "two.hl7"
    path.write_bytes(adt("S-1", "PS-1") + adt("S-2", "PS-2", version="2.3", accept="AL", application="NE")
                     + b"MSH|^~\\&|X|Y|Z|W|2026||ADT^A01|S-3|P|\r")
    assert main(["send", "--port", str(channel.port), str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}#1: AA" in out and f"{path}#2: CA" in out and f"{path}#3: AR" in out
    assert "MSA|AR|S-3" in out


def _ids(server, state):
    with server.ctx.store.read() as uow:
        query = select(InboxMessage.id).order_by(InboxMessage.id)
        if state:
            query = query.where(InboxMessage.state == state)
        return list(uow.conn.execute(query).scalars())


def test_mllp_refuses_an_inbox_batch_below_one(server, capsys):
    assert main(["mllp", "--database-url", server.ctx.settings.database_url, "--inbox-batch", "0"]) == 2
    assert "--inbox-batch must be 1 or more, not 0" in capsys.readouterr().err
