"""$ingest-form: read a scanned form sent over HTTP (ours; not an R4 operation).

``POST [base]/DocumentReference/$ingest-form`` with either
- a Parameters resource: ``file`` (valueAttachment: contentType, data in base64, title),
  optional ``template`` (valueString: a template id, else found from the page title) and
  ``engine`` (valueCode: tesseract | rapidocr, else PASSERELLE_OCR_ENGINE); or
- a Binary resource (contentType, data).

The original is stored (Binary + DocumentReference) and committed first; then the pages
are read outside the transaction and what was read is stored in a second one. The answer
is a Parameters: ``document`` (the DocumentReference), ``outcome`` (read | already-read),
``pages``, one ``created`` per resource written and one ``review`` per Task to work.
The same file sent again answers ``already-read`` and changes nothing. A file that is
not a PDF/PNG/JPEG/TIFF: 400; a form that cannot be read (no template matches): 422,
and the DocumentReference stays, tagged ``failed``.
"""

from __future__ import annotations

import base64
import binascii

from mappers.forms import ENGINES, OcrError

from ..api.outcome import Answer
from ..errors import BadRequest, FhirError
from ..forms import IngestResult, intake_for
from .registry import OperationCall, operation

DEFINITION = "urn:passerelle:OperationDefinition/DocumentReference-ingest-form"


class EngineUnavailable(FhirError):
    status, code = 500, "exception"


def _file(call: OperationCall) -> tuple[bytes, str | None]:
    if call.body is not None:
        if call.body.get("resourceType") != "Binary":
            raise BadRequest("$ingest-form takes a Parameters (file) or a Binary", expression="resourceType")
        encoded, title, where = call.body.get("data"), None, "Binary.data"
    else:
        attachment = call.value("file")
        if not isinstance(attachment, dict):
            raise BadRequest("$ingest-form needs a 'file' parameter (valueAttachment)", expression="file")
        encoded, title, where = attachment.get("data"), attachment.get("title"), "file.data"
    if not isinstance(encoded, str) or not encoded:
        raise BadRequest("the file has no data (base64)", expression=where)
    try:
        return base64.b64decode(encoded, validate=True), title
    except (binascii.Error, ValueError):
        raise BadRequest("the file's data is not valid base64", expression=where) from None


def result_parameters(result: IngestResult) -> dict:
    parameters = [{"name": "document", "valueReference": {"reference": result.document}},
                  {"name": "outcome", "valueCode": result.outcome}]
    if result.outcome == "read":
        parameters.append({"name": "pages", "valueInteger": result.pages})
    parameters += [{"name": "created", "valueReference": {"reference": r}} for r in result.created]
    parameters += [{"name": "review", "valueReference": {"reference": r}} for r in result.reviews]
    return {"resourceType": "Parameters", "parameter": parameters}


@operation("ingest-form", definition=DEFINITION, levels=("type",), resource_types=("DocumentReference",),
           affects_state=True, documentation="Read a scanned form (PDF, PNG, JPEG, TIFF) into FHIR resources")
def ingest_form(call: OperationCall) -> Answer:
    data, title = _file(call)
    engine = call.value("engine")
    if engine is not None and engine not in ENGINES:
        raise BadRequest(f"engine must be one of {', '.join(ENGINES)}", expression="engine")
    template = call.value("template")
    try:
        intake = intake_for(call.ctx, engine)
    except OcrError as problem:
        raise EngineUnavailable(f"OCR engine unavailable: {problem}") from None
    intake.template(template)  # an unknown template id is refused before anything is stored
    received = intake.receive(call.uow, data, filename=title)
    answer = Answer(200)
    if received.done:
        answer.body = result_parameters(IngestResult(f"DocumentReference/{received.document_id}", "already-read"))
        return answer

    # The original must be committed before the slow reading starts, and no write lock may be
    # held while it runs: the reading runs once this unit of work has committed, and fills
    # in the answer (an exception here becomes the response's OperationOutcome).
    def read_after_commit() -> None:
        answer.body = result_parameters(intake.process(received, data, call.base, template=template))

    call.uow.after_commit.append(read_after_commit)
    return answer
