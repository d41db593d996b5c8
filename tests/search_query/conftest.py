"""A real database (SQLite file; PostgreSQL when PASSERELLE_TEST_DATABASE_URL is set)
seeded once per session with resources and their index rows, written directly (no
extraction), so that each test states a query and the ids it must find."""

from __future__ import annotations

import os
from datetime import datetime
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import create_engine, event, insert, text

from server.search.builder import build_search, count_search
from server.search.include import resolve_includes
from server.search.index_rows import (
    DateIndex,
    NumberIndex,
    QuantityIndex,
    ReferenceIndex,
    StringIndex,
    TokenIndex,
    UriIndex,
)
from server.search.normalize import normalize
from server.search.parse import parse_search
from server.search.registry import SearchRegistry
from server.storage.models import (
    Base,
    IdxDate,
    IdxNumber,
    IdxQuantity,
    IdxReference,
    IdxString,
    IdxToken,
    IdxUri,
    Resource,
)

PG_SCHEMA = "search_query_test"
TABLE_OF = {
    StringIndex: IdxString,
    TokenIndex: IdxToken,
    DateIndex: IdxDate,
    NumberIndex: IdxNumber,
    QuantityIndex: IdxQuantity,
    ReferenceIndex: IdxReference,
    UriIndex: IdxUri,
}

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
GENDER = "http://hl7.org/fhir/administrative-gender"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def d(*parts) -> datetime:
    return datetime(*parts)


def name(text_: str) -> StringIndex:
    return StringIndex("name", normalize(text_), text_)


def ref(param: str, target: str) -> ReferenceIndex:
    rtype, _, rid = target.partition("/")
    return ReferenceIndex(param, rtype, rid)


END = 999999  # microseconds: the inclusive end of a second

# (type, id, last_updated, index rows, deleted)
DATA = [
    ("Organization", "org1", d(2023, 1, 1), [name("Acme Health")], False),
    ("Organization", "org2", d(2023, 1, 2), [name("Beta Clinic")], False),
    ("Practitioner", "pr1", d(2023, 1, 3), [name("Who")], False),
    ("Group", "g1", d(2023, 1, 4), [], False),
    ("Patient", "pat1", d(2024, 1, 1, 10), [
        name("Smith"), name("Jöhn"),
        DateIndex("birthdate", d(2024, 12, 31, 23, 0), d(2024, 12, 31, 23, 0, 59, END)),
        TokenIndex("gender", GENDER, "male"),
        TokenIndex("identifier", "http://hosp/mrn", "111", "Medical record"),
        TokenIndex("identifier:of-type", V2_0203, "MR|111"),
        TokenIndex("active", None, "true"),
        ref("organization", "Organization/org1"),
        ref("general-practitioner", "Practitioner/pr1"),
    ], False),
    ("Patient", "pat2", d(2024, 1, 2), [
        name("Smithson"), name("Ann"),
        DateIndex("birthdate", d(2023, 5, 10), d(2023, 5, 10, 23, 59, 59, END)),
        TokenIndex("gender", GENDER, "female"),
        TokenIndex("identifier", "http://hosp/mrn", "222"),
        ref("organization", "Organization/org2"),
    ], False),
    ("Patient", "pat3", d(2024, 1, 3), [
        name("Jones"),
        TokenIndex("gender", GENDER, "other"),
        TokenIndex("identifier", None, "333"),
    ], False),
    # Deleted: real storage drops its index rows; keeping them proves the deleted filter.
    ("Patient", "pat4", d(2024, 1, 4), [name("Smith"), TokenIndex("gender", GENDER, "male")], True),
    ("Observation", "obs1", d(2024, 2, 1), [
        ref("subject", "Patient/pat1"),
        TokenIndex("code", LOINC, "1234-5", "Glucose [Mass/volume] in Blood"),
        QuantityIndex("value-quantity", UCUM, "mg/dL", "mg/dL", 5.4, 5.35, 5.45),
        DateIndex("date", d(2024, 3, 5, 10), d(2024, 3, 5, 10, 0, 0, END)),
    ], False),
    ("Observation", "obs2", d(2024, 2, 2), [
        ref("subject", "Patient/pat2"),
        TokenIndex("code", LOINC, "999-9", "Hemoglobin"),
        QuantityIndex("value-quantity", UCUM, "mg", "mg", 100, 99.5, 100.5),
        DateIndex("date", d(2023, 1, 1), d(2023, 1, 31, 23, 59, 59, END)),
    ], False),
    ("Observation", "obs3", d(2024, 2, 3), [
        ref("subject", "Patient/pat1"),
        TokenIndex("code", "http://snomed.info/sct", "1234-5"),
        QuantityIndex("value-quantity", UCUM, "mg/dL", "mg/dL", 5.45, 5.445, 5.455),
        DateIndex("date", d(2024, 3, 1), None),  # an open Period
    ], False),
    ("Observation", "obs4", d(2024, 2, 4), [
        ref("subject", "Group/g1"),
        TokenIndex("code", LOINC, "1234-5"),
        DateIndex("date", d(2022, 1, 1), d(2022, 12, 31, 23, 59, 59, END)),
    ], False),
    ("Observation", "obs5", d(2024, 2, 5), [
        ref("subject", "Patient/pat4"),  # refers to a deleted patient
        ReferenceIndex("performer", None, None, None, "http://other.example/fhir/Practitioner/9"),
    ], False),
    ("Provenance", "prov1", d(2024, 3, 1), [ref("target", "Observation/obs1")], False),
    ("RiskAssessment", "ra1", d(2024, 4, 1), [NumberIndex("probability", 0.8, 0.75, 0.85)], False),
    ("RiskAssessment", "ra2", d(2024, 4, 2), [NumberIndex("probability", 100, 99.5, 100.5)], False),
    ("RiskAssessment", "ra3", d(2024, 4, 3), [NumberIndex("probability", 0.05, 0.045, 0.055)], False),
    ("RiskAssessment", "ra4", d(2024, 4, 4), [], False),
    ("ValueSet", "vs1", d(2024, 5, 1), [UriIndex("url", "http://acme.org/fhir/ValueSet/123")], False),
    ("ValueSet", "vs2", d(2024, 5, 2), [UriIndex("url", "http://acme.org/fhir/ValueSet/456")], False),
    ("ValueSet", "vs3", d(2024, 5, 3), [UriIndex("url", "http://other.org/ValueSet/9")], False),
    ("ValueSet", "vs4", d(2024, 5, 4), [UriIndex("url", "http://acme.org/fhir")], False),
]


