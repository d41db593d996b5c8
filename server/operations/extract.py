"""$extract: the allergies and medications a clinical note states (ours; not an R4 operation).

``POST [base]/$extract`` with a Parameters: ``text`` (valueString, required), optional
``language`` (valueCode: en | fr, else guessed from the words) and ``subject``
(valueReference: the patient the resources would belong to).

``[base]/DocumentReference/[id]/$extract`` (GET or POST) reads the document's current
version: its first inline text/plain attachment, its language and its subject;
``[base]/Observation/[id]/$extract`` its narrative valueString.

Nothing is stored. The answer is a Bundle of type collection: one AllergyIntolerance or
MedicationStatement per finding (verificationStatus unconfirmed, the NLP tag) followed by
its Provenance (source document and exact character span), as the notes listener would
store them for that document.
"""

from __future__ import annotations

import hashlib

from mappers import notes
from mappers.notes import language as languages

from ..api.outcome import Answer
from ..errors import BadRequest, Unprocessable
from ..notes import NOTE_TYPES, note_texts
from ..storage.repository import format_instant
from .registry import OperationCall, operation

DEFINITION = "urn:passerelle:OperationDefinition/extract"
MAX_TEXT = 200_000  # characters: a note, not a book


@operation("extract", definition=DEFINITION, levels=("system", "instance"), resource_types=NOTE_TYPES,
           documentation="Read allergies and medications out of a clinical note (English or French); stores nothing")
def extract(call: OperationCall) -> Answer:
    if call.body is not None:
        raise BadRequest("$extract takes a Parameters resource", expression="resourceType")
    language = call.value("language")
    if language is not None and languages.normalise(str(language)) is None:
        raise BadRequest(f"language must be one of {', '.join(notes.LANGUAGES)}", expression="language")
    if call.fhir_id:
        text, guessed, source = _document(call)
    else:
        text, guessed, source = _text(call)
    language = languages.normalise(str(language)) if language else guessed
    found = notes.extract(text, language)
    bundle = notes.to_bundle(found, source, kind="collection")
    return Answer(200, body=bundle)


def _text(call: OperationCall) -> tuple[str, str, notes.Source]:
    text = call.value("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("$extract needs a 'text' parameter (valueString) with the note", expression="text")
    if len(text) > MAX_TEXT:
        raise BadRequest(f"the text has {len(text)} characters; $extract reads up to {MAX_TEXT}", expression="text")
    subject = call.value("subject")
    if subject is not None and not (isinstance(subject, dict) and isinstance(subject.get("reference"), str)):
        raise BadRequest("subject must be a valueReference with a reference", expression="subject")
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    source = notes.Source(format_instant(call.uow.now), subject=subject and subject["reference"], text_key=key)
    return text, languages.guess(text), source


def _document(call: OperationCall) -> tuple[str, str, notes.Source]:
    if call.value("text") is not None:
        raise BadRequest(f"On a {call.resource_type}, $extract reads it: give no 'text'", expression="text")
    stored = call.uow.read(call.resource_type, call.fhir_id)
    note = stored.resource()
    texts = note_texts(note)
    if not texts:
        where = ("DocumentReference.content.attachment" if call.resource_type == "DocumentReference"
                 else "Observation.valueString")
        raise Unprocessable(f"{call.resource_type}/{call.fhir_id} has no note to read (inline text/plain "
                            "attachment, or narrative valueString)", expression=where)
    text, language = texts[0]
    source = notes.Source(format_instant(call.uow.now),
                          document=f"{call.resource_type}/{call.fhir_id}/_history/{stored.version_id}",
                          subject=(note.get("subject") or {}).get("reference"))
    return text, language, source
