"""What a Subscription resource asks for, checked: criteria or topic, channel, payload.

Two kinds share the R4 Subscription resource:

- R4 criteria: ``criteria`` is a search (``Task?status=requested``) evaluated by the
  search engine against each created or updated resource of that type;
- topic-based (Subscriptions R5 Backport IG): ``criteria`` is one of our topics'
  canonical URL, narrowed by ``backport-filter-criteria`` extensions
  (``Task?patient=Patient/1``, search parameters of the topic's ``canFilterBy``).

Only ``rest-hook`` channels are offered, to hosts of ``PASSERELLE_SUBSCRIPTION_HOSTS``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from ..errors import BadRequest, Unprocessable
from .topics import TOPICS, Topic

IG = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
FILTER_CRITERIA = IG + "backport-filter-criteria"
PAYLOAD_CONTENT = IG + "backport-payload-content"
HEARTBEAT_PERIOD = IG + "backport-heartbeat-period"
STATUS_PROFILE = IG + "backport-subscription-status-r4"
PAYLOAD_CONTENTS = ("empty", "id-only", "full-resource")
FHIR_JSON = ("application/fhir+json", "application/json")  # what channel.payload may name
LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True)
class Spec:
    resource_type: str  # the type whose writes may notify
    search: tuple[tuple[str, str], ...]  # criteria (R4) or filters (topic), as search parameters
    topic: Topic | None
    endpoint: str
    headers: tuple[tuple[str, str], ...]
    content: str  # empty | id-only | full-resource
    bundled: bool  # notifications are the IG's history Bundles (topic, or payload-content given)
    end: str | None  # Subscription.end (FHIR instant), None: no end
    heartbeat_seconds: int | None = None  # backport-heartbeat-period (bundled notifications only)

    def ended(self, now: datetime) -> bool:
        if not self.end:
            return False
        try:
            end = datetime.fromisoformat(self.end.replace("Z", "+00:00"))
        except ValueError:
            return False
        if end.tzinfo is not None:
            end = end.astimezone(UTC).replace(tzinfo=None)  # the store's clock is naive UTC
        return end <= now


def parse(resource: dict, *, allowed_hosts: frozenset[str] | None, known_types: frozenset[str]) -> Spec:
    """The Subscription's Spec, or an OperationOutcome-ready error naming the element.
    ``allowed_hosts`` None: the endpoint's host is not checked (a stored Subscription read
    back for matching or $events; it was checked when written, and is again on each send)."""
    criteria = resource.get("criteria")
    if not isinstance(criteria, str) or not criteria.strip():
        raise Unprocessable("Subscription.criteria is required: a search (Type?params) or a topic URL",
                            expression="Subscription.criteria")
    criteria = criteria.strip()
    topic = TOPICS.get(criteria)
    if topic is not None:
        search = _filters(resource, topic)
        resource_type = topic.resource_type
    elif criteria.startswith(("http://", "https://")):
        raise Unprocessable(f"Unknown subscription topic {criteria}; this server's topics: "
                            f"{', '.join(sorted(TOPICS))}", code="not-supported", expression="Subscription.criteria")
    else:
        resource_type, search = _search(criteria, known_types, "Subscription.criteria")
    channel = resource.get("channel") or {}
    if channel.get("type") != "rest-hook":
        raise Unprocessable(f"Subscription.channel.type {channel.get('type')!r} is not supported: only rest-hook",
                            code="not-supported", expression="Subscription.channel.type")
    endpoint = checked_endpoint(channel.get("endpoint"), allowed_hosts)
    payload = channel.get("payload")
    if payload is not None and payload not in FHIR_JSON:
        raise Unprocessable(f"Subscription.channel.payload {payload!r} is not supported: application/fhir+json "
                            f"or none", code="not-supported", expression="Subscription.channel.payload")
    content, explicit = _content(channel, payload, topic)
    bundled = topic is not None or explicit
    return Spec(resource_type, search, topic, endpoint, _headers(channel), content, bundled, resource.get("end"),
                _heartbeat(channel, bundled))


def _search(criteria: str, known_types: frozenset[str], where: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    resource_type, _, query = criteria.partition("?")
    if resource_type not in known_types:
        raise Unprocessable(f"{where} must start with a resource type (Type?params); {resource_type!r} is not one",
                            expression=where)
    params = tuple(parse_qsl(query, keep_blank_values=True))
    for name, _value in params:
        if name.split(":")[0] in ("_sort", "_count", "_include", "_revinclude", "_summary", "_elements", "_total"):
            raise Unprocessable(f"{where}: {name} shapes results; it cannot select resources", expression=where)
    return resource_type, params


def _filters(resource: dict, topic: Topic) -> tuple[tuple[str, str], ...]:
    where = "Subscription.criteria.extension"
    search: list[tuple[str, str]] = []
    for ext in (resource.get("_criteria") or {}).get("extension") or []:
        if ext.get("url") != FILTER_CRITERIA:
            continue
        value = ext.get("valueString")
        if not isinstance(value, str) or not value:
            raise Unprocessable("backport-filter-criteria needs a valueString such as "
                                f"{topic.resource_type}?patient=Patient/123", expression=where)
        if "?" not in value:  # a bare "param=value" is read against the topic's type
            value = f"{topic.resource_type}?{value}"
        resource_type, params = _search(value, frozenset({topic.resource_type}), where)
        for name, _ in params:
            if name.split(":")[0] not in topic.filters:
                raise Unprocessable(f"Topic {topic.canonical} cannot filter by {name!r}; it can by: "
                                    f"{', '.join(sorted(topic.filters))}", code="not-supported", expression=where)
        search.extend(params)
    return tuple(search)


def _content(channel: dict, payload: str | None, topic: Topic | None) -> tuple[str, bool]:
    """(payload content, whether the backport-payload-content extension gave it)."""
    given = [e.get("valueCode") for e in (channel.get("_payload") or {}).get("extension") or []
             if e.get("url") == PAYLOAD_CONTENT]
    if given:
        if given[0] not in PAYLOAD_CONTENTS:
            raise Unprocessable(f"backport-payload-content {given[0]!r} is not one of {', '.join(PAYLOAD_CONTENTS)}",
                                expression="Subscription.channel.payload.extension")
        if payload is None:
            raise Unprocessable("backport-payload-content needs channel.payload (application/fhir+json)",
                                expression="Subscription.channel.payload")
        return given[0], True
    if payload is None:
        return "empty", False
    # R4 criteria with a payload: the resource itself; a topic without the extension: id-only (the IG's default).
    return ("id-only" if topic is not None else "full-resource"), False


def _heartbeat(channel: dict, bundled: bool) -> int | None:
    periods = [e.get("valueUnsignedInt") for e in channel.get("extension") or [] if e.get("url") == HEARTBEAT_PERIOD]
    if not periods:
        return None
    where = "Subscription.channel.extension"
    if not bundled:
        raise Unprocessable("backport-heartbeat-period applies to topic-based subscriptions (or with "
                            "backport-payload-content)", code="not-supported", expression=where)
    if not isinstance(periods[0], int) or periods[0] < 1:
        raise Unprocessable("backport-heartbeat-period needs valueUnsignedInt seconds, at least 1", expression=where)
    return periods[0]


def _headers(channel: dict) -> tuple[tuple[str, str], ...]:
    out = []
    for line in channel.get("header") or []:
        name, sep, value = str(line).partition(":")
        if not sep or not name.strip() or any(c in line for c in "\r\n"):
            raise Unprocessable(f"Subscription.channel.header must read 'Name: value' (got {name.strip()!r}…)",
                                expression="Subscription.channel.header")
        out.append((name.strip(), value.strip()))
    return tuple(out)


def allowed(settings_value: str) -> frozenset[str]:
    """PASSERELLE_SUBSCRIPTION_HOSTS as a set of lower-case "host" / "host:port"."""
    return frozenset(h.strip().lower() for h in settings_value.split(",") if h.strip())


def checked_endpoint(endpoint, allowed_hosts: frozenset[str] | None) -> str:
    """The endpoint if it may receive notifications: an absolute URL to a host of the
    allow-list, over https (plain http only to a loopback host that is listed)."""
    where = "Subscription.channel.endpoint"
    if not isinstance(endpoint, str) or not endpoint:
        raise Unprocessable("Subscription.channel.endpoint is required for rest-hook", expression=where)
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Unprocessable("Subscription.channel.endpoint must be an absolute https URL", expression=where)
    if parts.username or parts.password:
        raise Unprocessable("Subscription.channel.endpoint must not carry credentials; use channel.header",
                            expression=where)
    host = parts.hostname.lower()
    try:
        port = parts.port
    except ValueError as exc:
        raise BadRequest(f"Subscription.channel.endpoint has a bad port: {exc}", expression=where) from exc
    if allowed_hosts is None:
        return endpoint
    if host not in allowed_hosts and (port is None or f"{host}:{port}" not in allowed_hosts):
        raise Unprocessable(f"Notifications may not be sent to {host}: the server's allowed hosts "
                            f"(PASSERELLE_SUBSCRIPTION_HOSTS) do not include it", code="security", expression=where)
    if parts.scheme == "http" and not _loopback(host):
        raise Unprocessable("Subscription.channel.endpoint must use https (plain http only to a loopback host)",
                            code="security", expression=where)
    return endpoint


def _loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
