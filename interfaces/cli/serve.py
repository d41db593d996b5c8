"""passerelle serve: the FHIR API (uvicorn) and the HL7 v2 channel (MLLP + inbox workers).

One worker: both run in one asyncio loop. Several API workers (``--workers``): uvicorn
runs them as processes, and the channel runs in ONE process of its own (``passerelle
mllp``: the listener, its group commit and the inbox workers, so that an application ack
goes back on the connection its message came in on), restarted if it dies; all state is
in the database either way.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

import uvicorn
from sqlalchemy.engine import make_url

from interfaces.app import create_app
from server.config import Settings
from server.storage.db import make_engine, migrate

from ..mllp.channel import Channel
from .mllp import add_channel_arguments

NAME = "serve"
# uvicorn's logging, plus our structured loggers (access lines, slow searches) on stderr.
LOG_CONFIG = {
    **uvicorn.config.LOGGING_CONFIG,
    "loggers": {
        **uvicorn.config.LOGGING_CONFIG["loggers"],
        "passerelle": {"handlers": ["default"], "level": "INFO", "propagate": False},
    },
}
HELP = "Run the FHIR REST API (base /fhir) and the MLLP listener"
WORKER_HEALTHCHECK_SECONDS = 120


def add_arguments(parser) -> None:
    parser.add_argument("--host", help="interface to listen on (PASSERELLE_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port (PASSERELLE_PORT, default 8080)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (PASSERELLE_DATABASE_URL, default sqlite file)")
    parser.add_argument("--workers", type=int, help="worker processes (PASSERELLE_WORKERS, default 1)")
    add_channel_arguments(parser)


def run(args) -> int:
    settings = Settings().with_overrides(host=args.host, port=args.port, database_url=args.database_url,
                                         workers=args.workers, mllp_host=args.mllp_host, mllp_port=args.mllp_port,
                                         inbox_workers=args.inbox_workers)
    # Worker processes build their own Settings from the environment: pass the flags on.
    os.environ["PASSERELLE_DATABASE_URL"] = settings.database_url
    engine = make_engine(settings.database_url)
    migrate(engine)  # once, before the workers start
    engine.dispose()
    print(f"Passerelle FHIR API on http://{settings.host}:{settings.port}/fhir (store: {_safe(settings.database_url)}; "
          f"authorization {'DISABLED' if settings.auth == 'disabled' else 'enabled'})")
    if settings.workers > 1:
        return _serve_processes(settings)  # the channel's process says where it listens, once it does
    if settings.mllp_port:
        print(f"Passerelle MLLP on {settings.mllp_host}:{settings.mllp_port}", flush=True)
    asyncio.run(_serve(settings))
    return 0


def _uvicorn_options(settings: Settings) -> dict:
    return dict(host=settings.host, port=settings.port, log_level=settings.log_level, proxy_headers=True,
                access_log=False,  # it prints query strings (patient data); server.access_log does not
                log_config=LOG_CONFIG)


async def _serve(settings: Settings) -> None:
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, **_uvicorn_options(settings)))
    channel = Channel(app.state.ctx)
    await channel.start()
    # uvicorn re-raises the SIGINT/SIGTERM it caught once it has stopped, to the handler
    # found before it: make that one harmless, so the channel stops cleanly too.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    try:
        await server.serve()  # returns on SIGINT/SIGTERM
    finally:
        await channel.stop()


def _serve_processes(settings: Settings) -> int:
    channel = ChannelProcess(settings)
    channel.start()
    try:
        # A worker builds the whole application before it answers uvicorn's health checks (the
        # search registry, the terminology, the identity rules: seconds, more on a busy machine);
        # uvicorn's 5 s default kills it as hung, again and again, and the API never comes up.
        uvicorn.run("interfaces.app:create_app", factory=True, workers=settings.workers,
                    timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS, **_uvicorn_options(settings))
    finally:
        channel.stop()
    return 0


class ChannelProcess:
    """The channel's process beside the API workers: started, started again if it dies
    (its messages are safe in the inbox; their leases bring them back), stopped last."""

    PAUSE, MAX_PAUSE = 1.0, 30.0  # before a restart; doubled while it keeps dying at once

    def __init__(self, settings: Settings):
        # The database URL reaches it through the environment (run() sets it), not the
        # command line, where any local user could read its password.
        self.command = [sys.executable, "-m", "interfaces.cli.main", "mllp", "--mllp-host", settings.mllp_host,
                        "--mllp-port", str(settings.mllp_port), "--inbox-workers", str(settings.inbox_workers)]
        self.process: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher = threading.Thread(target=self._watch, name="mllp-channel-watcher", daemon=True)

    def start(self) -> None:
        with self._lock:
            self.process = self._spawn()
        self._watcher.start()

    def _watch(self) -> None:
        pause = self.PAUSE
        while True:
            started = time.monotonic()
            code = self.process.wait()
            pause = min(pause * 2, self.MAX_PAUSE) if time.monotonic() - started < 10 else self.PAUSE
            if self._stopping.wait(pause):
                return
            print(f"passerelle serve: the MLLP channel process exited ({code}); starting it again",
                  file=sys.stderr, flush=True)
            with self._lock:
                if self._stopping.is_set():
                    return
                self.process = self._spawn()

    def _spawn(self) -> subprocess.Popen:
        # A session of its own: a Ctrl-C at the terminal reaches the API workers and this
        # process, which then stops the channel (after them), rather than all at once.
        return subprocess.Popen(self.command, start_new_session=True)

    def stop(self, timeout: float = 30) -> None:
        self._stopping.set()
        with self._lock:
            process = self.process
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._watcher.join(timeout)


def _safe(url: str) -> str:
    """The database URL without its password, for the console."""
    return make_url(url).render_as_string(hide_password=True)
