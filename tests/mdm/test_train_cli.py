"""``passerelle mdm train`` on a generated population stored in a real database: EM
recovers weights that tell the known duplicates from different people."""

from __future__ import annotations

import json

import pytest

from interfaces.cli.main import main
from server.app import build_context
from server.config import Settings
from server.mdm.model import load_models
from tests.bench.mdm_search import population

from ..conftest import BACKENDS
from .conftest import _pg_database

SIZE = 1500  # persons, one in ten stored again as a second record with a typo


@pytest.fixture(scope="module", params=BACKENDS)
def stored(request, tmp_path_factory):
    """A store holding the generated population (written with matching off: quicker, and
    training reads records, not links)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('train') / 'passerelle.db'}"
    else:
        url = _pg_database("passerelle_test_mdm_train", create=True)
    ctx = build_context(Settings(database_url=url, mdm="off"))
    records = list(population(SIZE))
    with ctx.store.write() as uow:
        for record in records:
            uow.create(record)
    ctx.store.engine.dispose()
    yield url
    if request.param != "sqlite":
        _pg_database("passerelle_test_mdm_train", create=False)


def test_train_writes_rules_whose_weights_separate_duplicates(stored, tmp_path, capsys):
    out = tmp_path / "trained.json"
    assert main(["mdm", "train", "--database-url", stored, "--type", "Patient", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Patient: 1,500 records (of 1,500 stored)" in printed and f"wrote {out}" in printed
    document = json.loads(out.read_text())
    assert "Practitioner" in document and "_trained" not in document["Practitioner"]  # untouched
    assert document["Patient"]["_trained"]["records"] == SIZE
    trained = load_models(out)["Patient"]  # loads as a site's rules file
    by_field = {c.field: c for c in trained.comparisons}

    def weight(name, level=0):
        return by_field[name].weight(level)

    # Agreement counts for, disagreement against; a birth date says more than a sex.
    for name in ("family", "given", "birth_date", "postcode", "street"):
        assert weight(name) > 2, (name, weight(name))
        assert weight(name, len(by_field[name].levels) - 1) < 0, name
    assert weight("birth_date") > weight("gender") + 3
    # No e-mail in the population: its weights stay those of the rules trained from.
    shipped = {c.field: c for c in load_models()["Patient"].comparisons}
    assert by_field["email"].m == shipped["email"].m and by_field["email"].u == shipped["email"].u
    # The population's typos: a transposed date and a swapped letter are evidence for, not against.
    assert weight("birth_date", 1) > 0  # day-month-transposed
    assert weight("family", 1) > 0  # close
    # Scored with the trained weights, a stored person and its variant are found; strangers are not.
    records = list(population(SIZE))
    person, variant, stranger = (trained.features(records[i]) for i in (0, 1, 2))
    assert trained.match(person, variant).grade in ("certain", "probable")
    assert trained.match(person, stranger).grade is None
    # The common values the live term-frequency counts will discount are listed for review.
    common = document["Patient"]["_trained"]["commonValues"]["family"]
    assert common[0][0] == "martin" and common[0][1] > common[-1][1]


def test_train_refuses_too_few_records(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    out = tmp_path / "trained.json"
    assert main(["mdm", "train", "--database-url", url, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Patient: 0 source records stored; training needs at least 200" in err
    assert "nothing trained; no file written" in err and not out.exists()


def test_train_names_a_broken_rules_file(tmp_path, capsys):
    rules = tmp_path / "rules.json"
    rules.write_text('{"Patient": {"prior": 0.001}}')
    assert main(["mdm", "train", "--rules", str(rules), "--out", str(tmp_path / "x.json"),
                 "--database-url", f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    assert f"cannot read the rules {rules}" in capsys.readouterr().err
