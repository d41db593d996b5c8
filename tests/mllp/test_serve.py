"""``passerelle serve`` runs the API and the MLLP listener in one process: a message sent
over MLLP is read back over HTTP from that same process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx

from interfaces.mllp.client import Connection
from mappers.hl7v2 import parse

from .messages import AUTHORITY, adt
from .test_restart import ROOT, free_port


def test_serve_runs_api_and_mllp_together(server):
    http_port, mllp_port = free_port(), free_port()
    env = {**os.environ, "PASSERELLE_AUTH": "disabled"}
    process = subprocess.Popen(
        [sys.executable, "-m", "interfaces.cli.main", "serve", "--database-url", server.ctx.settings.database_url,
         "--port", str(http_port), "--mllp-port", str(mllp_port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines = [process.stdout.readline(), process.stdout.readline()]
        assert f"MLLP on 127.0.0.1:{mllp_port}" in lines[1], lines
        async def send():
            for _ in range(600):  # the API and the listener start together; wait for the socket
                try:
                    connection = await Connection.open("127.0.0.1", mllp_port)
                    break
                except OSError:
                    await asyncio.sleep(0.1)
            reply = await connection.send(adt("SERVE-1", "PSV-1", family="Servi"))
            await connection.close()
            return reply

        reply = asyncio.run(send())
        assert parse(reply.acks[0]).segment("MSA").get(1) == "AA"
        with httpx.Client(base_url=f"http://127.0.0.1:{http_port}/fhir", timeout=30) as api:
            _wait_for_api(api)
            found = _wait_for_patient(api, "PSV-1")
        assert found["entry"][0]["resource"]["name"][0]["family"] == "Servi"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0


def _children(pid: int) -> set[int]:
    """Direct children of a process (Linux /proc)."""
    found = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.update(int(c) for c in f.read().split())
        except FileNotFoundError:  # a thread that ended since the listing
            continue
    return found


def _channel_pid(pid: int, not_this: int | None = None, timeout: float = 60) -> int:
    """The ``passerelle mllp`` child of ``serve`` (another one than ``not_this``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in _children(pid):
            try:
                with open(f"/proc/{child}/cmdline", "rb") as f:
                    command = f.read().split(b"\0")
            except FileNotFoundError:
                continue
            if b"mllp" in command and child != not_this:
                return child
        time.sleep(0.1)
    raise AssertionError("no channel process")


async def _send_when_up(port: int, message: bytes, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = await Connection.open("127.0.0.1", port)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)
    try:
        return await connection.send(message, timeout=30)
    finally:
        await connection.close()


def _wait_for_patient(api: httpx.Client, value: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = api.get("/Patient", params={"identifier": f"urn:passerelle:v2:authority:{AUTHORITY}|{value}"}).json()
        if found.get("entry") or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _wait_for_api(api: httpx.Client, timeout: float = 60) -> None:
    """The API workers start beside the channel, not necessarily before it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            api.get("/metadata")
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_serve_with_several_workers_runs_one_channel_process_and_restarts_it(server):
    http_port, mllp_port = free_port(), free_port()
    env = {**os.environ, "PASSERELLE_AUTH": "disabled", "PASSERELLE_INBOX_LEASE_SECONDS": "2"}
    process = subprocess.Popen(
        [sys.executable, "-m", "interfaces.cli.main", "serve", "--workers", "2", "--database-url",
         server.ctx.settings.database_url, "--port", str(http_port), "--mllp-port", str(mllp_port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        channel = _channel_pid(process.pid)
        reply = asyncio.run(_send_when_up(mllp_port, adt("SERVE-W1", "PSW-1", family="Premier")))
        assert parse(reply.acks[0]).segment("MSA").get(1) == "AA"
        with httpx.Client(base_url=f"http://127.0.0.1:{http_port}/fhir", timeout=30) as api:
            _wait_for_api(api)
            found = _wait_for_patient(api, "PSW-1")
            assert found["entry"][0]["resource"]["name"][0]["family"] == "Premier"

            os.kill(channel, signal.SIGKILL)  # the channel dies: serve starts another one
            again = _channel_pid(process.pid, not_this=channel)
            reply = asyncio.run(_send_when_up(mllp_port, adt("SERVE-W2", "PSW-2", family="Second")))
            assert parse(reply.acks[0]).segment("MSA").get(1) == "AA"
            assert _wait_for_patient(api, "PSW-2")["entry"][0]["resource"]["name"][0]["family"] == "Second"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
    assert not os.path.exists(f"/proc/{again}") or open(f"/proc/{again}/stat").read().split()[2] == "Z"
    assert not _listening(mllp_port) and not _listening(http_port)  # nothing left behind
