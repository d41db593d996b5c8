"""Form templates as data: a Questionnaire plus where each of its items sits on the page.

A template is one JSON file (``templates/*.json`` here, or a site's own directory):

- ``questionnaire``: the FHIR Questionnaire the answers are recorded against;
- ``fields``: one per item, by ``linkId``: its printed ``label``, the ``box_mm`` the value is
  written in (x, y, width, height in millimetres from the page's top-left corner) and the
  ``check`` its value must pass (see ``checks.CHECKS``); an identifier may have a ``mask``
  (``AA9999999``: A a letter, 9 a digit, * either) that its value must fit;
- ``title``: the printed title and where it is, which tells one form from another;
- ``page_mm``, ``date_format``, ``identifier_systems`` (linkId -> identifier system).

The linkIds the mapper knows (``patient.family``, ``coverage.subscriberId``...) become
resources; any other item is kept in the QuestionnaireResponse only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from .checks import CHECKS, Checked, check_tick

DATE_FORMATS = ("DD/MM/YYYY", "MM/DD/YYYY", "YYYY-MM-DD")


class TemplateError(ValueError):
    """A template file that cannot be used; the message names the file and the element."""


@dataclass(frozen=True)
class Field:
    link_id: str
    label: str
    box_mm: tuple[float, float, float, float]
    check: str
    item_type: str
    mask: str = ""  # identifiers: A letter, 9 digit, * either, anything else itself ("AA9999999")
    options: tuple[TickOption, ...] = ()  # tick boxes (check "tick")

    @property
    def is_tick(self) -> bool:
        return bool(self.options)


@dataclass(frozen=True)
class TickOption:
    answer: bool | str  # a boolean item's true/false, or a choice item's answerOption code
    label: str  # printed beside the box
    box_mm: tuple[float, float, float, float]


@dataclass(frozen=True)
class Template:
    id: str
    language: str
    page_mm: tuple[float, float]
    date_format: str
    title: str
    title_box_mm: tuple[float, float, float, float]
    identifier_systems: dict[str, str]
    questionnaire: dict
    fields: tuple[Field, ...]

    @property
    def canonical(self) -> str:
        q = self.questionnaire
        return f"{q['url']}|{q['version']}" if q.get("version") else q["url"]

    def field(self, link_id: str) -> Field | None:
        return next((f for f in self.fields if f.link_id == link_id), None)

    def check(self, field: Field, text: str) -> Checked:
        """The field's check, given the template's date format or the field's mask."""
        if field.is_tick:
            return check_tick(text, field.options)
        return CHECKS[field.check](text, field.mask if field.check == "identifier" else self.date_format)


def _box(value, where: str) -> tuple[float, float, float, float]:
    if not (isinstance(value, list) and len(value) == 4 and all(isinstance(v, (int, float)) for v in value)):
        raise TemplateError(f"{where} must be [x, y, width, height] in millimetres")
    return tuple(float(v) for v in value)


def _options(f: dict, item: dict, where: str) -> tuple[TickOption, ...]:
    """A tick-box field's boxes; each answer must be one the Questionnaire item allows."""
    if item["type"] == "boolean":
        allowed = {True, False}
    elif item["type"] == "choice":
        allowed = {o["valueCoding"]["code"] for o in item.get("answerOption", []) if "valueCoding" in o}
    else:
        raise TemplateError(f"{where}: a tick-box item is of type boolean or choice, not {item['type']!r}")
    options = f.get("options")
    if not isinstance(options, list) or len(options) < 2:
        raise TemplateError(f"{where}.options: a tick-box item lists at least two boxes")
    out = []
    for n, o in enumerate(options):
        if o.get("answer") not in allowed or isinstance(o.get("answer"), bool) != (item["type"] == "boolean"):
            raise TemplateError(f"{where}.options[{n}].answer: {o.get('answer')!r} is not an answer of "
                                f"item {f['linkId']!r} (one of {sorted(map(str, allowed))})")
        out.append(TickOption(o["answer"], str(o["label"]), _box(o["box_mm"], f"{where}.options[{n}].box_mm")))
    return tuple(out)


def parse_template(doc: dict, source: str) -> Template:
    """Check one template document and build it; every problem names ``source`` and the element."""
    try:
        questionnaire = doc["questionnaire"]
        items = {i["linkId"]: i for i in questionnaire["item"]}
        if questionnaire.get("resourceType") != "Questionnaire" or not questionnaire.get("url"):
            raise TemplateError(f"{source}: questionnaire must be a Questionnaire with a url")
        if doc["date_format"] not in DATE_FORMATS:
            raise TemplateError(f"{source}: date_format must be one of {', '.join(DATE_FORMATS)}")
        fields = []
        for n, f in enumerate(doc["fields"]):
            where = f"{source}: fields[{n}]"
            if f["linkId"] not in items:
                raise TemplateError(f"{where}: linkId {f['linkId']!r} is not an item of the questionnaire")
            if f["check"] not in (*CHECKS, "tick"):
                raise TemplateError(f"{where}: unknown check {f['check']!r} (known: {', '.join(sorted(CHECKS))}, tick)")
            item = items[f["linkId"]]
            options = _options(f, item, where) if f["check"] == "tick" else ()
            fields.append(Field(f["linkId"], f["label"], _box(f["box_mm"], f"{where}.box_mm"), f["check"],
                                item["type"], str(f.get("mask", "")), options))
        missing = set(items) - {f.link_id for f in fields}
        if missing:
            raise TemplateError(f"{source}: items without a place on the page: {', '.join(sorted(missing))}")
        return Template(doc["id"], doc["language"], tuple(doc["page_mm"]), doc["date_format"],
                        doc["title"]["text"], _box(doc["title"]["box_mm"], f"{source}: title.box_mm"),
                        dict(doc.get("identifier_systems", {})), questionnaire, tuple(fields))
    except (KeyError, TypeError) as missing:
        raise TemplateError(f"{source}: missing or malformed element {missing}") from None


def load_templates(directory: str | Path | None = None) -> dict[str, Template]:
    """The shipped templates, plus (or overridden by) those of a site's directory."""
    found: dict[str, Template] = {}
    sources = [files("mappers.forms").joinpath("templates")]
    if directory:
        sources.append(Path(directory))
    for folder in sources:
        for path in sorted(folder.iterdir(), key=lambda p: p.name):
            if not path.name.endswith(".json"):
                continue
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as problem:
                raise TemplateError(f"{path.name}: not a readable JSON template ({problem})") from None
            template = parse_template(doc, path.name)
            found[template.id] = template
    return found
