"""Closing a field review Task writes the reviewed value into the record.

A scanned form's field that was not trusted became a Task (code
``urn:passerelle:form-review#review-field``, ``focus`` its QuestionnaireResponse,
``input`` linkId, candidate, image...). A coordinator closes it by an update (PUT, PATCH,
or a transaction entry) that moves it from an open status to:

- ``completed`` with the value in ``Task.output`` (type ``urn:passerelle:form-review#value``,
  see mappers.forms.review for the value[x] each field takes): the value passes the field's
  check, then, in the transaction of the Task's update, it becomes the answer of the
  QuestionnaireResponse and is written where the field maps to (Patient name, birth date,
  identifier..., the referring Practitioner, Coverage, AllergyIntolerance), with a
  Provenance naming the reviewer (the access token's user, else its client) and the Task,
  which the Task lists in ``relevantHistory``. A value failing its check is refused (422)
  and nothing is written, the Task included.
- ``rejected``: nothing is stored; the Task is closed.

Either way the QuestionnaireResponse becomes ``completed`` once none of its review Tasks
is open. The field and the form are taken from the Task as it was stored, never from the
update: a reviewer cannot redirect a Task to another field or another record. Writes to
the record go through the same authorization as the reviewer's own requests would.
"""

from __future__ import annotations

from mappers.forms import Template
from mappers.forms.bundle import REVIEW, allergy, answer_item, coverage, person_element
from mappers.forms.review import VALUE, value_output, reviewed_value

from ..api import interactions
from ..authz.access import current
from ..errors import FhirError, Unprocessable
from ..search.service import find_ids
from ..storage.repository import format_instant
from .intake import site_templates

OPEN = frozenset({"draft", "requested", "received", "accepted", "ready", "in-progress", "on-hold"})
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


def is_field_review(task: dict) -> bool:
    return any(c.get("system") == REVIEW and c.get("code") == "review-field"
               for c in (task.get("code") or {}).get("coding") or [])


def _input(task: dict, kind: str):
    for i in task.get("input") or []:
        if (i.get("type") or {}).get("text") == kind:
            return next((v for k, v in i.items() if k.startswith("value")), None)
    return None


class FormReviews:
    """Store listener: a field review Task leaving the open statuses closes into the record."""

    def __init__(self, settings):
        self.settings = settings

    def begin(self, uow, *, write: bool) -> None:
        pass

    def writing(self, uow, resource_type: str, fhir_id: str, resource: dict | None) -> None:
        if resource_type != "Task" or not resource or resource.get("status") not in ("completed", "rejected"):
            return
        try:
            before = uow.read("Task", fhir_id).resource()
        except FhirError:  # created closed (NotFound) or deleted (Gone): nothing was under review
            return
        if not is_field_review(before) or before.get("status") not in OPEN:
            return
        Review(uow, site_templates(self.settings.form_templates_dir), before, fhir_id).close(resource)


