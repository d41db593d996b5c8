"""Concurrent ingests of one new person give one golden record (real parallel HTTP clients).

PostgreSQL: the blocking keys' advisory locks make the second transaction wait for
the first and then find its record; SQLite serializes writers.
"""

from __future__ import annotations

import threading

from .helpers import IPP, golden_of, goldens, patient


def test_parallel_creates_of_the_same_new_person(server):
    clients = [server.client() for _ in range(6)]
    for round_number in range(3):
        barrier = threading.Barrier(len(clients))
        results: list = [None] * len(clients)

        def ingest(i: int, client) -> None:
            person = patient(family=f"Lemaire{round_number}", given="Camille", birth=f"199{round_number}-02-11",
                             identifier=[{"system": IPP, "value": f"IPP-{round_number}-{i}"}])
            barrier.wait()
            results[i] = client.post("/Patient", json=person)

        threads = [threading.Thread(target=ingest, args=(i, c)) for i, c in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(r.status_code == 201 for r in results), [r.text for r in results if r.status_code != 201]
        assert len({golden_of(r.json()) for r in results}) == 1
    with server.client() as fhir:
        assert len(goldens(fhir)) == 3
    for c in clients:
        c.close()
