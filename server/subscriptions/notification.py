"""Notification content (Subscriptions R5 Backport IG STU 1.1, R4 shapes), built from data.

A topic-based notification is a ``history`` Bundle led by a SubscriptionStatus, which R4
carries as a Parameters (profile backport-subscription-status-r4): subscription, topic,
status, type (handshake | heartbeat | event-notification | query-status | query-event),
events-since-subscription-start (a string: R4 has no integer64) and one
notification-event per event (event-number, timestamp, focus). Then, for payload
``id-only`` and ``full-resource``, one entry per focus (with the resource for the latter).

R4 criteria subscriptions follow the core spec instead: no payload, a POST with no body;
with a payload, a PUT of the resource to ``[endpoint]/[type]/[id]``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from ..storage.repository import format_instant
from .spec import STATUS_PROFILE

CREATED, UPDATED = "create", "update"


@dataclass(frozen=True)
class Event:
    number: int
    occurred: datetime
    resource_type: str
    fhir_id: str
    action: str  # create | update | delete
    resource: dict | None = None  # the version written, for full-resource


def status_parameters(*, base: str, subscription_id: str, topic: str | None, status: str, kind: str,
                      events_since_start: int, events: list[Event] = (), with_focus: bool = True,
                      error: str | None = None) -> dict:
    """The SubscriptionStatus as an R4 Parameters."""
    params: list[dict] = [{"name": "subscription", "valueReference": {"reference": f"{base}/Subscription/"
                                                                                   f"{subscription_id}"}}]
    if topic:
        params.append({"name": "topic", "valueCanonical": topic})
    params += [{"name": "status", "valueCode": status}, {"name": "type", "valueCode": kind},
               {"name": "events-since-subscription-start", "valueString": str(events_since_start)}]
    for event in events:
        part = [{"name": "event-number", "valueString": str(event.number)},
                {"name": "timestamp", "valueInstant": _instant(event.occurred)}]
        if with_focus:
            part.append({"name": "focus", "valueReference": {"reference": f"{base}/{event.resource_type}/"
                                                                          f"{event.fhir_id}"}})
        params.append({"name": "notification-event", "part": part})
    if error:
        params.append({"name": "error", "valueCodeableConcept": {"text": error}})
    return {"resourceType": "Parameters", "id": str(uuid.uuid4()), "meta": {"profile": [STATUS_PROFILE]},
            "parameter": params}


def bundle(*, base: str, subscription_id: str, topic: str | None, status: str, kind: str,
           events_since_start: int, events: list[Event] = (), content: str = "empty", now: datetime,
           error: str | None = None) -> dict:
    """A notification (or $events answer) Bundle of type history."""
    parameters = status_parameters(base=base, subscription_id=subscription_id, topic=topic, status=status, kind=kind,
                                   events_since_start=events_since_start, events=events,
                                   with_focus=content != "empty", error=error)
    entries = [{"fullUrl": f"urn:uuid:{parameters['id']}", "resource": parameters,
                "request": {"method": "GET", "url": f"{base}/Subscription/{subscription_id}/$status"},
                "response": {"status": "200"}}]
    if content != "empty":
        for event in events:
            entries.append(_focus_entry(base, event, content == "full-resource"))
    return {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "history", "timestamp": _instant(now),
            "entry": entries}


def _focus_entry(base: str, event: Event, full: bool) -> dict:
    entry: dict = {"fullUrl": f"{base}/{event.resource_type}/{event.fhir_id}"}
    if full and event.resource is not None:
        entry["resource"] = event.resource
    if event.action == CREATED:
        entry["request"] = {"method": "POST", "url": event.resource_type}
        entry["response"] = {"status": "201"}
    elif event.action == UPDATED:
        entry["request"] = {"method": "PUT", "url": f"{event.resource_type}/{event.fhir_id}"}
        entry["response"] = {"status": "200"}
    else:
        entry["request"] = {"method": "DELETE", "url": f"{event.resource_type}/{event.fhir_id}"}
        entry["response"] = {"status": "204"}
    return entry


def _instant(moment: datetime) -> str:
    return format_instant(moment)
