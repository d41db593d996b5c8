"""Writes the AuditEvent of each FHIR request (and CDS Hooks call) before its answer leaves.

Its own transaction (a read has no write transaction to join): the event is committed
before the client sees the answer, so an answered request is always on record. A
failure to record is logged and answered 500 rather than leaving an access unaudited.
"""

from __future__ import annotations

import logging

from ..authz.access import INTERNAL, acting_as
from .cds import CdsCall, cds_event
from .events import audit_event

log = logging.getLogger("passerelle.audit")


class AuditRecorder:
    def __init__(self, ctx):
        self.ctx = ctx

    def __call__(self, scope, status: int, headers, access) -> None:
        client = scope.get("client")
        with self.ctx.store.write() as uow:
            event = audit_event(method=scope["method"], path=scope["path"],
                                query=scope.get("query_string", b"").decode("latin-1"), status=status,
                                location=headers.get("location") or headers.get("content-location"),
                                access=access, address=client[0] if client else None, recorded=uow.now)
            with acting_as(INTERNAL):  # the trail itself is written by the server, not the caller
                uow.create(event)


def record_cds_call(ctx, call: CdsCall, status: int, address: str | None) -> None:
    """The AuditEvent of one CDS Hooks call, committed before the answer leaves."""
    with ctx.store.write() as uow, acting_as(INTERNAL):
        uow.create(cds_event(call, status=status, address=address, recorded=uow.now))
