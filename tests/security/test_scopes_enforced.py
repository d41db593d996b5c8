"""Scopes v1 and v2 on every interaction: 401 without a valid token, 403 without the
scope, query-narrowed scopes, the letters c r u d s one by one."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from security_helpers import ids

from server.auth import keys, registry
from tests.conftest import FHIR_JSON

JSON = {"Content-Type": FHIR_JSON}


def test_no_token_is_401_with_www_authenticate(secure):
    with secure.client() as anonymous:
        r = anonymous.get("Patient")
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["issue"][0]["code"] == "login"
        assert anonymous.post("", json={"resourceType": "Bundle", "type": "batch"}, headers=JSON).status_code == 401
        # The CapabilityStatement and SMART discovery stay public.
        assert anonymous.get("metadata").status_code == 200
        assert anonymous.get(".well-known/smart-configuration").status_code == 200


def _signed(secure, **claims) -> str:
    key = keys.signing_key(secure.ctx)
    now = int(time.time())
    base = {"iss": "x", "aud": "x", "sub": "s", "client_id": "c", "scope": "system/*.rs", "iat": now - 600,
            "exp": now - 300, "jti": "expired-1"}
    return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "at+jwt"}, {**base, **claims}, key,
                      algorithms=["RS256"])


@pytest.mark.parametrize("token", ["garbage", "expired", "revoked"])
def test_bad_tokens_are_401_invalid_token(secure, admin, token):
    if token == "expired":
        token = _signed(secure)
    elif token == "revoked":
        registry.add_client(secure.ctx, "revoker", client_type="public", redirect_uris=["http://app/cb"])
        token = secure.token("user/*.rs", client_id="revoker")
        r = admin.post(f"{secure.url}/auth/revoke", data={"token": token, "client_id": "revoker"})
        assert r.status_code == 200, r.text
    with secure.client() as client:
        r = client.get("Patient", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
        assert 'error="invalid_token"' in r.headers["www-authenticate"]


def test_type_without_scope_is_403(secure, two_patients):
    with secure.client("user/Observation.rs") as client:
        assert client.get("Observation/a-lab").status_code == 200
        for r in (client.get("Patient/A"), client.get("Patient"), client.get("Encounter/a-enc/_history"),
                  client.post("Observation", json={"resourceType": "Observation", "status": "final",
                                                   "code": {"text": "x"}}, headers=JSON),
                  client.delete("Observation/a-lab")):
            assert r.status_code == 403, r.text
            assert r.json()["issue"][0]["code"] == "forbidden"
        # What the token cannot read is left out of includes, not refused.
        r = client.get("Observation", params={"_include": "Observation:subject"})
        assert r.status_code == 200 and ids(r.json(), "include") == set()


def test_v1_scopes_read_as_v2(secure, two_patients):
    with secure.client("user/Observation.read user/Patient.write") as client:
        assert client.get("Observation", params={"_id": "a-lab"}).status_code == 200
        assert client.get("Patient/A").status_code == 403  # .write is c u d: no read
        r = client.put("Patient/A", json={**two_patients["A"], "gender": "female"}, headers=JSON)
        assert r.status_code == 200, r.text


def test_each_letter_alone(secure, two_patients):
    with secure.client("user/Observation.s") as searcher:
        assert searcher.get("Observation").status_code == 200
        assert searcher.get("Observation/a-lab").status_code == 403
    with secure.client("user/Observation.r") as reader:
        assert reader.get("Observation/a-lab").status_code == 200
        assert reader.get("Observation").status_code == 403
    with secure.client("user/Observation.c") as creator:
        r = creator.post("Observation", json={"resourceType": "Observation", "status": "final",
                                              "code": {"text": "x"}}, headers=JSON)
        assert r.status_code == 201
        assert creator.put("Observation/a-lab", json=two_patients["a-lab"], headers=JSON).status_code == 403
        # Update-as-create is a create.
        assert creator.put("Observation/new-one", json={**two_patients["a-lab"], "id": "new-one"},
                           headers=JSON).status_code == 201
    with secure.client("user/Observation.u") as updater:
        patch = [{"op": "replace", "path": "/status", "value": "amended"}]
        assert updater.patch("Observation/a-lab", json=patch,
                             headers={"Content-Type": "application/json-patch+json"}).status_code == 200
        assert updater.delete("Observation/a-lab").status_code == 403
    with secure.client("user/Observation.d") as deleter:
        assert deleter.delete("Observation/a-lab").status_code == 200


def test_query_narrowed_scope(secure, two_patients):
    scope = "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
    with secure.client(scope, patient="A") as client:
        r = client.get("Observation", params={"_total": "accurate"})
        assert ids(r.json()) == {"Observation/a-lab", "Observation/a-focus"}
        assert r.json()["total"] == 2
        assert client.get("Observation/a-vital").status_code == 404
        assert client.get("Observation/b-lab").status_code == 404
        assert client.get("Observation/a-lab").status_code == 200
    with secure.client("user/Observation.rs?category=vital-signs") as client:
        assert ids(client.get("Observation").json()) == {"Observation/a-vital", "Observation/b-vital"}


def test_conditional_interactions_see_only_what_the_token_sees(secure, two_patients):
    with secure.client("patient/*.cruds", patient="A") as client:
        # B's lab observation exists, but the conditional delete cannot select it.
        r = client.delete("Observation", params={"_id": "b-lab"})
        assert r.status_code == 200 and "No Observation matched" in r.text
        r = client.post("Observation", headers={**JSON, "If-None-Exist": "_id=b-lab"},
                        json={"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                              "subject": {"reference": "Patient/A"}})
        assert r.status_code == 201  # no match within A's compartment: created
    with secure.client("system/*.rs") as reader:
        assert reader.get("Observation/b-lab").status_code == 200


def test_system_scopes_and_operations(secure, two_patients):
    with secure.client("system/*.cruds") as system:
        r = system.post("$reindex", json={"resourceType": "Parameters"}, headers=JSON)
        assert r.status_code == 202, r.text
        trail = system.get("_history", params={"_count": 500})
        assert trail.status_code == 200  # all but the audit trail, which needs its own scope
        assert not [e for e in trail.json().get("entry", []) if "/AuditEvent/" in e["fullUrl"]]
    with secure.client("system/*.rs") as reader:
        assert reader.post("$reindex", json={"resourceType": "Parameters"}, headers=JSON).status_code == 403
        assert reader.get("Observation/_history").status_code == 200
        assert reader.get("$meta").status_code == 200
    with secure.client("patient/Patient.cruds", patient="A") as patient:
        # Type-level state changes are beyond a patient's compartment.
        r = patient.post("Patient/$reindex", json={"resourceType": "Parameters"}, headers=JSON)
        assert r.status_code == 403
        assert patient.get("Patient/$meta").status_code == 200


def test_bundle_entry_operation_goes_through_the_registry(secure, two_patients):
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": "Patient/A/$meta"}},
        {"request": {"method": "POST", "url": "Patient/A/$meta-add"},
         "resource": {"resourceType": "Parameters", "parameter": [
             {"name": "meta", "valueMeta": {"tag": [{"system": "urn:t", "code": "vip"}]}}]}},
        {"request": {"method": "POST", "url": "$reindex"}, "resource": {"resourceType": "Parameters"}},
    ]}
    with secure.client("patient/*.rs", patient="A") as reader:
        statuses = [e["response"]["status"] for e in reader.post("", json=bundle, headers=JSON).json()["entry"]]
        # $meta-add changes state: the token has no 'u'.
        assert statuses[0].startswith("200") and statuses[1].startswith("403") and statuses[2].startswith("403")
    with secure.client("patient/*.cruds", patient="A") as writer:
        r = writer.post("", json={**bundle, "type": "transaction", "entry": bundle["entry"][:2]}, headers=JSON)
        assert r.status_code == 200, r.text
        assert writer.get("Patient/A").json()["meta"]["tag"] == [{"system": "urn:t", "code": "vip"}]
