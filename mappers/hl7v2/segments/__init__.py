"""One mapping unit per v2 segment: a segment (and its context) in, FHIR resources out."""
