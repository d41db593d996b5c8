"""The review queue's decisions: ``Task/[id]/$mdm-confirm`` and ``Task/[id]/$mdm-reject``.

A review Task (server.mdm.review) asks whether its focus (a Patient or Practitioner) is
the same person as the candidate golden record. Confirm: the record leaves its own
golden record (retired when it has no other source) and joins the candidate's; the
Task is completed. Reject: the Task is rejected and nothing moves.
"""

from __future__ import annotations

from ..api.outcome import Answer
from ..errors import Unprocessable
from ..mdm import golden
from ..mdm.review import REVIEW_CODE, task_input
from .registry import OperationCall, operation


def _open_review(call: OperationCall):
    stored = call.uow.read("Task", call.fhir_id)
    task = stored.resource()
    codes = [(c.get("system"), c.get("code")) for c in (task.get("code") or {}).get("coding", [])]
    if (REVIEW_CODE["system"], REVIEW_CODE["code"]) not in codes:
        raise Unprocessable(f"Task/{call.fhir_id} is not a match review Task")
    if task.get("status") != "requested":
        raise Unprocessable(f"Task/{call.fhir_id} was already decided (status {task.get('status')})")
    return stored, task


def _close(call: OperationCall, stored, task: dict, status: str, decision: str) -> Answer:
    task["status"] = status
    task["businessStatus"] = {"text": decision}
    task["lastModified"] = call.uow.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    note = call.value("note")
    if isinstance(note, str) and note:
        task.setdefault("note", []).append({"text": note})
    updated, _ = call.uow.update(task, stored.id, if_match=stored.version_id)
    return Answer(200, stored=updated)


@operation("mdm-confirm", definition="urn:passerelle:OperationDefinition/mdm-confirm", levels=("instance",),
           resource_types=("Task",), affects_state=True,
           documentation="Confirm a match review Task: its record joins the candidate golden record")
def confirm(call: OperationCall) -> Answer:
    stored, task = _open_review(call)
    rtype, source_id = task["focus"]["reference"].split("/")[-2:]
    candidate = task_input(task, "candidate")["reference"].split("/")[-1]
    current = call.uow.read(rtype, source_id)
    source = current.resource()
    old = golden.golden_of(source)
    if old != candidate:
        golden.attach(call.uow, candidate, rtype, source_id)
        if old:
            golden.remove_link(source, "golden", old)
        golden.add_link(source, "golden", candidate)
        call.uow.update(source, source_id, if_match=current.version_id)
        if old:
            golden.detach(call.uow, old, rtype, source_id)
    return _close(call, stored, task, "completed", "confirmed: same person")


@operation("mdm-reject", definition="urn:passerelle:OperationDefinition/mdm-reject", levels=("instance",),
           resource_types=("Task",), affects_state=True,
           documentation="Reject a match review Task: the records stay apart")
def reject(call: OperationCall) -> Answer:
    stored, task = _open_review(call)
    return _close(call, stored, task, "rejected", "rejected: different people")
