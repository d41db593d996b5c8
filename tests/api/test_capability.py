"""/metadata is generated from the registries; nothing advertised is missing, and back."""

from __future__ import annotations

from server.operations import OPERATIONS


def test_capability_statement(fhir, server):
    response = fhir.get("/metadata")
    assert response.status_code == 200
    cs = response.json()
    assert cs["resourceType"] == "CapabilityStatement"
    assert cs["fhirVersion"] == "4.0.1"
    rest = cs["rest"][0]
    types = {r["type"] for r in rest["resource"]}
    assert types == set(server.ctx.resource_types)
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    params = {p["name"] for p in patient["searchParam"]}
    assert {"identifier", "name", "birthdate", "_id", "_lastUpdated"} <= params
    assert params == set(server.ctx.registry.for_type("Patient"))
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch", "history-system", "search-system"}
    advertised = {o["name"] for r in rest["resource"] for o in r.get("operation", [])} | {
        o["name"] for o in rest["operation"]}
    assert advertised == set(OPERATIONS.operations)


def test_every_registered_operation_is_routed_at_its_levels(fhir):
    pid = fhir.post("/Patient", json={"resourceType": "Patient"}).json()["id"]
    for op in OPERATIONS.operations.values():
        # On Patient where the operation takes it, else on a type it takes (an unknown instance: 404, not 501).
        rtype = "Patient" if op.resource_types is None or "Patient" in op.resource_types else sorted(op.resource_types)[0]
        paths = {"system": "", "type": f"/{rtype}", "instance": f"/{rtype}/{pid if rtype == 'Patient' else 'unknown'}"}
        for level in op.levels:
            method = fhir.post if op.affects_state else fhir.get
            kwargs = {"json": {"resourceType": "Parameters"}} if op.affects_state else {}
            response = method(f"{paths[level]}/${op.name}", **kwargs)
            assert "is not supported" not in response.text, (op.name, level, response.text)
            assert response.status_code < 500, (op.name, level, response.text)
