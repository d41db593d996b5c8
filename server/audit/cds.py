"""An AuditEvent for one CDS Hooks call (a service call or its feedback).

Shaped like the REST ones (server.audit.events): who called (the EHR, by its JWT ``iss``
and ``sub``; the clinician by the hook's ``context.userId``), which service and hook, the
patient (``context.patientId``), the outcome. Only ids: no prefetched data, no card text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..storage.repository import format_instant
from .events import DCM, ENTITY_ROLE, ENTITY_TYPE, outcome, source

HOOKS = "https://cds-hooks.hl7.org/hooks"  # the hook names (patient-view, order-select ...)
SERVICES = "urn:passerelle:cds-service"
CDS_CLIENT = "urn:passerelle:cds-client"  # the JWT iss of a trusted EHR


@dataclass(frozen=True)
class CdsCall:
    service: str  # the service id called
    feedback: bool = False  # a call of {service}/feedback
    issuer: str | None = None  # verified JWT iss (None: not verified)
    subject: str | None = None  # its sub
    hook: str | None = None
    hook_instance: str | None = None
    patient: str | None = None  # context.patientId
    user: str | None = None  # context.userId, e.g. Practitioner/123


def cds_event(call: CdsCall, *, status: int, address: str | None, recorded: datetime) -> dict:
    event = {
        "resourceType": "AuditEvent",
        "type": {"system": DCM, "code": "110112", "display": "Query"} if not call.feedback
        else {"system": DCM, "code": "110100", "display": "Application Activity"},
        "action": "C" if call.feedback else "E",
        "recorded": format_instant(recorded),
        **outcome(status),
        "agent": _agents(call, address),
        "source": source("Passerelle CDS Hooks"),
        "entity": _entities(call),
    }
    if call.hook:
        event["subtype"] = [{"system": HOOKS, "code": call.hook}]
    return event


def _agents(call: CdsCall, address: str | None) -> list[dict]:
    ehr = {"requestor": True, "type": {"coding": [{"system": DCM, "code": "110150", "display": "Application"}]}}
    if call.issuer:
        ehr["who"] = {"identifier": {"system": CDS_CLIENT, "value": call.issuer}}
        if call.subject:
            ehr["altId"] = call.subject
    else:
        ehr["who"] = {"display": "unauthenticated"}
    if address:
        ehr["network"] = {"address": address, "type": "2"}
    agents = [ehr]
    if call.user and call.issuer:  # the EHR's word for who is at the keyboard: an id only
        who = {"reference": call.user} if "/" in call.user else {"identifier": {"value": call.user}}
        agents.append({"requestor": True, "who": who,
                       "type": {"coding": [{"system": DCM, "code": "110153", "display": "Source Role ID"}]}})
    return agents


def _entities(call: CdsCall) -> list[dict]:
    service = {"what": {"identifier": {"system": SERVICES, "value": call.service}},
               "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"}}
    if call.hook_instance:
        service["detail"] = [{"type": "hookInstance", "valueString": call.hook_instance}]
    entities = [service]
    if call.patient:
        entities.append({"what": {"reference": f"Patient/{call.patient}"},
                         "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                         "role": {"system": ENTITY_ROLE, "code": "1", "display": "Patient"}})
    return entities
