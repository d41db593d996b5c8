"""$inbox and $inbox-replay: the HL7 v2 inbox for operators, over FHIR.

``GET [base]/$inbox?state=dead&count=50&before=<id>`` lists received messages newest
first, with the counts per state: ids, sender, MSH-10, message type, state, attempts and
the error (its location, HL7 0357 code and text). Never the message bodies: those stay
in the database (``passerelle inbox show`` for local operators).
``POST [base]/$inbox-replay`` (parameter ``id``, repeatable) queues dead letters again;
the inbox workers map them anew. Replaying anything else changes nothing.
"""

from __future__ import annotations

from ..api.outcome import Answer
from ..errors import BadRequest
from ..inbox import queue, view
from ..inbox.models import STATES
from ..storage.repository import format_instant
from .registry import OperationCall, operation
from .reindex import DEFINITION

MAX_COUNT = 1000


def _int(call: OperationCall, name: str, default: int | None, low: int = 1, high: int = 2**62) -> int | None:
    given = call.value(name)
    if given is None:
        return default
    try:
        number = int(given)
    except (TypeError, ValueError):
        number = low - 1
    if not low <= number <= high:
        raise BadRequest(f"{name} must be an integer from {low} to {high}", expression=name)
    return number


def _message(row) -> dict:
    parts = [("id", "valueInteger", row.id), ("state", "valueCode", row.state), ("channel", "valueCode", row.channel),
             ("received", "valueInstant", format_instant(row.received)), ("sender", "valueString", row.sender),
             ("controlId", "valueString", row.control_id), ("messageType", "valueString", row.message_type),
             ("attempts", "valueInteger", row.attempts),
             ("processed", "valueInstant", format_instant(row.processed) if row.processed else None),
             ("error", "valueString", row.error)]
    return {"name": "message", "part": [{"name": n, kind: v} for n, kind, v in parts if v not in (None, "")]}


@operation("inbox", definition=DEFINITION + "inbox", levels=("system",),
           documentation="Received HL7 v2 messages, newest first, and counts per state (no message bodies). "
                         "Parameters: state (received|processing|done|dead|rejected), count, before (an id).")
def inbox(call: OperationCall) -> Answer:
    state = call.value("state")
    if state is not None and state not in STATES:
        raise BadRequest(f"state must be one of {', '.join(STATES)}", expression="state")
    count = _int(call, "count", 50, high=MAX_COUNT)
    before = _int(call, "before", None)
    rows = view.summaries(call.uow.conn, state=state, limit=count, before=before)
    per_state = view.counts(call.uow.conn)
    parameters = [{"name": "count", "part": [{"name": s, "valueInteger": per_state.get(s, 0)} for s in STATES]}]
    parameters += [_message(r) for r in rows]
    return Answer(200, body={"resourceType": "Parameters", "parameter": parameters})


@operation("inbox-replay", definition=DEFINITION + "inbox-replay", levels=("system",), affects_state=True,
           documentation="Queue dead-letter HL7 v2 messages for mapping again (parameter id, repeatable). "
                         "Idempotent: messages in any other state are left as they are.")
def inbox_replay(call: OperationCall) -> Answer:
    ids = []
    for part in call.values("id"):
        value = next((v for k, v in part.items() if k.startswith("value")), None)
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise BadRequest(f"id must be an inbox message id (an integer), not {value!r}", expression="id") from None
    if not ids:
        raise BadRequest("Give the inbox message(s) to replay in the 'id' parameter", expression="id")
    queued = queue.replay(call.uow.conn, ids)
    parameters = [{"name": "queued", "valueInteger": i} for i in queued]
    parameters += [{"name": "unchanged", "valueInteger": i} for i in sorted(set(ids) - set(queued))]
    return Answer(200, body={"resourceType": "Parameters", "parameter": parameters})
