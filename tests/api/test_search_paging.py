"""Paging through search results while other clients write (R4 http.html#paging).

Whatever is created, updated or deleted between two pages, a client following ``next``
sees every resource that matched when it started at most once, and every one of them
that is still there exactly once.
"""

from __future__ import annotations

import pytest


def page_ids(bundle: dict) -> list[str]:
    return [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match"]


def link(bundle: dict, relation: str) -> str | None:
    return next((lk["url"] for lk in bundle.get("link", []) if lk["relation"] == relation), None)


def create(fhir, family: str) -> dict:
    response = fhir.post("/Patient", json={"resourceType": "Patient", "name": [{"family": family}]})
    assert response.status_code == 201
    return response.json()


def rename(fhir, patient: dict, family: str) -> None:
    assert fhir.put(f"/Patient/{patient['id']}", json={**patient, "name": [{"family": family}]}).status_code == 200


def walk(fhir, first: dict, between_pages) -> list[str]:
    """Every id served from ``first`` on, calling ``between_pages(n)`` before page n+1."""
    seen, bundle, n = page_ids(first), first, 1
    while url := link(bundle, "next"):
        between_pages(n)
        bundle = fhir.get(url).json()
        seen += page_ids(bundle)
        n += 1
    return seen


# Each order, with the writes between pages that would break offset or naive keyset paging:
# creations, updates of resources already served and of resources not served yet (an
# update moves a resource in any order on _lastUpdated; a rename in an order on name).
@pytest.mark.parametrize("sort", [None, "_id", "-_id", "_lastUpdated", "-_lastUpdated", "family", "-family"])
def test_pages_never_repeat_or_skip_while_others_write(fhir, sort):
    patients = [create(fhir, f"F{i:02d}") for i in range(10)]
    params = {"_count": "3", "_total": "accurate", **({"_sort": sort} if sort else {})}
    first = fhir.get("/Patient", params=params).json()
    assert first["total"] == 10
    served_first = set(page_ids(first))
    unserved = [p for p in patients if p["id"] not in served_first]
    served = [p for p in patients if p["id"] in served_first]

    def write(n: int) -> None:
        create(fhir, f"A-new-{n}")  # sorts first by name, last by creation
        create(fhir, f"Z-new-{n}")
        rename(fhir, served[n % len(served)], f"Z-renamed-{n}")  # served: moves behind the cursor
        rename(fhir, unserved[-n], f"A-renamed-{n}")  # not yet served: moves ahead of it

    seen = walk(fhir, first, write)
    assert len(seen) == len(set(seen)), f"a resource was served twice: {seen}"
    assert {p["id"] for p in patients} <= set(seen), "a resource that matched all along was skipped"


def test_deleted_between_pages_is_left_out(fhir):
    patients = [create(fhir, f"F{i}") for i in range(6)]
    first = fhir.get("/Patient", params={"_count": "2", "_sort": "-_lastUpdated"}).json()
    later = [p for p in patients if p["id"] not in page_ids(first)]
    seen = walk(fhir, first, lambda n: fhir.delete(f"/Patient/{later[-1]['id']}") if n == 1 else None)
    assert later[-1]["id"] not in seen
    assert len(seen) == len(set(seen)) == 5


def test_snapshot_pages_link_first_previous_next(fhir):
    for i in range(7):
        create(fhir, f"F{i}")
    first = fhir.get("/Patient", params={"_count": "3", "_sort": "family"}).json()
    second = fhir.get(link(first, "next")).json()
    assert link(first, "previous") is None
    assert page_ids(fhir.get(link(second, "previous")).json()) == page_ids(first)
    assert page_ids(fhir.get(link(second, "first")).json()) == page_ids(first)
    third = fhir.get(link(second, "next")).json()
    assert len(page_ids(third)) == 1 and link(third, "next") is None
    assert second["total"] == third["total"] == 7
    assert "_page=" in link(second, "self")


def test_offset_then_cursor(fhir):
    patients = [create(fhir, f"F{i}") for i in range(5)]
    for sort in (None, "family"):
        params = {"_count": "2", "_offset": "1", **({"_sort": sort} if sort else {})}
        first = fhir.get("/Patient", params=params).json()
        seen = walk(fhir, first, lambda n: None)
        assert seen == [p["id"] for p in patients][1:], sort


def test_default_order_is_creation_order(fhir):
    patients = [create(fhir, f"F{i}") for i in range(3)]
    rename(fhir, patients[0], "updated")  # an update does not move it
    assert page_ids(fhir.get("/Patient").json()) == [p["id"] for p in patients]


@pytest.mark.parametrize("token", ["garbage", "WyJrIl0", "WyJ4IiwgMV0", "WyJzIiwgIngiLCAwLCAxXQ"])
def test_bad_cursor_is_400(fhir, token):
    create(fhir, "A")
    response = fhir.get("/Patient", params={"_page": token})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["_page"]


def test_cursor_of_another_order_is_400(fhir):
    for i in range(3):
        create(fhir, f"F{i}")
    keyset = link(fhir.get("/Patient", params={"_count": "1"}).json(), "next")
    token = keyset.split("_page=")[1]
    assert fhir.get("/Patient", params={"_count": "1", "_sort": "family", "_page": token}).status_code == 400


def test_expired_snapshot_is_410(fhir, server):
    for i in range(3):
        create(fhir, f"F{i}")
    next_url = link(fhir.get("/Patient", params={"_count": "1", "_sort": "family"}).json(), "next")
    with server.ctx.store.write() as uow:  # what the expiry does to snapshots past their lifetime
        uow.conn.exec_driver_sql("DELETE FROM search_snapshot")
    response = fhir.get(next_url)
    assert response.status_code == 410
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("kind", ["batch", "transaction"])
def test_paged_search_inside_a_bundle(fhir, kind):
    for i in range(3):
        create(fhir, f"F{i}")
    entries = [{"request": {"method": "GET", "url": f"Patient?_sort={sort}&_count=1&_total=accurate"}} for sort in ("family", "_id")]
    response = fhir.post("", json={"resourceType": "Bundle", "type": kind, "entry": entries})
    assert response.status_code == 200, response.text
    for entry in response.json()["entry"]:
        searchset = entry["resource"]
        assert searchset["total"] == 3 and len(page_ids(searchset)) == 1
        assert len(page_ids(fhir.get(link(searchset, "next")).json())) == 1
