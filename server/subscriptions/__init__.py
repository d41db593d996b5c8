"""FHIR Subscriptions: R4 criteria subscriptions and the topic-based backport (rest-hook).

``SubscriptionListener`` (installed by ``create_app``) checks Subscription writes and
records watched writes in the outbox, inside each write's transaction; ``fan_out`` and
``delivery`` are the worker's steps (interfaces.subscriptions sends over HTTP);
``operations`` serves ``$status`` and ``$events``. See docs/subscriptions.md.
"""

from . import delivery
from .fanout import fan_out
from .heartbeat import queue_heartbeats
from .listener import SubscriptionListener

__all__ = ["SubscriptionListener", "delivery", "fan_out", "queue_heartbeats"]
