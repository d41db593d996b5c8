"""The official R4 examples (hl7.fhir.r4.examples@4.0.1) round-trip unchanged apart from meta.

Each example is stored with PUT (so it keeps its id) and read back over HTTP; the
read must equal the example exactly (decimals included) except meta.versionId and
meta.lastUpdated, which the server owns. The few examples that break R4 themselves
(``INVALID_R4_EXAMPLES``, each with its reason) must be refused with 422 instead, and so
must the few whose references contradict each other where a coordination workflow acts on
them (``REFUSED_BY_WORKFLOW``: server.coordination answers requests as they are stored).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.r4_examples import INVALID_R4_EXAMPLES, example_files, r4_examples_dir


REFUSED_BY_WORKFLOW = {
    # The response's actor is not among the Appointment example's participants.
    "AppointmentResponse-exampleresp.json": "is not a participant of Appointment/examplereq",
    # The request's patient is not the beneficiary of the Coverage it names.
    "CoverageEligibilityRequest-52345.json": "is not a coverage of Patient/pat1",
    "CoverageEligibilityRequest-52346.json": "is not a coverage of Patient/pat1",
    # Their endpoint's host is not on PASSERELLE_SUBSCRIPTION_HOSTS (server.subscriptions).
    "Subscription-example.json": "PASSERELLE_SUBSCRIPTION_HOSTS",
    "Subscription-example-error.json": "PASSERELLE_SUBSCRIPTION_HOSTS",
}


def _without_server_meta(resource: dict) -> dict:
    resource = dict(resource)
    meta = {k: v for k, v in (resource.pop("meta", None) or {}).items() if k not in ("versionId", "lastUpdated")}
    if meta:
        resource["meta"] = meta
    return resource


@pytest.fixture(scope="module")
def examples():
    folder = r4_examples_dir()
    if folder is None:
        pytest.skip("npm is not installed: cannot fetch hl7.fhir.r4.examples@4.0.1")
    loaded = []
    for path in example_files(folder):
        raw = path.read_bytes()
        resource = json.loads(raw, parse_float=Decimal)
        if isinstance(resource, dict) and resource.get("id") and resource.get("resourceType"):
            loaded.append((path.name, raw, resource))
    return loaded


def test_every_example_round_trips(fhir, examples):
    failures = []
    for name, raw, example in examples:
        url = f"/{example['resourceType']}/{example['id']}"
        stored = fhir.put(url, content=raw, headers={"Content-Type": "application/fhir+json"})
        if name in INVALID_R4_EXAMPLES:
            if stored.status_code != 422:
                failures.append(f"{name}: invalid in R4, yet PUT answered {stored.status_code}")
            continue
        if name in REFUSED_BY_WORKFLOW:
            if stored.status_code != 422 or REFUSED_BY_WORKFLOW[name] not in stored.text:
                failures.append(f"{name}: a workflow should refuse it, yet PUT answered {stored.status_code}")
            continue
        if stored.status_code not in (200, 201):
            failures.append(f"{name}: PUT {stored.status_code} {stored.text[:300]}")
            continue
        read = json.loads(fhir.get(url).content, parse_float=Decimal)
        if _without_server_meta(read) != _without_server_meta(example):
            failures.append(f"{name}: read differs from the example")
    assert len(examples) > 2000
    assert not failures, f"{len(failures)} of {len(examples)} examples failed:\n" + "\n".join(failures[:40])
