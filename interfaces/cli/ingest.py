"""passerelle ingest FILE...: HL7 v2 files (FHS/BHS batches or plain) into the inbox, then processed.

The same path as MLLP: each message is judged, committed to the inbox (in batches),
then mapped and stored by the inbox workers. Idempotent: a message's key is the file's
SHA-256, its place in the file and its MSH-10, so ingesting a file again adds nothing.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from tqdm import tqdm

from mappers.hl7v2 import ParseError, split_batch
from server.app import create_app
from server.config import Settings
from server.inbox import intake
from server.inbox.models import REJECTED
from server.inbox.process import process_now
from server.storage.db import WRITE
from server.storage.repository import utcnow

NAME = "ingest"
HELP = "Load HL7 v2 files (batches or plain) through the inbox, then map and store them"
COMMIT_EVERY = 500


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--database-url", help="SQLAlchemy URL (PASSERELLE_DATABASE_URL)")
    parser.add_argument("--no-process", action="store_true",
                        help="only store them in the inbox, for the running server's workers")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    ctx = create_app(Settings().with_overrides(database_url=args.database_url)).state.ctx
    try:
        return _ingest(ctx, args)
    finally:
        ctx.store.engine.dispose()


def _ingest(ctx, args) -> int:
    status = 0
    new_ids: list[int] = []
    with tqdm(total=0, unit="msg", desc="inbox", disable=args.quiet, file=sys.stderr) as bar:
        for name in args.files:
            try:
                raw = Path(name).read_bytes()
                messages = split_batch(raw)
            except OSError as exc:
                tqdm.write(f"{name}: cannot read ({exc.strerror})", file=sys.stderr)
                status = 2
                continue
            except ParseError as exc:  # names the line
                tqdm.write(f"{name}: not ingested: {exc}", file=sys.stderr)
                status = 2
                continue
            digest = hashlib.sha256(raw).hexdigest()
            bar.total += len(messages)
            bar.refresh()
            stored = duplicates = rejected = 0
            for start in range(0, len(messages), COMMIT_EVERY):
                chunk = messages[start:start + COMMIT_EVERY]
                pending = [intake.examine(m, channel="file", source=f"{Path(name).name}#{start + i}",
                                          now=utcnow(), scope=f"file|{digest}|{start + i}")
                           for i, m in enumerate(chunk, 1)]
                with ctx.store.engine.execution_options(**WRITE).begin() as conn:
                    verdicts = intake.store(conn, pending)
                for i, verdict in enumerate(verdicts, start + 1):
                    if verdict.duplicate:
                        duplicates += 1
                    elif verdict.state == REJECTED:
                        rejected += 1
                        tqdm.write(f"{name}: message {i} rejected: {pending[i - start - 1].row['error']}",
                                   file=sys.stderr)
                    else:
                        stored += 1
                        new_ids.append(verdict.inbox_id)
                bar.update(len(chunk))
            tqdm.write(f"{name}: {len(messages)} messages: {stored} new, {duplicates} already received, "
                       f"{rejected} rejected", file=sys.stderr)
            status = status or (1 if rejected else 0)
    if args.no_process or not new_ids:
        return status
    with tqdm(total=len(new_ids), unit="msg", desc="mapped", disable=args.quiet, file=sys.stderr) as bar:
        counts = process_now(ctx, new_ids, progress=bar.update)
    left = len(new_ids) - counts.get("done", 0) - counts.get("dead", 0)
    print(f"processed: {counts.get('done', 0)} done, {counts.get('dead', 0)} dead letters"
          + (f", {left} waiting behind older messages of the same patients" if left else ""), file=sys.stderr)
    return status or (1 if counts.get("dead") else 0)
