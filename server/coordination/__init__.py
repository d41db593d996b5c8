"""Coordination work on top of the store: scheduling, eligibility, prior authorization, claims.

``install(store, settings)`` adds the listeners that keep derived state in step with every
write, whatever path it came by (REST, transaction Bundles, feeds): Slots follow their
Appointments, an AppointmentResponse updates its Appointment, a new
CoverageEligibilityRequest gets its response, a completed review Task updates its
ClaimResponse. The operations (``$find``, ``$hold``, ``$book``, ``$submit``,
``$inquire``) call the same code explicitly.
"""

from __future__ import annotations

from .claims import ReviewTasks
from .eligibility_requests import EligibilityRequests
from .responses import AppointmentResponses
from .slots import AppointmentSlots


def install(store, settings) -> None:
    """Register the coordination listeners on a Store (once each)."""
    for listener in (AppointmentSlots(), AppointmentResponses(), EligibilityRequests(settings), ReviewTasks()):
        if not any(type(existing) is type(listener) for existing in store.listeners):
            store.listeners.append(listener)


__all__ = ["install"]
