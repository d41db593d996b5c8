"""The server-defined subscription topics (Subscriptions R5 Backport IG, STU 1.1).

R4 has no SubscriptionTopic resource: a backport server defines its topics itself and a
Subscription names one by canonical URL in ``Subscription.criteria``. Each topic here is
data: the resource type it watches, when a write of that type is an event (its
``resourceTrigger``, worked out from the previous and the new version) and the search
parameters a subscriber may filter on (``canFilterBy``), evaluated by the search engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

TOPIC_BASE = "https://passerelle.dev/fhir/SubscriptionTopic/"

# (previous version or None, new version or None when deleted) -> is this write an event?
Trigger = Callable[[dict | None, dict | None], bool]


@dataclass(frozen=True)
class Topic:
    key: str
    resource_type: str
    title: str
    trigger: Trigger
    filters: frozenset[str]  # search parameters of resource_type a Subscription may filter on

    @property
    def canonical(self) -> str:
        return TOPIC_BASE + self.key


def _changed(element: str, *, values: frozenset[str] | None = None) -> Trigger:
    """Created, or updated with ``element`` changed (to one of ``values`` when given)."""

    def trigger(previous: dict | None, current: dict | None) -> bool:
        if current is None:
            return False  # a delete is no status change
        now = current.get(element)
        if values is not None and now not in values:
            return False
        return previous is None or previous.get(element) != now

    return trigger


TOPICS = {
    topic.canonical: topic
    for topic in (
        Topic("appointment-status-change", "Appointment", "Appointment created or its status changed",
              _changed("status"), frozenset({"patient", "status", "actor", "practitioner", "location",
                                             "service-type", "identifier"})),
        # ClaimResponse.outcome: queued | complete | error | partial. A result is available
        # once it is anything but queued (a pended review that completes is an event too).
        Topic("claimresponse-available", "ClaimResponse", "ClaimResponse with a result (outcome complete, "
              "partial or error)", _changed("outcome", values=frozenset({"complete", "partial", "error"})),
              frozenset({"patient", "request", "insurer", "requestor", "outcome", "use", "identifier"})),
        Topic("task-status-change", "Task", "Task created or its status changed",
              _changed("status"), frozenset({"patient", "status", "owner", "focus", "code", "requester",
                                             "business-status", "subject", "identifier"})),
    )
}
WATCHED_TYPES = frozenset(t.resource_type for t in TOPICS.values())


def triggered(resource_type: str, previous: dict | None, current: dict | None) -> list[str]:
    """Canonicals of the topics this write is an event of."""
    return [t.canonical for t in TOPICS.values() if t.resource_type == resource_type and t.trigger(previous, current)]
