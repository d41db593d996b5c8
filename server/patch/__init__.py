"""PATCH: JSON Patch (RFC 6902) and FHIRPath Patch, as pure functions on FHIR JSON.

Both return a new resource and never change their input. Errors are FhirErrors: a
malformed patch document is ``BadRequest`` (400); a patch that cannot apply to this
resource is ``Unprocessable`` (422), its diagnostics naming the operation and path.
Neither validates the result as a FHIR resource: the caller does, as for any write.
"""

from .fhirpath_patch import apply_fhirpath_patch
from .json_patch import apply_json_patch

__all__ = ["apply_fhirpath_patch", "apply_json_patch"]
