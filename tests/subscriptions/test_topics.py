"""Topic-based subscriptions (Subscriptions R5 Backport IG): the three server topics, their
filters, the three payload contents, notification Bundles, $status and $events."""

from __future__ import annotations

from server.subscriptions.spec import STATUS_PROFILE
from server.subscriptions.topics import TOPIC_BASE
from tests.conftest import FHIR_JSON
from tests.subscriptions.conftest import create_active, subscription, wait_status

HEADERS = {"Content-Type": FHIR_JSON}
APPOINTMENTS = TOPIC_BASE + "appointment-status-change"
CLAIM_RESPONSES = TOPIC_BASE + "claimresponse-available"
TASKS = TOPIC_BASE + "task-status-change"


def post(fhir, resource: dict) -> dict:
    response = fhir.post(f"/{resource['resourceType']}", json=resource, headers=HEADERS)
    assert response.status_code == 201, response.text
    return response.json()


def put(fhir, resource: dict) -> dict:
    response = fhir.put(f"/{resource['resourceType']}/{resource['id']}", json=resource, headers=HEADERS)
    assert response.status_code == 200, response.text
    return response.json()


def status_of(bundle: dict) -> dict:
    """The SubscriptionStatus Parameters leading a notification, as name -> parameter(s)."""
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "history"
    first = bundle["entry"][0]
    params = first["resource"]
    assert params["resourceType"] == "Parameters" and params["meta"]["profile"] == [STATUS_PROFILE]
    assert first["request"]["method"] == "GET" and first["request"]["url"].endswith("/$status")
    out: dict = {}
    for p in params["parameter"]:
        out.setdefault(p["name"], []).append(p)
    return out


def event_numbers(status: dict) -> list[str]:
    return [next(x["valueString"] for x in e["part"] if x["name"] == "event-number")
            for e in status.get("notification-event", [])]


def appointment(patient: str, status: str) -> dict:
    return {"resourceType": "Appointment", "status": status,
            "participant": [{"actor": {"reference": patient}, "status": "accepted"}]}


def test_appointment_status_change_full_resource_filtered_by_patient(fhir, receiver):
    alice = post(fhir, {"resourceType": "Patient", "name": [{"family": "Alice"}]})
    bob = post(fhir, {"resourceType": "Patient", "name": [{"family": "Bob"}]})
    resource = subscription(f"{receiver.url}/topic", APPOINTMENTS, payload="application/fhir+json",
                            content="full-resource", filters=(f"Appointment?patient=Patient/{alice['id']}",))
    response = fhir.post("/Subscription", json=resource, headers=HEADERS)
    assert response.status_code == 201, response.text
    sub = response.json()
    handshake = receiver.wait_for(1)[0]
    assert handshake.headers["Content-Type"] == FHIR_JSON
    status = status_of(handshake.json())
    assert status["type"][0]["valueCode"] == "handshake" and status["status"][0]["valueCode"] == "requested"
    assert status["topic"][0]["valueCanonical"] == APPOINTMENTS
    assert status["subscription"][0]["valueReference"]["reference"].endswith(f"/Subscription/{sub['id']}")

    wait_status(fhir, sub["id"], "active")
    receiver.reset()

    booked = post(fhir, appointment(f"Patient/{alice['id']}", "booked"))
    post(fhir, appointment(f"Patient/{bob['id']}", "booked"))  # filtered out
    first = receiver.wait_for(1)[0].json()
    status = status_of(first)
    assert status["type"][0]["valueCode"] == "event-notification"
    assert status["events-since-subscription-start"][0]["valueString"] == "1"
    assert event_numbers(status) == ["1"]
    focus = next(x for x in status["notification-event"][0]["part"] if x["name"] == "focus")
    assert focus["valueReference"]["reference"].endswith(f"/Appointment/{booked['id']}")
    assert first["entry"][1]["resource"]["status"] == "booked"
    assert first["entry"][1]["request"] == {"method": "POST", "url": "Appointment"}

    booked["comment"] = "bring the referral letter"  # no status change: no event
    booked = put(fhir, booked)
    booked["status"] = "cancelled"
    put(fhir, booked)
    got = receiver.wait_for(2)
    second = got[1].json()
    assert event_numbers(status_of(second)) == ["2"]
    assert second["entry"][1]["resource"]["status"] == "cancelled"
    assert second["entry"][1]["request"]["method"] == "PUT"
    assert len(receiver.settle(1.2)) == 2


def test_task_status_change_id_only_filtered_by_status(fhir, receiver):
    create_active(fhir, receiver, subscription(f"{receiver.url}/tasks", TASKS, payload="application/fhir+json",
                                               content="id-only", filters=("Task?status=completed",)))
    task = post(fhir, {"resourceType": "Task", "status": "requested", "intent": "order"})
    task["status"] = "in-progress"
    task = put(fhir, task)
    task["status"] = "completed"
    put(fhir, task)
    got = receiver.wait_for(1)
    bundle = got[0].json()
    assert event_numbers(status_of(bundle)) == ["1"]
    entry = bundle["entry"][1]
    assert entry["fullUrl"].endswith(f"/Task/{task['id']}") and "resource" not in entry
    assert len(receiver.settle(1.2)) == 1


