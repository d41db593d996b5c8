"""Type-level operations that change state, run by a patient's own app (``patient/`` token).

A type-level change reaches every resource of its type, so the generic rule
(``server.operations.registry.authorize``) asks for ``user/`` or ``system/`` grants. An
operation may declare instead that everything it writes stays in one patient's
compartment (``Operation.patient_compartment``: the patient its parameters name, e.g.
``Appointment/$book``'s Patient participant). A patient token then runs it when:

1. it holds ``c`` and ``u`` on the operation's type;
2. the patient the call names is the token's patient (else 403);
3. while it runs, every resource it updates or deletes of a compartment type was within
   the token's reach before, and every one it writes is within it after (403, and the
   whole call is rolled back). Resources of the shared directory types it touches (the
   Slots a booking marks busy) are the server's own bookkeeping, not patient data; any
   other type written is refused.
"""

from __future__ import annotations

from ..errors import Forbidden
from .access import SHARED_TYPES, Access
from .criteria import compartment_members
from .guard import can_see


def patient_may_run(call, op) -> bool:
    """True when the call may go on as the token's patient's own (rule 1 and 2); it then
    watches the call's writes (rule 3, ``check_writes`` after the handler)."""
    access: Access = call.access
    if op.patient_compartment is None or access.patient is None:
        return False
    members = compartment_members(call.uow.store.registry)
    if all(access.unrestricted(letter, call.resource_type, members) for letter in "cu"):
        return False  # user/ or system/ grants: the generic rule applies
    for letter in "cu":
        access.require(letter, call.resource_type)
    named = op.patient_compartment(call)
    if named != access.patient:
        raise Forbidden(f"${op.name} with a patient token acts for the token's patient only "
                        f"(Patient/{access.patient}); this call names "
                        f"{f'Patient/{named}' if named else 'no single patient'}")
    call.uow.compartment_writes = CompartmentWrites(access)
    return True


class CompartmentWrites:
    """The writes of one patient-run operation, checked before and after (rule 3)."""

    def __init__(self, access: Access):
        self.access = access
        self.written: list[tuple[str, str]] = []

    def writing(self, uow, resource_type: str, fhir_id: str) -> None:
        """Called by the store listener before each write."""
        if resource_type in SHARED_TYPES:
            return  # bookkeeping of the server (Slot status)
        if resource_type not in compartment_members(uow.store.registry):
            raise Forbidden(f"This operation would write a {resource_type}, which a patient token cannot")
        if uow.pid_of(resource_type, fhir_id) is not None and not can_see(uow, self.access, "u", resource_type,
                                                                            fhir_id):
            raise Forbidden(f"This operation would change {resource_type}/{fhir_id}, "
                            f"which is not in Patient/{self.access.patient}'s compartment")
        self.written.append((resource_type, fhir_id))

    def check(self, uow) -> None:
        """After the handler, inside its transaction: every write stayed in the compartment."""
        for resource_type, fhir_id in self.written:
            if uow.pid_of(resource_type, fhir_id) is None:
                continue  # deleted: judged before
            if not can_see(uow, self.access, "u", resource_type, fhir_id):
                raise Forbidden(f"This operation would file {resource_type}/{fhir_id} outside "
                                f"Patient/{self.access.patient}'s compartment")


def check_writes(call) -> None:
    watch = getattr(call.uow, "compartment_writes", None)
    if watch is not None:
        call.uow.compartment_writes = None  # the next entry of a transaction is judged on its own
        watch.check(call.uow)
