"""The review queue: a Task per doubtful match, for a coordinator to confirm or reject.

``Task.focus`` is the source record, ``Task.input`` the candidate golden record, the
match grade, score and the evidence (each compared field: its agreement level and
weight). Open tasks are ``status=requested``; ``$mdm-confirm`` / ``$mdm-reject``
(server.operations.mdm_review) close them.
"""

from __future__ import annotations

from .golden import TAG_SYSTEM
from .matcher import Candidate

STILL_SAME = "still-same-person"  # question of a Task raised by an edit: is the record still its golden's person?
REVIEW_CODE = {"system": TAG_SYSTEM, "code": "match-review", "display": "Review a possible duplicate"}


def _input(label: str, **value) -> dict:
    return {"type": {"coding": [{"system": TAG_SYSTEM, "code": label}], "text": label}, **value}


def create_review(uow, resource_type: str, source_id: str, candidate: Candidate, *, question: str | None = None) -> str:
    """A Task asking whether the record is the candidate's person: confirm links it there
    (``same-person``, the default) or, for ``STILL_SAME`` (the record is linked there
    already and an edit made it doubtful), keeps it there; reject keeps it apart
    (``STILL_SAME``: gives it a golden record of its own)."""
    score = candidate.score
    asked = (f"Is {resource_type}/{source_id} still the same person as {resource_type}/{candidate.golden_id} "
             f"after an edit?" if question == STILL_SAME else
             f"Is {resource_type}/{source_id} the same person as {resource_type}/{candidate.golden_id}?")
    task = {
        "resourceType": "Task",
        "meta": {"tag": [{"system": TAG_SYSTEM, "code": "match-review"}]},
        "status": "requested",
        "intent": "proposal",
        "priority": "routine",
        "code": {"coding": [REVIEW_CODE]},
        "description": f"{asked} ({score.grade or 'no match'}, match probability {score.probability:.4f})",
        "focus": {"reference": f"{resource_type}/{source_id}"},
        "authoredOn": uow.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "input": [
            _input("candidate", valueReference={"reference": f"{resource_type}/{candidate.golden_id}"}),
            *([_input("candidate-source", valueReference={"reference": f"{resource_type}/{candidate.source_id}"})]
              if candidate.source_id else []),
            _input("question", valueCode=question or "same-person"),
            *([_input("grade", valueCode=score.grade)] if score.grade else []),
            _input("probability", valueDecimal=round(score.probability, 6)),
            _input("weight", valueDecimal=round(score.weight, 3)),
            *(_input("evidence", valueString=f"{e.field}: {e.level} ({e.weight:+.2f})") for e in score.evidence),
        ],
    }
    if resource_type == "Patient":
        task["for"] = {"reference": f"Patient/{source_id}"}
    return uow.create(task).id


def task_input(task: dict, label: str):
    for item in task.get("input") or []:
        if (item.get("type") or {}).get("text") == label:
            for key, value in item.items():
                if key.startswith("value"):
                    return value
    return None
