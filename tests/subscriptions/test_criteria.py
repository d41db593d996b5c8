"""R4 criteria subscriptions over real HTTP: handshake, matching, payloads, retries, errors."""

from __future__ import annotations

from tests.conftest import FHIR_JSON
from tests.subscriptions.conftest import create_active, subscription, wait_status

HEADERS = {"Content-Type": FHIR_JSON}


def observation(code: str, **extra) -> dict:
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]}, **extra}


def post(fhir, resource: dict) -> dict:
    response = fhir.post(f"/{resource['resourceType']}", json=resource, headers=HEADERS)
    assert response.status_code == 201, response.text
    return response.json()


def test_handshake_activates_and_full_resource_payload_is_put_for_matches_only(fhir, receiver):
    sub = subscription(f"{receiver.url}/hook", "Observation?code=http://loinc.org|8867-4",
                       payload="application/fhir+json", headers=("Authorization: Bearer s3cret",))
    response = fhir.post("/Subscription", json=sub, headers=HEADERS)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "requested"
    ping = receiver.wait_for(1)[0]
    assert (ping.method, ping.path, ping.body) == ("POST", "/hook", b"")  # R4: a ping has no body
    assert ping.headers["Authorization"] == "Bearer s3cret"
    wait_status(fhir, created["id"], "active")
    receiver.reset()

    other = post(fhir, observation("1234-5"))
    heart = post(fhir, observation("8867-4", valueQuantity={"value": 72, "unit": "/min"}))
    got = receiver.wait_for(1)
    put = got[0]
    assert (put.method, put.path) == ("PUT", f"/hook/Observation/{heart['id']}")
    assert put.headers["Content-Type"] == FHIR_JSON
    assert put.headers["Authorization"] == "Bearer s3cret"
    assert put.json()["valueQuantity"]["value"] == 72 and put.json()["meta"]["versionId"] == "1"
    assert [r.path for r in receiver.settle(1.2)] == [put.path], f"{other['id']} does not match"

    # An update that still matches notifies again (new content); one that stops matching does not.
    receiver.reset()
    heart["valueQuantity"]["value"] = 80
    assert fhir.put(f"/Observation/{heart['id']}", json=heart, headers=HEADERS).status_code == 200
    assert receiver.wait_for(1)[0].json()["valueQuantity"]["value"] == 80
    heart["code"]["coding"][0]["code"] = "1234-5"
    assert fhir.put(f"/Observation/{heart['id']}", json=heart, headers=HEADERS).status_code == 200
    assert fhir.delete(f"/Observation/{other['id']}").status_code in (200, 204)
    assert len(receiver.settle(1.2)) == 1  # R4: criteria apply to new content; deletes notify nothing


def test_empty_payload_posts_without_body_and_writes_in_a_transaction_notify(fhir, receiver):
    sub = create_active(fhir, receiver, subscription(f"{receiver.url}/ping", "Patient?family=Martin"))
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient", "name": [{"family": "Martin"}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Patient", "name": [{"family": "Durand"}]},
         "request": {"method": "POST", "url": "Patient"}}]}
    assert fhir.post("/", json=bundle, headers=HEADERS).status_code == 200
    got = receiver.wait_for(1)
    assert [(r.method, r.path, r.body) for r in got] == [("POST", "/ping", b"")]
    assert len(receiver.settle(1.2)) == 1
    status = fhir.get(f"/Subscription/{sub['id']}/$status").json()
    values = {p["name"]: p for p in status["entry"][0]["resource"]["parameter"]}
    assert values["events-since-subscription-start"]["valueString"] == "1"


def test_retries_after_500_then_delivers(fhir, receiver):
    sub = create_active(fhir, receiver, subscription(f"{receiver.url}/flaky", "Patient?family=Roux",
                                                     payload="application/fhir+json"))
    receiver.statuses.extend([500, 503])
    patient = post(fhir, {"resourceType": "Patient", "name": [{"family": "Roux"}]})
    got = receiver.wait_for(3)
    assert [r.path for r in got] == [f"/flaky/Patient/{patient['id']}"] * 3  # 500, 503, then 200
    assert fhir.get(f"/Subscription/{sub['id']}").json()["status"] == "active"
    status = fhir.get(f"/Subscription/{sub['id']}/$status").json()["entry"][0]["resource"]
    assert "error" not in {p["name"] for p in status["parameter"]}  # cleared once delivered


