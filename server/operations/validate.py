"""$validate (http://hl7.org/fhir/R4/resource-operation-validate.html): structural for now.

Returns 200 and an OperationOutcome whether or not the resource is valid: the
operation ran; its outcome says what it found.
"""

from __future__ import annotations

from ..api.outcome import Answer, informational
from ..errors import BadRequest, FhirError
from .registry import OperationCall, operation

MODES = ("create", "update", "delete")


@operation("validate", definition="http://hl7.org/fhir/OperationDefinition/Resource-validate",
           levels=("type", "instance"), documentation="Structural validation against the R4 definitions")
def validate(call: OperationCall) -> Answer:
    mode = call.value("mode")
    if mode is not None and mode not in MODES:
        raise BadRequest(f"mode must be one of {', '.join(MODES)}", expression="mode")
    resource = call.body or call.value("resource")
    if mode == "delete":
        call.uow.read(call.resource_type, call.fhir_id or "")  # 404/410 when there is nothing to delete
        return Answer(200, body=informational("The resource may be deleted"))
    if resource is None and call.fhir_id:
        resource = call.uow.read(call.resource_type, call.fhir_id).resource()
    if not isinstance(resource, dict):
        raise BadRequest("$validate needs a resource (the body, or a 'resource' parameter)", expression="resource")
    if resource.get("resourceType") != call.resource_type:
        raise BadRequest(f"The resource is a {resource.get('resourceType')!r}, the URL names {call.resource_type!r}")
    if mode == "update" and call.fhir_id and resource.get("id") != call.fhir_id:
        raise BadRequest("For mode=update the resource id must match the URL", expression=f"{call.resource_type}.id")
    try:
        call.ctx.store.validate(resource)
    except FhirError as problem:
        return Answer(200, body=problem.outcome())
    return Answer(200, body=informational("No issues found: the resource is structurally valid R4"))
