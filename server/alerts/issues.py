"""Findings as DetectedIssue resources (R4), one per finding, with a stable id.

- ``code``: v3 ActCode ALGY (allergy alert) or DRG (drug interaction alert);
- ``implicated``: the medication(s), then the allergy;
- ``evidence``: one per knowledge source, its ``code`` a Coding of
  ``urn:passerelle:knowledge-source`` whose ``code`` is the source id and ``version`` its
  edition, its ``detail`` the other record (the allergy, or the other medication);
- ``identifier``: the finding key, so that a re-saved record finds its alert again;
- ``status``: final, preliminary (rests on an unconfirmed allergy), cancelled (the
  conflict is gone: a medication stopped, an allergy refuted).
"""

from __future__ import annotations

import uuid

from .detect import ALLERGY_ALERT, Finding

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ALERT_KEY = "urn:passerelle:alert"
KNOWLEDGE_SOURCE = "urn:passerelle:knowledge-source"
DISPLAY = {ALLERGY_ALERT: "Allergy Alert", "DRG": "Drug Interaction Alert"}
_NAMESPACE = uuid.UUID("6f0c7a52-5d0e-4c39-9a51-1e1f4f1f7a11")
AUTHOR = "Passerelle alert engine (server.alerts)"
COMPARED = ("status", "code", "severity", "patient", "implicated", "evidence", "detail", "reference")


def issue_id(key: str) -> str:
    """Same finding, same id: a concurrent second writer of it conflicts instead of duplicating."""
    return str(uuid.uuid5(_NAMESPACE, key))


def alert_key(issue: dict) -> str | None:
    return next((i.get("value") for i in issue.get("identifier") or () if i.get("system") == ALERT_KEY), None)


def detected_issue(finding: Finding, patient_id: str, identified: str) -> dict:
    issue = {
        "resourceType": "DetectedIssue",
        "identifier": [{"system": ALERT_KEY, "value": finding.key}],
        "status": "preliminary" if finding.preliminary else "final",
        "code": {"coding": [{"system": ACT_CODE, "code": finding.code, "display": DISPLAY[finding.code]}],
                 "text": finding.summary},
        "severity": finding.severity,
        "patient": {"reference": f"Patient/{patient_id}"},
        "identifiedDateTime": identified,
        "author": {"display": AUTHOR},
        "implicated": [{"reference": ref} for ref in finding.implicated],
        "evidence": [{"code": [{"coding": [{"system": KNOWLEDGE_SOURCE, "code": e.source.id,
                                            "version": e.source.edition, "display": e.source.title}],
                                "text": e.text}],
                      "detail": [{"reference": ref} for ref in finding.implicated[1:]]}
                     for e in finding.evidence],
        "detail": finding.detail,
    }
    if finding.source.url:
        issue["reference"] = finding.source.url
    return issue


def same(stored: dict, wanted: dict) -> bool:
    """Nothing a reader would notice differs (ids, meta and dates aside)."""
    return all(stored.get(k) == wanted.get(k) for k in COMPARED)