def test_after_the_last_attempt_the_subscription_goes_to_error_with_the_reason(fhir, receiver):
    sub = create_active(fhir, receiver, subscription(f"{receiver.url}/down", "Patient?family=Petit"))
    receiver.statuses.extend([500] * 10)
    post(fhir, {"resourceType": "Patient", "name": [{"family": "Petit"}]})
    errored = wait_status(fhir, sub["id"], "error")
    assert "event 1 not delivered after 3 attempt(s)" in errored["error"] and "HTTP 500" in errored["error"]
    assert len(receiver.requests) == 3  # max attempts (3 in these tests), then no more
    status = fhir.get(f"/Subscription/{sub['id']}/$status").json()["entry"][0]["resource"]
    values = {p["name"]: p for p in status["parameter"]}
    assert values["status"]["valueCode"] == "error"
    assert "HTTP 500" in values["error"]["valueCodeableConcept"]["text"]

    # Asking for it again: a new handshake, and the subscription is active once more.
    receiver.reset()
    errored["status"] = "requested"
    assert fhir.put(f"/Subscription/{sub['id']}", json=errored, headers=HEADERS).status_code == 200
    wait_status(fhir, sub["id"], "active")


def test_handshake_refused_puts_the_subscription_in_error(fhir, receiver):
    receiver.statuses.extend([404] * 3)
    response = fhir.post("/Subscription", json=subscription(f"{receiver.url}/nobody", "Patient?"), headers=HEADERS)
    errored = wait_status(fhir, response.json()["id"], "error")
    assert errored["error"].startswith("handshake not delivered after 3 attempt(s)")


def test_off_stops_notifications(fhir, receiver):
    sub = create_active(fhir, receiver, subscription(f"{receiver.url}/hook", "Patient?family=Blanc"))
    sub["status"] = "off"
    assert fhir.put(f"/Subscription/{sub['id']}", json=sub, headers=HEADERS).status_code == 200
    post(fhir, {"resourceType": "Patient", "name": [{"family": "Blanc"}]})
    assert receiver.settle(1.2) == []


def test_disallowed_or_malformed_subscriptions_are_refused_with_an_operation_outcome(fhir, receiver):
    cases = [
        (subscription("https://evil.example.com/hook", "Patient?"), "evil.example.com", "security"),
        (subscription("http://hooks.example.org/hook", "Patient?"), "must use https", "security"),
        (subscription("http://localhost:9/hook", "Patient?"), "localhost", "security"),
        (subscription(f"{receiver.url}/hook", "Patient?nonsense=1"), "nonsense", None),
        (subscription(f"{receiver.url}/hook", "Nothing?x=1"), "Nothing", None),
        (subscription(f"{receiver.url}/hook", "https://example.org/SubscriptionTopic/x"), "Unknown subscription topic",
         "not-supported"),
        ({**subscription(f"{receiver.url}/hook", "Patient?"), "channel": {"type": "email",
                                                                          "endpoint": "mailto:a@b.c"}},
         "only rest-hook", "not-supported"),
        (subscription(f"{receiver.url}/hook", "Patient?", payload="text/plain"), "text/plain", "not-supported"),
        ({**subscription(f"{receiver.url}/hook", "Patient?"), "status": "error"}, "set by the server", None),
    ]
    for resource, says, code in cases:
        response = fhir.post("/Subscription", json=resource, headers=HEADERS)
        assert response.status_code in (400, 422), (says, response.text)
        issue = response.json()["issue"][0]
        assert response.json()["resourceType"] == "OperationOutcome"
        assert says in issue["diagnostics"], (says, issue)
        if code:
            assert issue["code"] == code
    assert fhir.get("/Subscription").json().get("total", 0) == 0
    # https to a listed host is accepted (its handshake fails in the background: no such host).
    response = fhir.post("/Subscription", json=subscription("https://hooks.example.org/hook", "Patient?"),
                         headers=HEADERS)
    assert response.status_code == 201, response.text
    fhir.delete(f"/Subscription/{response.json()['id']}")
