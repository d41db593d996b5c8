"""Identity matching in the database: ingest cost of the write-time hook and candidate search.

Used by tests/bench/mdm.py. A synthetic French population (seeded; ~1,000 family names
with a Zipf-like spread, Martin the most common) is loaded through the real write path
(``store.write()`` units of work, ``create()`` per Patient: validation, search index,
MDM hook with its blocking keys, golden records and review Tasks), in batches. One in
ten persons comes again as a second record with typos. Then probes (a known person with
a typo in the family name, or day and month transposed) go through the matcher as
``$match`` runs it: blocking-key lookups, candidate reads, scoring.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import date, timedelta

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from server.app import build_context
from server.config import Settings
from server.mdm.listener import MdmListener, mdm_of

from .rest import ROOT
from .search_population import CITIES, FAMILY, GIVEN_F, GIVEN_M

CACHE = ROOT / ".bench"
SEED = 611
BATCH = 200
PREFIXES = ["Ber", "Mar", "Lef", "Gau", "Dela", "Fon", "Ros", "Che", "Bou", "Car", "Mor", "Gir", "Lam", "Pel", "Duc",
            "Rou", "Val", "Vill", "Bla", "Cha", "Mon", "Gar", "Fau", "Ler", "Bes", "Pou", "Tes", "Mal", "Bar", "Cou"]
SUFFIXES = ["nard", "tin", "ebvre", "thier", "croix", "taine", "sier", "vallier", "rdin", "pentier", "eau", "ard",
            "bert", "letier", "hesne", "geot", "lette", "eneuve", "nchard", "ssagne", "tagne", "nier", "re", "oux",
            "son", "get", "sier", "ard", "bier", "zat"]
FAMILIES = FAMILY + [p + s for p in PREFIXES for s in SUFFIXES]
STREETS = ["rue Victor Hugo", "avenue Jean Jaurès", "rue de la République", "boulevard Pasteur", "rue des Lilas",
           "place du Marché", "rue Pasteur", "chemin des Vignes", "rue de la Gare", "allée des Tilleuls",
           "rue Voltaire", "avenue Foch", "rue du Moulin", "impasse des Roses", "rue Jules Ferry", "quai Saint-Vincent",
           "rue Émile Zola", "cours Lafayette", "rue de l'Église", "route de Lyon"]
FAMILY_WEIGHTS = [1 / (rank + 1) ** 0.8 for rank in range(len(FAMILIES))]


def person(k: int) -> dict:
    rng = random.Random(SEED * 1_000_003 + k)
    female = rng.random() < 0.52
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(33000))
    city, postal = rng.choice(CITIES)
    postal = f"{postal[:2]}{rng.randrange(1000):03d}"  # ~1,000 postcodes per department
    return {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.7", "value": f"MRN{k:08d}"}],
        "name": [{"use": "official", "family": rng.choices(FAMILIES, FAMILY_WEIGHTS)[0], "given": [given]}],
        "telecom": [{"system": "phone", "value": f"04{rng.randrange(10**7, 10**8)}"}],
        "gender": "female" if female else "male",
        "birthDate": born.isoformat(),
        "address": [{"line": [f"{rng.randrange(1, 180)} {rng.choice(STREETS)}"], "city": city, "postalCode": postal}],
    }


def variant(k: int, salt: int) -> dict:
    """Person k as another system would send it: a typo in the family name, or the birth
    date's day and month transposed, another MRN, no phone."""
    rng = random.Random(salt)
    p = person(k)
    p["identifier"] = [{"system": "urn:oid:9.9.9", "value": f"X{k}-{salt}"}]
    p.pop("telecom")
    family = p["name"][0]["family"]
    if rng.random() < 0.5 and len(family) > 3:
        i = rng.randrange(1, len(family) - 1)
        p["name"][0]["family"] = family[:i] + family[i + 1] + family[i] + family[i + 2:]
    else:
        y, m, d = p["birthDate"].split("-")
        if int(d) <= 12:
            p["birthDate"] = f"{y}-{d}-{m}"
    return p


def population(size: int):
    """size records: persons, one in ten followed by a variant of itself."""
    k = 0
    emitted = 0
    while emitted < size:
        yield person(k)
        emitted += 1
        if k % 10 == 0 and emitted < size:
            yield variant(k, k)
            emitted += 1
        k += 1


