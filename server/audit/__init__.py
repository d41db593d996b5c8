"""The audit trail: one AuditEvent (IHE BALP style) per FHIR API request."""