def _seed(conn) -> dict[int, str]:
    ids = {}
    for rtype, fid, updated, rows, deleted in DATA:
        pid = conn.execute(
            insert(Resource).values(
                resource_type=rtype, fhir_id=fid, version_id=1, last_updated=updated, deleted=deleted
            ).returning(Resource.pid)
        ).scalar_one()
        ids[pid] = fid
        for row in rows:
            values = {f: getattr(row, f) for f in row.__slots__}
            conn.execute(insert(TABLE_OF[type(row)]).values(pid=pid, resource_type=rtype, **values))
    return ids


def _sqlite_engine(path):
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _wal(dbapi_conn, _):
        dbapi_conn.execute("PRAGMA journal_mode=WAL")

    return engine


def _pg_engine(url, schema=PG_SCHEMA):
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    return create_engine(url).execution_options(schema_translate_map={None: schema})


def make_engine(kind: str, tmp_path_factory, schema: str = PG_SCHEMA):
    """An empty database with our tables: a SQLite file, or a fresh PostgreSQL schema."""
    if kind == "postgresql":
        url = os.environ.get("PASSERELLE_TEST_DATABASE_URL")
        if not url:
            pytest.skip("PASSERELLE_TEST_DATABASE_URL not set")
        engine = _pg_engine(url, schema)
    else:
        engine = _sqlite_engine(tmp_path_factory.mktemp(schema) / "search.db")
    Base.metadata.create_all(engine)
    return engine


@pytest.fixture(scope="session")
def registry():
    return SearchRegistry.default()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def seeded(request, tmp_path_factory):
    engine = make_engine(request.param, tmp_path_factory)
    with engine.begin() as conn:
        ids = _seed(conn)
    yield engine, ids
    engine.dispose()


@pytest.fixture(params=["drive", "probe"])
def db(request, seeded, registry):
    """``drive``: the query as built. ``probe``: the same with an ``_id`` list of every
    resource added, which then drives the query, so that every other criterion is
    exercised in its EXISTS (probing) form too."""
    engine, ids = seeded
    return Db(engine, registry, ids, probe=request.param == "probe")


class Db:
    def __init__(self, engine, registry, ids: dict[int, str], probe: bool = False):
        self.engine, self.registry, self.ids, self.probe = engine, registry, ids, probe

    def query(self, resource_type: str | None, qs: str):
        params = parse_qsl(qs, keep_blank_values=True)
        if self.probe and resource_type:
            params.append(("_id", ",".join(sorted(self.ids.values()))))
        return parse_search(resource_type, params, self.registry)

    def search(self, resource_type: str | None, qs: str, **kw) -> list[str]:
        """Ids matched, in result order."""
        stmt = build_search(self.query(resource_type, qs), self.registry, page_size=100, **kw)
        with self.engine.connect() as conn:
            return [self.ids[p] for p in conn.execute(stmt).scalars()]

    def count(self, resource_type: str | None, qs: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(count_search(self.query(resource_type, qs), self.registry)).scalar_one()

    def includes(self, resource_type: str, qs: str, **kw) -> tuple[list[str], list[str]]:
        """(matched ids in order, included ids sorted)."""
        query = self.query(resource_type, qs)
        with self.engine.connect() as conn:
            pids = list(conn.execute(build_search(query, self.registry, page_size=100)).scalars())
            extra = resolve_includes(conn, pids, query, **kw)
        return [self.ids[p] for p in pids], sorted(self.ids[p] for p in extra)