def test_claimresponse_available_empty_payload(fhir, receiver):
    create_active(fhir, receiver, subscription(f"{receiver.url}/claims", CLAIM_RESPONSES))
    response = post(fhir, {"resourceType": "ClaimResponse", "status": "active", "type": {"text": "x"},
                           "use": "preauthorization", "patient": {"reference": "Patient/p1"},
                           "created": "2026-12-01", "insurer": {"reference": "Organization/o1"},
                           "outcome": "queued"})
    assert receiver.settle(1.2) == []  # queued: no result yet
    response["outcome"] = "complete"
    put(fhir, response)
    bundle = receiver.wait_for(1)[0].json()
    status = status_of(bundle)
    assert event_numbers(status) == ["1"]
    assert len(bundle["entry"]) == 1  # empty: no focus entry...
    assert all(x["name"] != "focus" for x in status["notification-event"][0]["part"])  # ...and no focus


def test_status_and_events_operations(fhir, receiver):
    sub = create_active(fhir, receiver, subscription(f"{receiver.url}/tasks", TASKS, payload="application/fhir+json",
                                                     content="full-resource"))
    other = create_active(fhir, receiver, subscription(f"{receiver.url}/other", "Patient?"))
    tasks = [post(fhir, {"resourceType": "Task", "status": "requested", "intent": "order"}) for _ in range(3)]
    receiver.wait_for(3)

    one = fhir.get(f"/Subscription/{sub['id']}/$status")
    assert one.status_code == 200, one.text
    assert one.json()["type"] == "searchset"
    status = {p["name"]: p for p in one.json()["entry"][0]["resource"]["parameter"]}
    assert status["type"]["valueCode"] == "query-status"
    assert status["status"]["valueCode"] == "active"
    assert status["events-since-subscription-start"]["valueString"] == "3"

    both = fhir.get("/Subscription/$status", params={"id": f"{sub['id']},{other['id']}"}).json()
    assert both["total"] == 2
    only_active = fhir.get("/Subscription/$status", params={"status": "off"}).json()
    assert only_active["total"] == 0

    events = fhir.get(f"/Subscription/{sub['id']}/$events", params={"eventsSinceNumber": 2})
    assert events.status_code == 200, events.text
    bundle = events.json()
    status = status_of(bundle)
    assert status["type"][0]["valueCode"] == "query-event"
    assert event_numbers(status) == ["2", "3"]
    assert [e["resource"]["id"] for e in bundle["entry"][1:]] == [t["id"] for t in tasks[1:]]
    ids_only = fhir.get(f"/Subscription/{sub['id']}/$events", params={"content": "id-only"}).json()
    assert all("resource" not in e for e in ids_only["entry"][1:]) and len(ids_only["entry"]) == 4
    too_much = fhir.get(f"/Subscription/{other['id']}/$events", params={"content": "full-resource"})
    assert too_much.status_code == 400 and too_much.json()["resourceType"] == "OperationOutcome"
    assert fhir.get("/Subscription/nope/$status").status_code == 404
    # Advertised from the operation registry.
    statement = fhir.get("/metadata").json()
    entry = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Subscription")
    assert {"status", "events"} <= {op["name"] for op in entry["operation"]}


def test_topic_filters_are_checked_at_creation(fhir, receiver):
    for filters, says in ((("Task?subject:missing=true&priority=asap",), "priority"),
                          (("Appointment?patient=Patient/1",), "Appointment")):
        response = fhir.post("/Subscription", json=subscription(f"{receiver.url}/t", TASKS, filters=filters),
                             headers=HEADERS)
        assert response.status_code == 422, response.text
        assert says in response.json()["issue"][0]["diagnostics"]


def test_heartbeat_when_nothing_happens(fhir, receiver):
    resource = subscription(f"{receiver.url}/beat", TASKS)
    resource["channel"]["extension"] = [{"url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
                                                "backport-heartbeat-period", "valueUnsignedInt": 1}]
    create_active(fhir, receiver, resource)
    beats = receiver.wait_for(2, timeout=8)
    for beat in beats:
        status = status_of(beat.json())
        assert status["type"][0]["valueCode"] == "heartbeat" and status["status"][0]["valueCode"] == "active"
        assert "notification-event" not in status
    # Not on an R4 criteria subscription: there is no Bundle to carry it.
    resource = subscription(f"{receiver.url}/beat", "Task?")
    resource["channel"]["extension"] = [{"url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
                                                "backport-heartbeat-period", "valueUnsignedInt": 1}]
    response = fhir.post("/Subscription", json=resource, headers=HEADERS)
    assert response.status_code == 422 and "heartbeat" in response.json()["issue"][0]["diagnostics"]
