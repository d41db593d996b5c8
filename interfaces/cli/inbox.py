"""passerelle inbox list|show|replay: the HL7 v2 inbox, for operators."""

from __future__ import annotations

import sys

from server.app import create_app
from server.config import Settings
from server.inbox import queue, view
from server.inbox.models import STATES
from server.inbox.process import process_now
from server.storage.db import WRITE

NAME = "inbox"
HELP = "List, show and replay received HL7 v2 messages (dead letters included)"


def add_arguments(parser) -> None:
    parser.add_argument("--database-url", help="SQLAlchemy URL (PASSERELLE_DATABASE_URL)")
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="newest first, with counts per state")
    listing.add_argument("--state", choices=STATES)
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--before", type=int, help="only messages older than this id (paging)")
    show = actions.add_parser("show", help="one message: state, error, acks and the raw message")
    show.add_argument("id", type=int)
    replay = actions.add_parser("replay", help="send dead letters through mapping again (idempotent)")
    replay.add_argument("ids", type=int, nargs="*", metavar="ID")
    replay.add_argument("--all-dead", action="store_true", help="every dead letter")
    replay.add_argument("--no-process", action="store_true",
                        help="only queue them again, for the running server's workers")


def run(args) -> int:
    ctx = create_app(Settings().with_overrides(database_url=args.database_url)).state.ctx
    try:
        return {"list": _list, "show": _show, "replay": _replay}[args.action](ctx, args)
    finally:
        ctx.store.engine.dispose()


def _list(ctx, args) -> int:
    with ctx.store.read() as uow:
        rows = view.summaries(uow.conn, state=args.state, limit=args.limit, before=args.before)
        per_state = view.counts(uow.conn)
    print("  ".join(f"{s}: {per_state.get(s, 0)}" for s in STATES))
    for r in rows:
        error = f"  {r.error.splitlines()[0][:100]}" if r.error else ""
        print(f"{r.id:>8}  {r.state:<10} {r.received:%Y-%m-%d %H:%M:%S}  {r.message_type or '-':<10} "
              f"{r.sender or '-'} #{r.control_id or '-'}{error}")
    return 0


def _show(ctx, args) -> int:
    with ctx.store.read() as uow:
        row = view.one(uow.conn, args.id)
    if row is None:
        print(f"inbox message {args.id} does not exist", file=sys.stderr)
        return 1
    for name in ("id", "state", "channel", "source", "received", "sender", "control_id", "message_type",
                 "patient_key", "attempts", "processed", "error"):
        print(f"{name}: {getattr(row, name)}")
    for name in ("commit_ack", "app_ack", "raw"):
        value = getattr(row, name)
        if value:
            print(f"{name}:")
            print("  " + value.decode("utf-8", "replace").replace("\r", "\n  ").rstrip())
    return 0


def _replay(ctx, args) -> int:
    if not args.ids and not args.all_dead:
        print("nothing to replay: give ids or --all-dead", file=sys.stderr)
        return 1
    with ctx.store.engine.execution_options(**WRITE).begin() as conn:
        queued = queue.replay(conn, None if args.all_dead else args.ids)
    skipped = sorted(set(args.ids) - set(queued))
    if skipped:
        print(f"not dead letters, left as they are: {', '.join(map(str, skipped))}")
    if not queued:
        return 0
    if args.no_process:
        print(f"{len(queued)} queued again")
        return 0
    counts = process_now(ctx, queued)
    print(f"{len(queued)} replayed: {counts.get('done', 0)} done, {counts.get('dead', 0)} dead")
    return 0 if not counts.get("dead") else 1
