"""The CDS services this server offers: discovery is generated from this registry.

A service is its discovery entry (hook, id, title, description, prefetch templates) and
a handler ``(ctx, HookRequest) -> list[card]``. Prefetch keys are the ones the handlers
read (``server.alerts`` needs the patient's medications and allergies); each falls back
to the store when the CDS client sends nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

PATIENT = "{{context.patientId}}"

# Prefetch keys -> FHIR queries (CDS Hooks 2.0 prefetch templates).
PREFETCH = {
    "patient": f"Patient/{PATIENT}",
    "medicationRequests": f"MedicationRequest?subject=Patient/{PATIENT}&status=active,on-hold,draft",
    "medicationStatements": f"MedicationStatement?subject=Patient/{PATIENT}&status=active,intended,on-hold",
    "allergies": f"AllergyIntolerance?patient=Patient/{PATIENT}",
}

# The prefetch key of each type the checks read.
PREFETCH_KEYS = {"MedicationRequest": "medicationRequests", "MedicationStatement": "medicationStatements",
                 "AllergyIntolerance": "allergies"}


@dataclass(frozen=True)
class Service:
    id: str
    hook: str
    title: str
    description: str
    handler: Callable
    prefetch: dict[str, str] = field(default_factory=lambda: dict(PREFETCH))

    def discovery(self) -> dict:
        return {"hook": self.hook, "id": self.id, "title": self.title, "description": self.description,
                "prefetch": self.prefetch}


SERVICES: dict[str, Service] = {}


def service(id: str, hook: str, title: str, description: str):
    """Register a handler as a CDS service."""

    def register(handler: Callable) -> Callable:
        if id in SERVICES:
            raise ValueError(f"CDS service {id!r} is registered twice")
        SERVICES[id] = Service(id, hook, title, description, handler)
        return handler

    return register


def discovery() -> dict:
    return {"services": [s.discovery() for s in SERVICES.values()]}
