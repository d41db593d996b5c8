"""The access log names parameters, never their values (patient data)."""

from __future__ import annotations

import logging


def test_access_log_has_no_query_values(fhir, caplog):
    with caplog.at_level(logging.INFO, logger="passerelle.access"):
        fhir.get("/Patient", params={"name": "Hélène", "birthdate": "1948-03-12"})
    lines = [r.getMessage() for r in caplog.records if r.name == "passerelle.access"]
    assert any('"params":["birthdate","name"]' in line and '"status":200' in line for line in lines), lines
    assert not any("1948" in line or "l\\u00e8ne" in line or "Hélène" in line or "helene" in line.lower()
                   for line in lines)
