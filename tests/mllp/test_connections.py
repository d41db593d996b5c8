"""Connections: many at once, idle timeout, connection limit, TLS (with client certificates)."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from dataclasses import replace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select

from interfaces.mllp.client import Connection
from server.inbox.models import InboxMessage

from .conftest import RunningChannel
from .messages import adt


def test_many_connections_at_once_share_group_commits(channel, server):
    async def one(n: int) -> list[str]:
        connection = await Connection.open("127.0.0.1", channel.port)
        codes = [(await connection.send(adt(f"C{n}-{i}", f"PC-{n}-{i}"))).codes[0] for i in range(5)]
        await connection.close()
        return codes

    async def go():
        return await asyncio.gather(*(one(n) for n in range(40)))

    assert {code for codes in asyncio.run(go()) for code in codes} == {"AA"}
    with server.ctx.store.read() as uow:
        assert uow.conn.execute(select(func.count()).select_from(InboxMessage)).scalar() == 200


@pytest.fixture
def tight(server, channel_settings):
    running = RunningChannel(server.ctx, replace(channel_settings, mllp_idle_timeout_seconds=0.5,
                                                 mllp_max_connections=2, inbox_workers=0))
    yield running
    running.stop()


def test_idle_connections_are_closed_and_the_limit_holds(tight):
    async def go():
        first = await Connection.open("127.0.0.1", tight.port)
        second = await Connection.open("127.0.0.1", tight.port)
        third = await Connection.open("127.0.0.1", tight.port)
        refused = await asyncio.wait_for(third.reader.read(10), 5)  # closed at once: over the limit
        assert (await second.send(adt("LIM-1", "PL-1"))).codes == ["AA"]
        closed = await asyncio.wait_for(first.reader.read(10), 5)  # idle past 0.5 s
        for c in (first, second, third):
            await c.close()
        return refused, closed

    assert asyncio.run(go()) == (b"", b"")


def _certificate(tmp_path, name: str, issuer=None):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
               .not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                              critical=False)
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
    issuer_cert, issuer_key = issuer or (None, key)
    cert = builder.issuer_name(issuer_cert.subject if issuer_cert else subject).sign(issuer_key, hashes.SHA256())
    cert_path, key_path = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert, key, str(cert_path), str(key_path)


def test_tls_with_client_certificates(server, channel_settings, tmp_path):
    _, _, server_cert, server_key = _certificate(tmp_path, "listener")
    ca_cert, ca_key, ca_path, _ = _certificate(tmp_path, "sites-ca")
    _, _, client_cert, client_key = _certificate(tmp_path, "site", issuer=(ca_cert, ca_key))
    running = RunningChannel(server.ctx, replace(channel_settings, mllp_tls_cert=server_cert, mllp_tls_key=server_key,
                                                 mllp_tls_client_ca=ca_path, inbox_workers=0))

    async def go(with_cert: bool):
        context = ssl.create_default_context(cafile=server_cert)
        if with_cert:
            context.load_cert_chain(client_cert, client_key)
        connection = await Connection.open("127.0.0.1", running.port, tls=context)
        try:
            return (await connection.send(adt("TLS-1", "PT-1"))).codes
        finally:
            await connection.close()

    try:
        assert asyncio.run(go(True)) == ["AA"]
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            asyncio.run(go(False))
    finally:
        running.stop()
