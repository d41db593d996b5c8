"""What the write-time hook asks of the database (server.mdm.listener, index): one lookup
per record written, one insert of its changed rows, nothing read back from the same
transaction, nothing at all written for an edit that changes no matching field."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from .helpers import golden_of, patient


@contextmanager
def statements(engine):
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def on_block_keys(seen: list[str]) -> list[str]:
    return [s for s in seen if "mdm_block_key" in s]


FAMILIES = ["Lefèvre", "Garnier", "Rousseau", "Fontaine", "Chevalier", "Mercier", "Blanchard", "Guérin", "Boyer",
            "Gauthier", "Perrin", "Morel", "Girard", "André", "Bonnet", "Dupuis", "Lambert", "Faure", "Renaud",
            "Barbier", "Schmitt", "Colin", "Vidal", "Caron"]
GIVEN = ["Anne", "Louis", "Marc", "Zoé", "Inès", "Hugo"]


def people(n: int) -> list[dict]:
    """n people sharing no blocking key: no candidates."""
    return [patient(family=FAMILIES[i], given=GIVEN[i % 6], birth=f"19{40 + i}-0{1 + i % 9}-1{i % 9}",
                    identifier=[{"system": "urn:oid:1.2.3", "value": f"P{i}"}]) for i in range(n)]


def test_new_people_cost_two_statements_each(server):
    store = server.ctx.store
    with statements(store.engine) as seen, store.write() as uow:
        for resource in people(24):
            uow.create(resource)
        during = list(seen)
    mdm = on_block_keys(during)
    assert len([s for s in mdm if s.startswith("SELECT")]) == 24  # the lookup, one per record
    assert len([s for s in mdm if s.startswith("INSERT")]) == 24  # its rows, one statement
    assert not [s for s in mdm if s.startswith("DELETE")]  # nothing to replace on a create
    # Golden records are buffered with the records: no flush, no read of the store mid-way.
    assert not [s for s in during if s.startswith("SELECT") and "resource_version" in s]


def test_the_same_person_twice_in_one_transaction_is_not_read_back(server):
    store = server.ctx.store
    with statements(store.engine) as seen, store.write() as uow:
        first = uow.create(patient(identifier=[{"system": "urn:oid:1.2.3", "value": "P1"}])).resource()
        second = uow.create(patient(identifier=[{"system": "urn:oid:1.2.3", "value": "P1"}])).resource()
        during = list(seen)
    assert golden_of(first) == golden_of(second)
    # The candidate is the record written just before: scored from memory, not re-read.
    assert not [s for s in during if "resource_version.content" in s and "mdm_block_key" not in s
                and s.startswith("SELECT resource.fhir_id")]


def test_an_edit_of_no_matching_field_writes_nothing_for_matching(server):
    store = server.ctx.store
    with store.write() as uow:
        stored = uow.create(patient())
    with statements(store.engine) as seen, store.write() as uow:
        uow.update({**stored.resource(), "multipleBirthBoolean": False}, stored.id)
        during = list(seen)
    assert [s.split()[0] for s in on_block_keys(during)] == ["SELECT"]  # the lookup only
