"""passerelle mllp: the HL7 v2 channel alone (MLLP listener and inbox workers), no API."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from server.app import create_app
from server.config import Settings

from ..mllp.channel import INBOX_BATCH, Channel

NAME = "mllp"
HELP = "Run the MLLP listener and the inbox workers (without the HTTP API)"


def add_arguments(parser) -> None:
    add_channel_arguments(parser)
    parser.add_argument("--database-url", help="SQLAlchemy URL (PASSERELLE_DATABASE_URL)")
    parser.add_argument("--inbox-batch", type=int, default=INBOX_BATCH, metavar="N",
                        help=f"messages a worker claims at once and stores in shared transactions (default "
                             f"{INBOX_BATCH}; 1: one transaction per message)")


def add_channel_arguments(parser) -> None:
    parser.add_argument("--mllp-host", help="interface (PASSERELLE_MLLP_HOST, default 127.0.0.1)")
    parser.add_argument("--mllp-port", type=int, help="TCP port, 0: no listener (PASSERELLE_MLLP_PORT, default 2575)")
    parser.add_argument("--inbox-workers", type=int, help="processing threads (PASSERELLE_INBOX_WORKERS, default 2)")


def settings_from(args) -> Settings:
    return Settings().with_overrides(database_url=args.database_url, mllp_host=args.mllp_host,
                                     mllp_port=args.mllp_port, inbox_workers=args.inbox_workers)


def run(args) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = settings_from(args)
    if args.inbox_batch < 1:
        print(f"passerelle mllp: --inbox-batch must be 1 or more, not {args.inbox_batch}", file=sys.stderr)
        return 2
    asyncio.run(_main(settings, args.inbox_batch))
    return 0


async def _main(settings: Settings, inbox_batch: int = INBOX_BATCH) -> None:
    ctx = create_app(settings).state.ctx  # migrates; the same wiring as the API (store listeners)
    channel = Channel(ctx, inbox_batch=inbox_batch)
    port = await channel.start()
    print(f"Passerelle MLLP on {settings.mllp_host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await channel.stop()
    ctx.store.engine.dispose()
