"""Kill the listener (SIGKILL, a real subprocess) while several connections send 2,000
messages; senders resend what was not acknowledged, as MLLP peers do. Afterwards every
message is stored exactly once: one inbox row each, all done, one Patient each, no
resource written twice."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from interfaces.mllp.client import Connection
from mappers.hl7v2 import parse
from server.inbox.models import InboxMessage

from .messages import AUTHORITY, adt

ROOT = Path(__file__).resolve().parents[2]
TOTAL, CONNECTIONS = 2000, 4
KILL_AT = (500, 1300)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_listener(url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "PASSERELLE_INBOX_LEASE_SECONDS": "2", "PASSERELLE_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [sys.executable, "-m", "interfaces.cli.main", "mllp", "--database-url", url, "--mllp-port", str(port),
         "--inbox-workers", "2"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()  # printed once it listens
    assert "MLLP on" in line, line
    return process


def sender(port: int, messages: list[bytes], acked: dict, lock: threading.Lock) -> None:
    async def go():
        connection = None
        for message in messages:
            while True:
                try:
                    connection = connection or await Connection.open("127.0.0.1", port)
                    reply = await connection.send(message, timeout=15)
                    break
                except (OSError, ConnectionError, TimeoutError):
                    connection = None  # the listener died: reconnect and resend (not yet acked)
                    await asyncio.sleep(0.1)
            ack = parse(reply.acks[0]).segment("MSA")
            with lock:
                acked[ack.get(2)] = ack.get(1)
        await connection.close()

    asyncio.run(go())


def wait_drained(server, stall_seconds: float = 90) -> dict:
    """Wait until every message is settled; fail only when nothing moves for a while
    (mapping speed depends on the machine's load, not on what is tested here)."""
    settled, moved = -1, time.monotonic()
    while True:
        with server.ctx.store.read() as uow:
            states = dict(uow.conn.execute(select(InboxMessage.state, func.count()).group_by(InboxMessage.state)).all())
        now_settled = states.get("done", 0) + states.get("dead", 0)
        if now_settled == TOTAL or time.monotonic() - moved > stall_seconds:
            return states
        if now_settled != settled:
            settled, moved = now_settled, time.monotonic()
        time.sleep(0.5)


def test_every_acknowledged_message_is_stored_exactly_once_across_kills(server):
    url = server.ctx.settings.database_url
    port = free_port()
    messages = [adt(f"R-{i}", f"RP-{i}", family=f"Fam{i}") for i in range(TOTAL)]
    acked: dict[str, str] = {}
    lock = threading.Lock()
    listener = start_listener(url, port)
    threads = [threading.Thread(target=sender, args=(port, messages[i::CONNECTIONS], acked, lock))
               for i in range(CONNECTIONS)]
    try:
        for t in threads:
            t.start()
        for threshold in KILL_AT:
            while len(acked) < threshold:
                assert any(t.is_alive() for t in threads)
                time.sleep(0.01)
            listener.send_signal(signal.SIGKILL)
            listener.wait()
            listener = start_listener(url, port)
        for t in threads:
            t.join(300)
        assert len(acked) == TOTAL and set(acked.values()) == {"AA"}
        states = wait_drained(server)
    finally:
        listener.send_signal(signal.SIGTERM)
        listener.wait(30)
    assert states == {"done": TOTAL}, states
    with server.ctx.store.read() as uow:
        control_ids = uow.conn.execute(select(InboxMessage.control_id)).scalars().all()
    assert sorted(control_ids) == sorted(acked)
    # Stored once: one Encounter per message (created unconditionally: a second run would
    # add another), and each message's own Patient never rewritten (version 1).
    with server.client() as fhir:
        assert fhir.get("/Encounter", params={"_summary": "count"}).json()["total"] == TOTAL
        versions, url = [], "/Patient"
        params = {"identifier": f"urn:passerelle:v2:authority:{AUTHORITY}|", "_count": 1000, "_elements": "id"}
        while url:
            page = fhir.get(url, params=params).json()
            versions += [e["resource"]["meta"]["versionId"] for e in page.get("entry", [])]
            url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
            params = None
        assert len(versions) == TOTAL and set(versions) == {"1"}