class Review:
    def __init__(self, uow, templates: dict[str, Template], task: dict, task_id: str):
        self.uow, self.task, self.task_id = uow, task, task_id
        self.link_id = _input(task, "linkId")
        self.qr_ref = (task.get("focus") or {}).get("reference", "")
        if not self.link_id or not self.qr_ref.startswith("QuestionnaireResponse/"):
            raise Unprocessable(f"Task/{task_id} names no field (input linkId) or no QuestionnaireResponse (focus)",
                                expression="Task.input")
        self.qr_id = self.qr_ref.split("/")[1]
        # Two reviews of one form at once: the second waits, then reads what the first wrote.
        uow.lock([f"form-review|{self.qr_ref}"])
        self.versions: dict[str, int] = {}  # what this review read, by reference: updated only if unchanged
        self.qr = self._read(self.qr_ref)
        self.template = next((t for t in templates.values() if t.canonical == self.qr.get("questionnaire")), None)
        if self.template is None:
            raise Unprocessable(f"No form template has the Questionnaire {self.qr.get('questionnaire')!r} "
                                f"of {self.qr_ref}", expression="QuestionnaireResponse.questionnaire")
        self.field = self.template.field(self.link_id)
        if self.field is None:
            raise Unprocessable(f"The form {self.template.id} has no field {self.link_id!r}", expression="Task.input")
        self.written: list[str] = []  # Type/id/_history/n of what the review changed

    def close(self, task: dict) -> None:
        """Apply the Task as the reviewer closes it (amended in place: relevantHistory)."""
        if task["status"] == "completed":
            value, text = self._value(task)
            self._store(value, text)
        self._finish_response(changed=task["status"] == "completed")
        if task["status"] == "completed":
            provenance = self._provenance()
            task["relevantHistory"] = [*task.get("relevantHistory", []), {"reference": provenance}]
            if self.qr.get("subject") and not task.get("for"):  # the review named the patient
                task["for"] = self.qr["subject"]

    def _value(self, task: dict):
        found = value_output(task)
        if found is None:
            raise Unprocessable(f"Completing the review of '{self.field.label}' needs its value in Task.output "
                                f"(type {REVIEW}#{VALUE}), or status 'rejected' to store nothing",
                                code="required", expression="Task.output")
        n, output = found
        checked = reviewed_value(self.template, self.field, output)
        if not checked.ok:
            raise Unprocessable(f"'{self.field.label}' ({self.link_id}) is not stored: {checked.problem}",
                                code="invalid", expression=f"Task.output[{n}]")
        text = output.get("valueString") or ""
        return checked.value, text

    # -- where the value goes ------------------------------------------------------------

    def _store(self, value, text: str) -> None:
        kind = self.link_id.split(".", 1)[0]
        items = {i["linkId"]: i for i in self.qr.get("item", [])}
        items[self.link_id] = answer_item(self.field, value, text, self.template)
        order = [f.link_id for f in self.template.fields]
        self.qr["item"] = sorted(items.values(), key=lambda i: order.index(i["linkId"]) if i["linkId"] in order
                                 else len(order))
        if kind in ("patient", "practitioner"):
            self._person(kind, value)
        elif kind == "coverage":
            self._coverage()
        elif self.link_id == "allergies":
            patient = self._patient_needed()
            for concept in value:
                self._create(allergy(concept, patient, format_instant(self.uow.now)))
        # any other item (medications, referral, tick boxes...) lives in the QuestionnaireResponse only

    def _person(self, kind: str, value) -> None:
        element = "subject" if kind == "patient" else "author"
        reference = (self.qr.get(element) or {}).get("reference")
        if reference:
            resource = self._read(reference)
            person_element(resource, self.link_id, value, self.template)
            self._update(resource)
            return
        # Nobody was named surely at intake: the record is built, as at intake, from every
        # answer about them so far, once a name or an identifier is among them.
        resource = {"resourceType": "Patient" if kind == "patient" else "Practitioner"}
        for link_id, answer in _answers(self.qr).items():
            if link_id.startswith(f"{kind}."):
                person_element(resource, link_id, answer, self.template)
        if resource.get("name") or resource.get("identifier"):
            self.qr[element] = {"reference": self._create(resource)}

    def _coverage(self) -> None:
        answers = _answers(self.qr)
        payor = answers.get("coverage.payor")
        if not payor:
            return  # the member number waits in the QuestionnaireResponse for the insurer's review
        patient = self._patient_needed()
        found = [self._read(f"Coverage/{i}")
                 for i, _ in find_ids(self.uow, "Coverage", [("beneficiary", patient)], limit=50)]
        mine = [c for c in found if [p.get("display") for p in c.get("payor", [])] == [payor]] \
            if self.link_id == "coverage.subscriberId" else []
        wanted = coverage(payor, answers.get("coverage.subscriberId"), patient)
        if mine:
            self._update({**mine[0], **{k: v for k, v in wanted.items() if k == "subscriberId"}})
        else:
            self._create(wanted)

    def _patient_needed(self) -> str:
        reference = (self.qr.get("subject") or {}).get("reference")
        if not reference:
            raise Unprocessable(f"'{self.field.label}' belongs to the patient, whom the form does not name yet: "
                                "review the patient's name or identifier first", code="business-rule",
                                expression="Task.focus")
        return reference

    # -- writes (with the reviewer's authorization) --------------------------------------

    def _create(self, resource: dict) -> str:
        stored = interactions.create(self.uow, resource["resourceType"], resource).stored
        self.written.append(f"{stored.reference}/_history/{stored.version_id}")
        return stored.reference

    def _read(self, reference: str) -> dict:
        stored = self.uow.read(*reference.split("/"))
        self.versions[reference] = stored.version_id
        return stored.resource()

    def _update(self, resource: dict) -> None:
        reference = f"{resource['resourceType']}/{resource['id']}"
        version = self.versions.get(reference)
        stored = interactions.update(self.uow, resource["resourceType"], resource["id"], resource,
                                     if_match=f'W/"{version}"' if version else None).stored
        self.versions[reference] = stored.version_id
        self.written.append(f"{stored.reference}/_history/{stored.version_id}")

    def _finish_response(self, *, changed: bool) -> None:
        open_tasks = [i for i, _ in find_ids(self.uow, "Task", [("focus", self.qr_ref)], limit=200)
                      if i != self.task_id and self.uow.read("Task", i).resource().get("status") in OPEN]
        status = "in-progress" if open_tasks else "completed"
        if changed or status != self.qr.get("status"):
            self.qr["status"] = status
            self._update(self.qr)

    def _provenance(self) -> str:
        document = _input(self.task, "document")
        entities = [{"role": "source", "what": {"reference": f"Task/{self.task_id}"}}]
        if isinstance(document, dict) and document.get("reference"):
            entities.append({"role": "source", "what": document})
        stored = self.uow.create({
            "resourceType": "Provenance",
            "target": [{"reference": w} for w in self.written],
            "recorded": format_instant(self.uow.now),
            "activity": {"coding": [{"system": DATA_OPERATION, "code": "UPDATE"}],
                         "text": f"Reviewed '{self.field.label}' ({self.link_id}) of a scanned form"},
            "agent": [{"type": {"coding": [{"system": PARTICIPANT, "code": "verifier"}]}, "who": reviewer()}],
            "entity": entities,
        })
        return stored.reference


def _answers(response: dict) -> dict:
    """{linkId: the stored form of its answer} (a choice: its code)."""
    out = {}
    for item in response.get("item", []):
        for answer in item.get("answer", [])[:1]:
            kind, value = next(((k, v) for k, v in answer.items() if k.startswith("value")), (None, None))
            out[item["linkId"]] = value.get("code") if kind == "valueCoding" else value
    return out


def reviewer() -> dict:
    """Provenance.agent.who for whoever holds the request's access token."""
    access = current()
    if access.user:
        kind = access.user.rstrip("/").split("/")[-2] if access.user.count("/") else ""
        if kind in ("Practitioner", "PractitionerRole", "RelatedPerson", "Patient"):
            return {"reference": "/".join(access.user.rstrip("/").split("/")[-2:]), "display": access.user}
        return {"identifier": {"system": "urn:passerelle:user", "value": access.user}, "display": access.user}
    if access.client_id:
        return {"identifier": {"system": "urn:passerelle:client", "value": access.client_id},
                "display": f"client {access.client_id}"}
    return {"display": "Passerelle (request without an access token: authorization disabled)"}
