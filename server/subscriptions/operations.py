"""``$status`` and ``$events`` on Subscription (Subscriptions R5 Backport IG STU 1.1).

- ``Subscription/{id}/$status``: a searchset Bundle holding the subscription's
  SubscriptionStatus (type ``query-status``): status, events since it started, and the
  last delivery failure as ``error`` while notifications are failing.
- ``Subscription/$status?id=…&status=…``: the same for each subscription the token may
  see (found with the search engine, so the token's grants narrow them).
- ``Subscription/{id}/$events?eventsSinceNumber=&eventsUntilNumber=&content=``: the
  events kept in the notification queue, as a history Bundle (type ``query-event``);
  ``content`` may ask for less than the subscription's payload, never more.
"""

from __future__ import annotations

from sqlalchemy import select

from ..api.outcome import Answer
from ..errors import BadRequest
from ..operations.registry import OperationCall, operation
from ..search.service import find_ids
from . import notification, spec
from .models import EVENT, SubscriptionNotification, SubscriptionState

IG = "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/"
N, S = SubscriptionNotification.__table__, SubscriptionState.__table__
MAX_STATUS = 1000
MAX_EVENTS = 200


@operation("status", definition=IG + "backport-subscription-status", levels=("type", "instance"),
           resource_types=("Subscription",), documentation="Status of subscriptions (backport IG)")
def status(call: OperationCall) -> Answer:
    if call.fhir_id:
        ids = [call.fhir_id]
    else:
        params = []
        wanted = [v for p in call.values("id") for v in str(_value(p)).split(",") if v]
        if wanted:
            params.append(("_id", ",".join(wanted)))
        statuses = [str(_value(p)) for p in call.values("status")]
        if statuses:
            params.append(("status", ",".join(statuses)))
        ids = sorted(i for i, _ in find_ids(call.uow, "Subscription", params, limit=MAX_STATUS))
    entries = []
    for fhir_id in ids:
        resource = call.uow.read("Subscription", fhir_id).resource()
        state = _state(call, fhir_id)
        parameters = notification.status_parameters(
            base=call.base, subscription_id=fhir_id, topic=state.topic if state else None,
            status=resource.get("status"), kind="query-status",
            events_since_start=state.events_since_start if state else 0, error=state.error if state else None)
        entries.append({"fullUrl": f"urn:uuid:{parameters['id']}", "resource": parameters,
                        "search": {"mode": "match"}})
    return Answer(200, body={"resourceType": "Bundle", "type": "searchset", "total": len(entries),
                             "entry": entries})


@operation("events", definition=IG + "backport-subscription-events", levels=("instance",),
           resource_types=("Subscription",), documentation="Events of a subscription, by event number (backport IG)")
def events(call: OperationCall) -> Answer:
    resource = call.uow.read("Subscription", call.fhir_id).resource()
    state = _state(call, call.fhir_id)
    if state is None:
        raise BadRequest(f"Subscription/{call.fhir_id} has no events")
    since, until = _number(call, "eventsSinceNumber"), _number(call, "eventsUntilNumber")
    own = spec.parse(resource, allowed_hosts=None, known_types=call.ctx.resource_types).content
    content = call.value("content") or own
    if content not in spec.PAYLOAD_CONTENTS:
        raise BadRequest(f"content must be one of {', '.join(spec.PAYLOAD_CONTENTS)}", expression="content")
    if spec.PAYLOAD_CONTENTS.index(content) > spec.PAYLOAD_CONTENTS.index(own):
        raise BadRequest(f"content {content!r} exceeds this subscription's payload ({own})", expression="content")
    query = select(N).where(N.c.subscription_id == call.fhir_id, N.c.kind == EVENT)
    if since is not None:
        query = query.where(N.c.event_number >= since)
    if until is not None:
        query = query.where(N.c.event_number <= until)
    rows = call.uow.conn.execute(query.order_by(N.c.event_number.desc()).limit(MAX_EVENTS)).all()[::-1]
    found = []
    for row in rows:
        body = None
        if content == "full-resource":
            try:
                body = call.uow.vread(row.resource_type, row.fhir_id, row.version_id).resource()
            except Exception:  # noqa: BLE001 - a deletion: the entry names it without content
                body = None
        found.append(notification.Event(row.event_number, row.occurred, row.resource_type, row.fhir_id, row.action,
                                        body))
    bundle = notification.bundle(base=call.base, subscription_id=call.fhir_id, topic=state.topic,
                                 status=resource.get("status"), kind="query-event",
                                 events_since_start=state.events_since_start, events=found, content=content,
                                 now=call.uow.now)
    return Answer(200, body=bundle)


def _state(call: OperationCall, fhir_id: str):
    return call.uow.conn.execute(select(S).where(S.c.subscription_id == fhir_id)).first()


def _value(part: dict):
    return next((v for k, v in part.items() if k.startswith("value")), None)


def _number(call: OperationCall, name: str) -> int | None:
    value = call.value(name)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"{name} must be an integer (an event number)", expression=name) from exc
