"""_summary, _elements and _pretty on reads."""

from __future__ import annotations


def test_summary_and_elements(fhir):
    p = fhir.post("/Patient", json={"resourceType": "Patient", "gender": "female", "name": [{"family": "S"}],
                                    "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">S</div>"},
                                    "photo": [{"contentType": "image/png"}]}).json()
    summary = fhir.get(f"/Patient/{p['id']}", params={"_summary": "true"}).json()
    assert "photo" not in summary and "text" not in summary and summary["gender"] == "female"
    assert summary["meta"]["tag"][-1]["code"] == "SUBSETTED"
    data = fhir.get(f"/Patient/{p['id']}", params={"_summary": "data"}).json()
    assert "text" not in data and "photo" in data
    text = fhir.get(f"/Patient/{p['id']}", params={"_summary": "text"}).json()
    assert "text" in text and "gender" not in text
    elements = fhir.get(f"/Patient/{p['id']}", params={"_elements": "gender"}).json()
    assert set(elements) == {"resourceType", "id", "meta", "gender"}
    assert fhir.get(f"/Patient/{p['id']}", params={"_summary": "maybe"}).status_code == 400


def test_pretty(fhir):
    p = fhir.post("/Patient", json={"resourceType": "Patient"}).json()
    pretty = fhir.get(f"/Patient/{p['id']}", params={"_pretty": "true"})
    assert b"\n  " in pretty.content
    assert b"\n" not in fhir.get(f"/Patient/{p['id']}").content
    assert fhir.get(f"/Patient/{p['id']}", params={"_format": "json"}).status_code == 200
