"""An AuditEvent for one FHIR request, in the shape of IHE Basic Audit Log Patterns.

Who (the user, the OAuth client, the network address), what (the interaction, the
resource it named or created), when, the patient concerned, the outcome. Only ids go in:
never a search value (names, birth dates), only the parameter names.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl

from ..storage.repository import format_instant

DCM = "http://dicom.nema.org/resources/ontology/DCM"
INTERACTION = "http://hl7.org/fhir/restful-interaction"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
ENTITY_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
CLIENT_SYSTEM = "urn:passerelle:oauth-client"
SPECIAL = ("_history", "_search", "metadata")


def interaction(method: str, segments: list[str]) -> tuple[str, str]:
    """(restful-interaction code, AuditEvent.action) for a request path under /fhir."""
    op = next((s for s in segments if s.startswith("$")), None)
    if op:
        return "operation", "E"
    if method == "POST" and not segments:
        return "transaction", "E"
    if "_history" in segments:
        at = segments.index("_history")
        if at + 1 < len(segments):
            return "vread", "R"
        return ("history-instance" if at == 2 else "history-type" if at == 1 else "history-system"), "R"
    if method in ("GET", "HEAD") or segments[-1:] == ["_search"]:
        if len(segments) == 2:
            return "read", "R"
        return ("search-type" if len(segments) == 1 else "search-system" if not segments else "search-compartment",
                "E")
    return {"POST": ("create", "C"), "PUT": ("update", "U"), "PATCH": ("patch", "U"),
            "DELETE": ("delete", "D")}.get(method, ("operation", "E"))


def audit_event(*, method: str, path: str, query: str, status: int, location: str | None, access,
                address: str | None, recorded: datetime) -> dict:
    segments = [s for s in path.removeprefix("/fhir").split("/") if s]
    code, action = interaction(method, segments)
    event = {
        "resourceType": "AuditEvent",
        "type": {"system": DCM, "code": "110112", "display": "Query"} if action == "E" and code.startswith("search")
        else {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest",
              "display": "RESTful Operation"},
        "subtype": [{"system": INTERACTION, "code": code}],
        "action": action,
        "recorded": format_instant(recorded),
        **outcome(status),
        "agent": _agents(access, address),
        "source": source("Passerelle"),
    }
    entities = _entities(segments, query, location, access)
    if entities:
        event["entity"] = entities
    return event


def outcome(status: int) -> dict:
    """AuditEvent.outcome of an HTTP answer: success, minor failure (4xx), serious (5xx)."""
    return {"outcome": "0" if status < 400 else "4" if status < 500 else "8", "outcomeDesc": f"HTTP {status}"}


def source(observer: str) -> dict:
    return {"observer": {"display": observer},
            "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4",
                      "display": "Application Server"}]}


def _agents(access, address: str | None) -> list[dict]:
    user = {"requestor": True, "type": {"coding": [{"system": DCM, "code": "110153", "display": "Source Role ID"}]}}
    if access.user and "/" in access.user:
        user["who"] = {"reference": access.user.split("/fhir/")[-1] if "/fhir/" in access.user else access.user}
    elif access.user:
        user["who"] = {"identifier": {"system": "urn:passerelle:user", "value": access.user}}
    elif access.client_id:
        user["who"] = {"identifier": {"system": CLIENT_SYSTEM, "value": access.client_id}}
    else:
        user["who"] = {"display": "unauthenticated"}
    if address:
        user["network"] = {"address": address, "type": "2"}
    agents = [user]
    if access.client_id and access.user:
        agents.append({"requestor": False, "who": {"identifier": {"system": CLIENT_SYSTEM, "value": access.client_id}},
                       "type": {"coding": [{"system": DCM, "code": "110150", "display": "Application"}]}})
    return agents


def _entities(segments: list[str], query: str, location: str | None, access) -> list[dict]:
    entities = []
    target = None
    if location:  # a create or update: the resource written
        parts = location.split("/fhir/")[-1].split("/")
        target = "/".join(parts[:2]) if len(parts) >= 2 else None
    elif len(segments) >= 2 and segments[1] not in SPECIAL and not segments[1].startswith("$"):
        target = f"{segments[0]}/{segments[1]}"
    if target:
        entities.append({"what": {"reference": target},
                         "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"}})
    elif segments and not segments[0].startswith("$"):
        names = sorted({k for k, _ in parse_qsl(query, keep_blank_values=True)})
        entity = {"type": {"system": ENTITY_TYPE, "code": "2"}, "name": segments[0]}
        if names:  # parameter names only: values may be names or birth dates
            entity["detail"] = [{"type": "parameters", "valueString": ",".join(names)}]
        entities.append(entity)
    patient = access.patient or (target.split("/")[1] if target and target.startswith("Patient/") else None)
    if patient:
        entities.append({"what": {"reference": f"Patient/{patient}"},
                         "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                         "role": {"system": ENTITY_ROLE, "code": "1", "display": "Patient"}})
    return entities
