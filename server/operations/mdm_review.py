"""The review queue's decisions: ``Task/[id]/$mdm-confirm`` and ``Task/[id]/$mdm-reject``.

A review Task (server.mdm.review) asks whether its focus (a Patient or Practitioner) is
the same person as the candidate golden record. Confirm: the record leaves its own
golden record (retired when it has no other source) and joins the candidate's; the
Task is completed. Reject: the Task is rejected and nothing moves.

A Task raised by an edit (question ``still-same-person``: the record is linked to the
candidate already): confirm keeps it there, reject moves it to a golden record of its
own. Either way the link is then a person's decision (marked ``manual``): a later edit
that makes it doubtful asks again rather than moving it.
"""

from __future__ import annotations

from ..api.outcome import Answer
from ..errors import Unprocessable
from ..mdm import golden
from ..mdm.listener import mdm_of
from ..mdm.review import REVIEW_CODE, STILL_SAME, task_input
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
    if old != candidate or not golden.is_manual(source):
        golden.add_link(source, "golden", candidate, manual=True)
        call.uow.update(source, source_id, if_match=current.version_id)
    if old and old != candidate:
        golden.detach(call.uow, old, rtype, source_id)
    return _close(call, stored, task, "completed", "confirmed: same person")


@operation("mdm-reject", definition="urn:passerelle:OperationDefinition/mdm-reject", levels=("instance",),
           resource_types=("Task",), affects_state=True,
           documentation="Reject a match review Task: the records stay apart")
def reject(call: OperationCall) -> Answer:
    stored, task = _open_review(call)
    if task_input(task, "question") == STILL_SAME:
        _separate(call, task)
    return _close(call, stored, task, "rejected", "rejected: different people")


def _separate(call: OperationCall, task: dict) -> None:
    """The record leaves the golden record it was linked to, for one of its own."""
    rtype, source_id = task["focus"]["reference"].split("/")[-2:]
    candidate = task_input(task, "candidate")["reference"].split("/")[-1]
    current = call.uow.read(rtype, source_id)
    source = current.resource()
    if golden.golden_of(source) != candidate:
        return  # moved meanwhile: nothing to undo
    golden.remove_link(source, "golden", candidate)
    golden.add_link(source, "golden", golden.new_golden(call.uow, source_id, source, _rules(call, rtype)), manual=True)
    call.uow.update(source, source_id, if_match=current.version_id)
    golden.detach(call.uow, candidate, rtype, source_id)


def _rules(call: OperationCall, rtype: str):
    return mdm_of(call.ctx).models[rtype].survivorship
