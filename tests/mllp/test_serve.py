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
        identifier = f"urn:passerelle:v2:authority:{AUTHORITY}|PSV-1"
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=f"http://127.0.0.1:{http_port}/fhir", timeout=30) as api:
            while True:
                found = api.get("/Patient", params={"identifier": identifier}).json()
                if found.get("entry") or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        assert found["entry"][0]["resource"]["name"][0]["family"] == "Servi"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