def _url(backend: str, name: str) -> str:
    if backend == "sqlite":
        CACHE.mkdir(exist_ok=True)
        path = CACHE / f"{name}.db"
        if path.exists():
            path.unlink()
        return f"sqlite:///{path}"
    base = make_url(os.environ.get("PASSERELLE_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    base = base.set(drivername="postgresql+psycopg")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def load(ctx, records, batch: int = BATCH) -> float:
    """Write the records in units of work of ``batch``; returns records per second."""
    start = time.perf_counter()
    count = 0
    chunk = []
    for record in records:
        chunk.append(record)
        if len(chunk) == batch:
            with ctx.store.write() as uow:
                for r in chunk:
                    uow.create(r)
            count += len(chunk)
            chunk = []
            if count % 20000 == 0:
                print(f"  loaded {count:,} ({count / (time.perf_counter() - start):.0f}/s)", flush=True)
    if chunk:
        with ctx.store.write() as uow:
            for r in chunk:
                uow.create(r)
        count += len(chunk)
    return count / (time.perf_counter() - start)


def ingest_cost(backend: str, n: int = 4000) -> dict:
    """Patients per second and SQL statements per Patient with and without the MDM hook,
    same records, fresh databases, run back to back (the first batch warms up and is not
    counted)."""
    rates, statements = {}, {}
    records = list(population(n))
    for with_mdm in (False, True):
        url = _url(backend, f"passerelle_bench_mdm_ingest_{int(with_mdm)}")
        ctx = build_context(Settings(database_url=url))
        if not with_mdm:
            ctx.store.listeners[:] = [x for x in ctx.store.listeners if not isinstance(x, MdmListener)]
        load(ctx, records[:BATCH])
        counted = [0]
        event.listen(ctx.store.engine, "before_cursor_execute", lambda *_: counted.__setitem__(0, counted[0] + 1))
        rates[with_mdm] = load(ctx, records[BATCH:])
        statements[with_mdm] = counted[0] / (n - BATCH)
        ctx.store.engine.dispose()
    return {"backend": backend, "records": n, "without": rates[False], "with": rates[True],
            "statements without": statements[False], "statements with": statements[True],
            "load average": os.getloadavg()[0]}


def _probe(ctx, size: int, probes: int, seed: int = 7) -> dict:
    """``probes`` known persons with a typo, matched as ``$match`` does; timings in ms."""
    mdm = mdm_of(ctx)
    model = mdm.models["Patient"]
    rng = random.Random(seed)
    persons = max(1, int(size / 1.1))
    timings, counts, found = [], [], 0
    for i in range(probes):
        k = rng.randrange(persons)
        probe = model.features(variant(k, 10**9 + i))
        start = time.perf_counter()
        with ctx.store.read() as uow:
            candidates = mdm.matcher.candidates(uow, "Patient", probe)
        timings.append((time.perf_counter() - start) * 1000)
        counts.append(len(candidates))
        found += bool(candidates and candidates[0].score.grade)
    timings.sort()
    return {"searches": probes, "rate": probes / (sum(timings) / 1000), "median": statistics.median(timings),
            "p95": timings[int(0.95 * len(timings)) - 1], "candidates": statistics.mean(counts),
            "found": found / probes}


def _report(result: dict) -> None:
    print(f"{result['backend']} {result['size']:,}: {result['rate']:.0f} searches/s, median {result['median']:.2f} ms, "
          f"p95 {result['p95']:.2f} ms, {result['candidates']:.1f} candidates, probe's person found "
          f"{result['found']:.1%} (load {result['load_rate']:.0f} Patients/s, load average "
          f"{os.getloadavg()[0]:.1f})", flush=True)


def growth(backend: str, sizes: list[int], probes: int = 500) -> list[dict]:
    """Candidate search as one population grows: load up to each size (through the write
    path, batched), probe, load on. Flat searches/s and p95 across sizes = blocking works."""
    url = _url(backend, "passerelle_bench_mdm_growth")
    ctx = build_context(Settings(database_url=url))
    records = population(max(sizes))
    results, loaded, load_seconds = [], 0, 0.0
    for size in sorted(sizes):
        start = time.perf_counter()
        load(ctx, (next(records) for _ in range(size - loaded)))
        load_seconds += time.perf_counter() - start
        loaded = size
        if backend == "postgresql":
            with ctx.store.engine.connect() as conn:  # what autovacuum would do; probes then see real plans
                conn.execute(text("ANALYZE"))
                conn.commit()
        result = {"backend": backend, "size": size, "load": load_seconds, "load_rate": size / load_seconds,
                  **_probe(ctx, size, probes), "load average": os.getloadavg()[0]}
        _report(result)
        results.append(result)
    ctx.store.engine.dispose()
    return results
