"""Claim/$submit and Claim/$inquire (Da Vinci PAS 2.x shapes), and the coordinator's review.

$submit checks the PAS Bundle, stores the Claim (pointing at our resources), adjudicates
it by the site rules, stores the ClaimResponse and, when items are pended, a Task for a
coordinator. Completing that Task with a decision (Task.output ``decision``: A1, A3, or A6
with the ``authorized-quantity`` certified, optionally per ``itemSequence``) writes the new
answer: a new ClaimResponse version.
$inquire finds the current answer from the Claim's identifier.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from ..errors import BadRequest, FhirError, NotFound, Unprocessable
from ..search.service import find_ids
from ..storage.repository import StoredResource
from . import adjudicate, pas_bundle
from .adjudicate import APPROVED, CERTIFIED, DENIED, MODIFIED, PENDED, X12_306, Decision
from .fhirtime import format_instant, to_aware
from .lookup import codings, identifier_token, search
from .rules import load_rules

TASK_CODE = {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "approve"}],
             "text": "Review prior authorization"}
DECISION = "http://passerelle.example/CodeSystem/task-output"
ITEM_SEQUENCE = "http://passerelle.example/StructureDefinition/item-sequence"
AUTHORIZED_QUANTITY = "http://passerelle.example/StructureDefinition/authorized-quantity"


def submit(uow, settings, bundle: dict | None) -> tuple[int, list[StoredResource]]:
    """(status, [ClaimResponse, Claim, Task?]) for a PAS request Bundle."""
    claim = pas_bundle.check(bundle)
    existing = _claim_by_identifier(uow, claim)
    if existing is not None:  # the same request again (a retry): its current answer
        return 200, answer(uow, existing)
    local = pas_bundle.localize(uow, bundle, claim)
    claim_id = str(uuid.uuid4())
    stored_claim = uow.create(local, fhir_id=claim_id)
    local = stored_claim.resource()
    now = to_aware(uow.now)
    rules = load_rules(settings.claim_rules)
    authorized = adjudicate.authorized_services(uow, local)
    decisions = [adjudicate.decide(item, local, rules,
                                   adjudicate.covered_on(uow, local, adjudicate.service_date(item, local, now)),
                                   authorized)
                 for item in local["item"]]
    response = uow.create(adjudicate.response_for(local, claim_id, decisions, now))
    stored = [response, stored_claim]
    if any(d.action == PENDED for d in decisions):
        stored.append(uow.create(_review_task(local, claim_id, response.id, decisions, now)))
    return 201, stored


def _claim_by_identifier(uow, claim: dict) -> dict | None:
    token = identifier_token((claim.get("identifier") or [None])[0])
    if token is None:
        return None
    found = search(uow, "Claim", [("identifier", token)], limit=2)
    return found[0] if found else None


def inquire(uow, given: dict | None, identifier: str | None) -> list[StoredResource]:
    """The current answer for the Claim a PAS inquiry Bundle (or an identifier token) designates."""
    if identifier is None:
        if not isinstance(given, dict) or given.get("resourceType") != "Bundle":
            raise BadRequest("Claim/$inquire takes a PAS inquiry Bundle (the Claim first) or an 'identifier'",
                             code="required", expression="resource")
        entries = given.get("entry") or []
        claim = (entries[0].get("resource") or {}) if entries else {}
        if claim.get("resourceType") != "Claim":
            raise BadRequest("The first entry of the Bundle must be the Claim", code="required",
                             expression="Bundle.entry[0].resource")
        identifier = identifier_token((claim.get("identifier") or [None])[0])
        if identifier is None:
            raise BadRequest("The Claim has no identifier to inquire by", code="required",
                             expression="Bundle.entry[0].resource.identifier")
    found = search(uow, "Claim", [("identifier", identifier)], limit=2)
    if not found:
        raise NotFound(f"No Claim has the identifier {identifier}", expression="Claim.identifier")
    return answer(uow, found[0])


def answer(uow, claim: dict) -> list[StoredResource]:
    """[ClaimResponse, Claim, open review Task...] as stored now."""
    claim_ref = f"Claim/{claim['id']}"
    responses = uow.read_many([pid for _, pid in _ids(uow, "ClaimResponse", [("request", claim_ref)])])
    tasks = uow.read_many([pid for _, pid in _ids(uow, "Task", [("focus", claim_ref)])])
    if not responses:
        raise NotFound(f"{claim_ref} has no ClaimResponse")
    return [responses[-1], uow.read("Claim", claim["id"]), *tasks]


def _ids(uow, kind: str, params):
    return find_ids(uow, kind, params, strict=True, limit=100)


def _review_task(claim: dict, claim_id: str, response_id: str, decisions: list[Decision], now) -> dict:
    pended = [str(item["sequence"]) for item, d in zip(claim["item"], decisions) if d.action == PENDED]
    task = {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "priority": "routine",
        "code": TASK_CODE,
        "description": f"Review prior authorization items {', '.join(pended)}",
        "focus": {"reference": f"Claim/{claim_id}"},
        "for": claim["patient"],
        "authoredOn": format_instant(now),
        "input": [{"type": {"text": "ClaimResponse"}, "valueReference": {"reference": f"ClaimResponse/{response_id}"}}],
    }
    if claim.get("provider", {}).get("reference"):
        task["requester"] = claim["provider"]
    return task


def is_review(task: dict) -> bool:
    return any(c.get("code") == "approve" for c in codings(task.get("code"))) and \
        (task.get("focus") or {}).get("reference", "").startswith("Claim/")


def decisions_of(task: dict) -> tuple[Decision | None, dict[int, Decision]]:
    """(decision for every pended item, {itemSequence: decision}) from Task.output."""
    general, by_item = None, {}
    for i, output in enumerate(task.get("output", [])):
        if not any(c.get("system") == DECISION and c.get("code") == "decision" for c in codings(output.get("type"))):
            continue
        code = next((c.get("code") for c in codings(output.get("valueCodeableConcept"))
                     if c.get("system") == X12_306), None)
        if code not in (APPROVED, MODIFIED, DENIED):
            raise Unprocessable("A decision is A1 (certified), A6 (modified: certified for the "
                                "authorized-quantity given) or A3 (not certified) from " + X12_306,
                                code="invalid", expression=f"Task.output[{i}].valueCodeableConcept")
        extensions = {e.get("url"): e for e in output.get("extension", [])}
        quantity = _authorized_quantity(extensions.get(AUTHORIZED_QUANTITY), code, i)
        decision = Decision(code, "decided by a coordinator", quantity)
        sequence = (extensions.get(ITEM_SEQUENCE) or {}).get("valuePositiveInt")
        if sequence is None:
            general = decision
        else:
            by_item[sequence] = decision
    return general, by_item


def _authorized_quantity(extension: dict | None, code: str, index: int) -> Decimal | None:
    where = f"Task.output[{index}].extension"
    if code != MODIFIED:
        if extension is not None:
            raise Unprocessable(f"An authorized-quantity goes with an A6 decision only, not {code}",
                                code="invalid", expression=where)
        return None
    try:
        quantity = Decimal(str((extension or {})["valueDecimal"]))
    except (KeyError, InvalidOperation):
        raise Unprocessable(f"An A6 decision needs the quantity certified ({AUTHORIZED_QUANTITY}, valueDecimal)",
                            code="required", expression=where) from None
    if quantity <= 0:
        raise Unprocessable("The authorized-quantity of an A6 decision is above zero (zero is A3)",
                            code="invalid", expression=where)
    return quantity


def apply_review(uow, task: dict) -> None:
    """A completed review Task: its decisions replace the pended items' answers."""
    general, by_item = decisions_of(task)
    response_ref = next((i["valueReference"]["reference"] for i in task.get("input", [])
                         if (i.get("valueReference") or {}).get("reference", "").startswith("ClaimResponse/")), None)
    if response_ref is None:
        raise Unprocessable("The review Task names no ClaimResponse in its input", expression="Task.input")
    stored = uow.read(*response_ref.split("/"))
    response = stored.resource()
    claim_id = response["request"]["reference"].split("/")[-1]
    claim = uow.read("Claim", claim_id).resource()
    by_sequence = {item["sequence"]: item for item in claim["item"]}
    decisions, missing = [], []
    for item in response["item"]:
        action = adjudicate.action_of(item)
        if action == PENDED:
            decision = by_item.get(item["itemSequence"], general)
            if decision is None:
                missing.append(str(item["itemSequence"]))
                continue
            requested = adjudicate.quantity_of(by_sequence[item["itemSequence"]])
            if decision.action == MODIFIED and decision.quantity >= requested:
                raise Unprocessable(f"Item {item['itemSequence']}: an A6 decision certifies less than the "
                                    f"{requested} requested (else it is A1)", code="invalid",
                                    expression="Task.output")
            decisions.append((item["itemSequence"], decision))
        else:
            decisions.append((item["itemSequence"], None))
    if missing:
        raise Unprocessable(f"Completing this review needs a decision for items {', '.join(missing)} "
                            f"(Task.output of type {DECISION}#decision)", code="required", expression="Task.output")
    now = to_aware(uow.now)
    number = response.get("preAuthRef") or (adjudicate.pre_auth_number(claim_id)
                                            if any(d and d.action in CERTIFIED for _, d in decisions) else None)
    if claim["use"] != "preauthorization":
        number = None
    items, actions = [], []
    for (sequence, decision), old in zip(decisions, response["item"]):
        if decision is None:
            items.append(old)
            actions.append(adjudicate.action_of(old))
        else:
            items.append(adjudicate.item_adjudication(by_sequence[sequence], decision, number, now))
            actions.append(decision.action)
    updated = {**response, "item": items, "outcome": adjudicate.outcome(actions),
               "disposition": adjudicate.disposition(actions), "created": format_instant(now)}
    if number:
        updated["preAuthRef"] = number
    if claim["use"] == "claim":
        updated.update(adjudicate.payable(claim, items))
    uow.update(updated, response["id"], if_match=stored.version_id)


class ReviewTasks:
    """Store listener: a review Task becoming completed updates the ClaimResponse."""

    def begin(self, uow, *, write: bool) -> None:
        pass

    def writing(self, uow, resource_type: str, fhir_id: str, resource: dict | None) -> None:
        if resource_type != "Task" or not resource or resource.get("status") != "completed" or not is_review(resource):
            return
        try:
            previous = uow.read("Task", fhir_id).resource()
        except FhirError:  # new (NotFound) or deleted (Gone)
            previous = None
        if previous is not None and previous.get("status") == "completed":
            return
        apply_review(uow, resource)

