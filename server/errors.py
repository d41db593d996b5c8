"""Errors as FHIR OperationOutcomes.

Every failure a client can cause is one of these; the app turns it into an
OperationOutcome with the HTTP status below. ``expression`` names the faulty element
(FHIRPath, e.g. ``Patient.birthDate``) so a client can point at it.
"""

from __future__ import annotations

from collections.abc import Iterable


class FhirError(Exception):
    status = 500
    code = "exception"  # OperationOutcome.issue.code (http://hl7.org/fhir/issue-type)

    def __init__(
        self,
        diagnostics: str,
        *,
        code: str | None = None,
        expression: Iterable[str] | str | None = None,
        severity: str = "error",
        headers: dict[str, str] | None = None,
        issues: list[dict] | None = None,
    ):
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        if code:
            self.code = code
        if isinstance(expression, str):
            expression = [expression]
        self.expression = list(expression or [])
        self.severity = severity
        self.headers = headers or {}
        self.more_issues = issues or []  # further OperationOutcome.issue entries

    def issue(self) -> dict:
        issue = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            issue["expression"] = self.expression
        return issue

    def outcome(self) -> dict:
        return {"resourceType": "OperationOutcome", "issue": [self.issue(), *self.more_issues]}


class BadRequest(FhirError):
    status, code = 400, "invalid"


class NotAuthenticated(FhirError):
    status, code = 401, "login"


class Forbidden(FhirError):
    status, code = 403, "forbidden"


class NotFound(FhirError):
    status, code = 404, "not-found"


class MethodNotAllowed(FhirError):
    status, code = 405, "not-supported"


class NotAcceptable(FhirError):
    status, code = 406, "not-supported"


class Conflict(FhirError):
    status, code = 409, "conflict"


class Gone(FhirError):
    status, code = 410, "deleted"


class PreconditionFailed(FhirError):
    status, code = 412, "conflict"


class PayloadTooLarge(FhirError):
    status, code = 413, "too-costly"


class UnsupportedMediaType(FhirError):
    status, code = 415, "not-supported"


class Unprocessable(FhirError):
    status, code = 422, "processing"


class MultipleMatches(PreconditionFailed):
    """A conditional interaction matched more than one resource (412)."""

    code = "multiple-matches"


class TooCostly(FhirError):
    status, code = 400, "too-costly"


class NotSupported(FhirError):
    status, code = 501, "not-supported"
