"""Unsupervised estimation (server.mdm.em / linkage): m, u and the prior learnt from the data."""

from __future__ import annotations

import random

from server.mdm.linkage import candidate_pairs, clusters, score_pairs, train
from server.mdm.model import load_models

FAMILIES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau", "Simon",
            "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel",
            "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Nguyen", "Diallo", "Haddad"]
GIVEN = ["Marie", "Camille", "Léa", "Manon", "Chloé", "Inès", "Jeanne", "Hélène", "Sophie", "Emma", "Jean",
         "Pierre", "Louis", "Lucas", "Hugo", "Nicolas", "Karim", "Paul", "Antoine", "Julien"]


def typo(rng: random.Random, text: str) -> str:
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def population(n: int = 600, seed: int = 3):
    """n persons; a third come twice, the copy with one error (name typo, transposed date, no address)."""
    rng = random.Random(seed)
    records, truth = [], set()
    for k in range(n):
        person = {"resourceType": "Patient",
                  "name": [{"family": rng.choice(FAMILIES), "given": [rng.choice(GIVEN)]}],
                  "birthDate": f"{rng.randrange(1930, 2010)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                  "gender": rng.choice(["male", "female"]),
                  "address": [{"line": [f"{rng.randrange(1, 99)} rue {rng.choice(FAMILIES)}"],
                               "postalCode": f"{rng.randrange(1000, 96000):05d}"}]}
        records.append(person)
        if k % 3 == 0:
            copy = {**person, "name": [dict(person["name"][0])]}
            error = rng.randrange(3)
            if error == 0:
                copy["name"][0]["family"] = typo(rng, person["name"][0]["family"])
            elif error == 1:
                y, m, d = person["birthDate"].split("-")
                copy["birthDate"] = f"{y}-{d}-{m}" if int(d) <= 12 else f"{y}-{m}-{int(d) - 1:02d}"
            else:
                copy.pop("address")
            truth.add((len(records) - 1, len(records)))
            records.append(copy)
    return records, truth


def test_em_learns_weights_and_finds_the_duplicates():
    model = load_models()["Patient"]
    records, truth = population()
    features = [model.features(r) for r in records]
    pairs = candidate_pairs(model, features)
    assert truth <= set(pairs)  # blocking keeps every true pair
    trained = train(model, features, pairs)
    # Candidates share names by construction: the birth date is what tells people apart.
    birth = next(c for c in trained.comparisons if c.field == "birth_date")
    assert birth.m[0] > 0.5 and birth.u[0] < 0.05
    family = next(c for c in trained.comparisons if c.field == "family")
    assert family.u[0] > 0.5  # among candidates, most non-matches agree on the family name
    expected_prior = len(truth) / len(pairs)  # the share of matches among candidate pairs
    assert expected_prior / 3 < trained.prior < expected_prior * 3
    found = {(a, b) for a, b, s in score_pairs(trained, features, pairs) if s.probability >= 0.5}
    hits = len(found & truth)
    assert hits / len(truth) > 0.95 and hits / len(found) > 0.95


def test_clusters_are_connected_components():
    assert clusters(5, [(0, 1), (1, 2), (3, 4)]) == [0, 0, 0, 3, 3]
