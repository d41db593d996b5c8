"""What one request may do: the grants of its access token, held for the request.

Scopes become ``Grant``s (SMART v1 ``.read``/``.write`` read as v2 letters). A grant
restricts rows in two ways: a ``patient/`` grant on a type of the Patient compartment
only reaches that patient's compartment (outside the compartment, only ``SHARED_TYPES``,
whole), and a query-narrowed grant (``patient/Observation.rs?category=laboratory``) only
reaches resources matching its query. Wildcard grants (``*``) never reach the audit trail: AuditEvent needs a grant
that names it. A Schedule naming no Patient (a practitioner's) is availability, not patient
data: patient/ grants reach it (``SHARED_UNLESS_NAMING_PATIENT``).

The current Access lives in a context variable: the middleware sets it for each HTTP
request, and work done outside a request (CLI, background jobs) runs with ``INTERNAL``.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import parse_qsl

from ..auth.scopes import resource_scope
from ..errors import Forbidden

LETTERS = {"create": "c", "read": "r", "update": "u", "delete": "d", "search": "s"}
EXPLICIT_ONLY = frozenset({"AuditEvent"})  # not reached by a "*" grant
# Types outside the Patient compartment that hold no patient's data (directories, drugs,
# definitions, terminology): a patient/ grant reaches them whole. Any other type outside
# the compartment (Binary, Bundle, Task, Linkage, MessageHeader, Contract...) may hold
# some patient's data with no compartment link to tell whose: a patient/ grant reaches none.
SHARED_TYPES = frozenset({
    "Practitioner", "PractitionerRole", "Organization", "OrganizationAffiliation", "Location",
    "HealthcareService", "Endpoint", "InsurancePlan", "Slot", "Medication", "MedicationKnowledge", "Substance",
    "DeviceDefinition", "ActivityDefinition", "PlanDefinition", "Questionnaire", "Library", "Measure",
    "ObservationDefinition", "SpecimenDefinition", "EventDefinition", "CodeSystem", "ValueSet", "ConceptMap",
    "NamingSystem", "StructureDefinition", "SearchParameter", "OperationDefinition", "CapabilityStatement",
    "CompartmentDefinition", "TerminologyCapabilities", "ImplementationGuide", "GraphDefinition", "MessageDefinition",
})
# Types of the Patient compartment that hold no patient's data when no Patient is named in
# the parameter given: a practitioner's or a room's Schedule is availability, which a
# patient's app must read to book. A patient/ grant reaches those whole, and the patient's own.
SHARED_UNLESS_NAMING_PATIENT = {"Schedule": "actor"}


@dataclass(frozen=True)
class Grant:
    context: str  # patient | user | system
    resource_type: str  # a type or "*"
    permissions: frozenset[str]  # letters of "cruds"
    query: tuple[tuple[str, str], ...] = ()  # narrowing search criteria

    def applies(self, letter: str, resource_type: str) -> bool:
        if letter not in self.permissions:
            return False
        if self.resource_type == "*":
            return resource_type not in EXPLICIT_ONLY
        return self.resource_type == resource_type


def grants_of(scopes) -> tuple[Grant, ...]:
    grants = []
    for scope in scopes:
        parsed = resource_scope(scope)
        if parsed is None:
            continue  # openid, launch, offline_access...: not about resources
        context, rtype, letters, query = parsed
        grants.append(Grant(context, rtype, frozenset(letters), tuple(parse_qsl(query.lstrip("?")))))
    return tuple(grants)


@dataclass(frozen=True)
class Access:
    """``internal``: no token involved (auth disabled, CLI, background work): no limit."""

    grants: tuple[Grant, ...] = ()
    patient: str | None = None  # the patient of patient/ grants
    client_id: str | None = None
    user: str | None = None  # fhirUser reference or username
    internal: bool = False

    @classmethod
    def of_token(cls, token) -> Access:
        return cls(grants_of(token.scopes), token.patient, token.client_id, token.user)

    def grants_for(self, letter: str, resource_type: str) -> list[Grant]:
        grants = [g for g in self.grants if g.applies(letter, resource_type)]
        # A patient/ grant without a patient in the token reaches nothing.
        return [g for g in grants if g.context != "patient" or self.patient]

    def allows(self, letter: str, resource_type: str) -> bool:
        return self.internal or bool(self.grants_for(letter, resource_type))

    def require(self, letter: str, resource_type: str) -> None:
        if not self.allows(letter, resource_type):
            raise Forbidden(f"The access token does not permit '{letter}' on {resource_type} "
                            f"(scopes needed: e.g. user/{resource_type}.{letter})")

    def require_any(self, letters: str, resource_type: str) -> None:
        if not any(self.allows(letter, resource_type) for letter in letters):
            raise Forbidden(f"The access token does not permit any of '{letters}' on {resource_type}")

    def unrestricted(self, letter: str, resource_type: str, members: frozenset[str]) -> bool:
        """True when some grant reaches every resource of the type (no row filter needed)."""
        if self.internal:
            return True
        return any(not restricts(g, resource_type, members) for g in self.grants_for(letter, resource_type))

    def system_wide(self, letter: str) -> bool:
        """A ``user/`` or ``system/`` grant on every type, unnarrowed (system-level operations)."""
        return self.internal or any(g.resource_type == "*" and g.context != "patient" and not g.query
                                    and letter in g.permissions for g in self.grants)


def restricts(grant: Grant, resource_type: str, members: frozenset[str]) -> bool:
    """The grant reaches only some resources of the type (or, for a patient grant on a
    type that may hold anyone's data outside the compartment, none)."""
    return bool(grant.query) or (grant.context == "patient"
                                 and (resource_type in members or resource_type not in SHARED_TYPES))


INTERNAL = Access(internal=True)
ANONYMOUS = Access()  # no valid token: reaches nothing
_current: ContextVar[Access] = ContextVar("passerelle_access", default=INTERNAL)


def current() -> Access:
    return _current.get()


@contextmanager
def acting_as(access: Access):
    token = _current.set(access)
    try:
        yield access
    finally:
        _current.reset(token)


def set_current(access: Access) -> None:
    """For the middleware: the request's task ends with it, so nothing needs resetting."""
    _current.set(access)
