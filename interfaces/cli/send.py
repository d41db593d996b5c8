"""passerelle send: send HL7 v2 files over MLLP, one message at a time, and show the acks."""

from __future__ import annotations

import asyncio
import ssl
import sys
from pathlib import Path

from mappers.hl7v2 import ParseError, split_batch

from ..mllp.client import Connection

NAME = "send"
HELP = "Send HL7 v2 messages (files, batches) to an MLLP listener and print each ack"
ACCEPTED = {"AA", "CA"}


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="HL7 v2 file(s): one message, several, or a batch")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2575)
    parser.add_argument("--tls", action="store_true", help="connect with TLS")
    parser.add_argument("--ca", help="CA file to verify the listener with (with --tls)")
    parser.add_argument("--cert", help="client certificate (PEM), when the listener asks for one")
    parser.add_argument("--key", help="its private key (PEM)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for each ack")
    parser.add_argument("--quiet", action="store_true", help="print only failures and the summary")


def run(args) -> int:
    messages = []
    for name in args.files:
        try:
            parts = split_batch(Path(name).read_bytes())
        except OSError as exc:
            print(f"{name}: cannot read ({exc.strerror})", file=sys.stderr)
            return 2
        except ParseError as exc:
            print(f"{name}: not an HL7 v2 file: {exc}", file=sys.stderr)
            return 2
        messages.extend((f"{name}#{i}", m) for i, m in enumerate(parts, 1))
    return asyncio.run(_send(args, messages))


def _tls(args) -> ssl.SSLContext | None:
    if not args.tls:
        return None
    context = ssl.create_default_context(cafile=args.ca)
    if args.cert:
        context.load_cert_chain(args.cert, args.key)
    return context


async def _send(args, messages: list[tuple[str, bytes]]) -> int:
    try:
        connection = await Connection.open(args.host, args.port, tls=_tls(args))
    except OSError as exc:
        print(f"cannot connect to {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    failed = 0
    try:
        for label, payload in messages:
            try:
                reply = await connection.send(payload, timeout=args.timeout)
            except (TimeoutError, ConnectionError) as exc:
                print(f"{label}: no ack ({type(exc).__name__}: {exc})", file=sys.stderr)
                return 1
            ok = all(code in ACCEPTED for code in reply.codes)
            failed += not ok
            if not ok or not args.quiet:
                print(f"{label}: {' '.join(reply.codes)}")
                if not ok:
                    for ack in reply.acks:
                        print("  " + ack.decode("utf-8", "replace").replace("\r", "\n  ").rstrip())
    finally:
        await connection.close()
    print(f"{len(messages) - failed} of {len(messages)} accepted", file=sys.stderr)
    return 1 if failed else 0
