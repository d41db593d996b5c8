"""Authorization's store listener.

Work the server does for itself after a commit runs with internal access:
``uow.after_commit`` callbacks (alerts, notifications, audit) are the server's own work,
the caller's token must not narrow what they search or forbid what they write. This
listener wraps each callback, when it is appended, in ``acting_as(INTERNAL)``.

It also shows each write of a patient-run operation to its watch
(``server.authz.operations``), which refuses what leaves the patient's compartment.
"""

from __future__ import annotations

from .access import INTERNAL, acting_as


class _InternalCallbacks(list):
    def append(self, callback) -> None:
        def internal():
            with acting_as(INTERNAL):
                return callback()

        super().append(internal)


class InternalAfterCommit:
    def begin(self, uow, *, write: bool) -> None:
        if write:
            uow.after_commit = _InternalCallbacks(uow.after_commit)

    def writing(self, uow, resource_type, fhir_id, resource) -> None:
        watch = getattr(uow, "compartment_writes", None)
        if watch is not None:
            watch.writing(uow, resource_type, fhir_id)
