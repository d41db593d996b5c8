"""Processing chosen inbox rows right here (``passerelle ingest``, ``inbox replay``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import select

from ..context import AppContext
from .models import DEAD, DONE, InboxMessage
from .worker import Workers

CHUNK = 2000  # ids per statement (SQLite allows 32,766 parameters)


def process_now(ctx: AppContext, ids: list[int], *, progress: Callable[[int], None] | None = None) -> Counter:
    """Claim and process these rows until none is left that this process can take
    (a row of a patient whose older message another process holds waits for it).
    Returns how many rows are in each state afterwards."""
    workers = Workers(ctx, threads=0, lease_seconds=ctx.settings.inbox_lease_seconds)
    for start in range(0, len(ids), CHUNK):
        remaining = ids[start:start + CHUNK]
        while remaining:
            claimed = workers.run_once(ids=remaining)
            if not claimed:
                break
            if progress is not None:
                progress(claimed)
            remaining = [i for i, state in _states(ctx, remaining) if state not in (DONE, DEAD)]
    counts: Counter = Counter()
    for start in range(0, len(ids), CHUNK):
        counts.update(state for _, state in _states(ctx, ids[start:start + CHUNK]))
    return counts


def _states(ctx: AppContext, ids: list[int]) -> list[tuple[int, str]]:
    with ctx.store.read() as uow:
        return [tuple(r) for r in uow.conn.execute(
            select(InboxMessage.id, InboxMessage.state).where(InboxMessage.id.in_(ids)).order_by(InboxMessage.id))]
