"""A reviewer's answer to a field review Task, checked as the OCR reading would have been.

The value is in ``Task.output`` with type ``urn:passerelle:form-review#value``:

- ``valueString``: the text, as written on the form or corrected (any field; it passes the
  field's own check: a NIR with a wrong key is refused exactly as a misread one);
- ``valueDate`` for a date field, ``valueBoolean`` for a yes/no tick-box item,
  ``valueCoding`` for a choice item (a code of its answerOptions; sex: male / female).

Pure: the server (server.forms.review) finds the Task's field and writes the result.
"""

from __future__ import annotations

from .bundle import REVIEW
from .checks import Checked, check_date
from .templates import Field, Template

VALUE = "value"  # Task.output.type code
VALUE_TYPE = {"coding": [{"system": REVIEW, "code": VALUE}], "text": VALUE}


def value_output(task: dict) -> tuple[int, dict] | None:
    """(index, output) of the reviewed value in Task.output, or None."""
    for n, output in enumerate(task.get("output") or []):
        kind = output.get("type") or {}
        if any(c.get("system") == REVIEW and c.get("code") == VALUE for c in kind.get("coding") or []) \
                or (not kind.get("coding") and kind.get("text") == VALUE):
            return n, output
    return None


def _choice_codes(template: Template, field: Field) -> set[str]:
    item = next(i for i in template.questionnaire["item"] if i["linkId"] == field.link_id)
    return {o["valueCoding"]["code"] for o in item.get("answerOption", []) if "valueCoding" in o}


def reviewed_value(template: Template, field: Field, output: dict) -> Checked:
    """The value in its stored form, or why it cannot be stored."""
    if "valueString" in output:
        text = output["valueString"]
        return template.check(field, text) if isinstance(text, str) and text.strip() else Checked(None, "empty")
    if "valueDate" in output and field.item_type == "date":
        return check_date(str(output["valueDate"]), "YYYY-MM-DD")
    if "valueBoolean" in output and field.item_type == "boolean":
        value = output["valueBoolean"]
        return Checked(value) if isinstance(value, bool) else Checked(None, "valueBoolean is true or false")
    if "valueCoding" in output and field.item_type == "choice":
        code = (output["valueCoding"] or {}).get("code")
        codes = _choice_codes(template, field)
        if code in codes:
            return Checked(code)
        return Checked(None, f"code {code!r} is not an answer of this item (one of {', '.join(sorted(codes))})")
    allowed = ["valueString", *{"date": ["valueDate"], "boolean": ["valueBoolean"],
                                "choice": ["valueCoding"]}.get(field.item_type, [])]
    return Checked(None, f"the value of '{field.label}' is given as {' or '.join(allowed)}")
