"""mappers.notes.extract on short notes: what is kept, what is left out, and the attributes."""

from __future__ import annotations

import pytest

from mappers import notes


def concepts(found) -> tuple[list[str], list[str]]:
    return [a.concept.id for a in found.allergies], [m.concept.id for m in found.medications]


def test_english_allergy_with_reaction_and_severity():
    found = notes.extract("ALLERGIES: aspirin - bronchospasm (severe).", "en")
    [allergy] = found.allergies
    assert allergy.concept.id == "sub:acide acetylsalicylique"
    assert allergy.reactions == ["bronchospasm"]
    assert allergy.severity == "severe"
    assert allergy.certainty == "confirmed"
    assert found.medications == []


def test_french_allergy_to_a_class_and_a_food():
    found = notes.extract("Allergies : pénicilline (urticaire), arachide (choc anaphylactique).", "fr")
    assert concepts(found) == (["cls:penicillins", "own:peanut"], [])
    assert [a.reactions for a in found.allergies] == [["urticaria"], ["anaphylaxis"]]
    assert found.allergies[1].concept.category == "food"


@pytest.mark.parametrize("text, language", [
    ("Patient denies penicillin allergy. No allergy to latex.", "en"),
    ("Pas d'allergie à la pénicilline. Nie toute allergie au latex.", "fr"),
    ("Mother allergic to penicillin. Father on metformin.", "en"),
    ("Mère allergique à la pénicilline. Son père est sous metformine.", "fr"),
    ("If she develops a reaction, avoid erythromycin.", "en"),
    ("En cas d'infection, éviter l'érythromycine.", "fr"),
])
def test_negated_family_and_hypothetical_mentions_are_left_out(text, language):
    assert concepts(notes.extract(text, language)) == ([], [])


def test_possible_allergy_is_kept_as_possible():
    found = notes.extract("Suspected allergy to amoxicillin (maculopapular rash).", "en")
    [allergy] = found.allergies
    assert (allergy.concept.id, allergy.certainty, allergy.reactions) == ("sub:amoxicilline", "possible", ["rash"])


def test_historical_medication_is_stopped():
    found = notes.extract("Previously on simvastatin, stopped due to myalgia. Now on rosuvastatin 10 mg daily.", "en")
    assert {(m.concept.id, m.status) for m in found.medications} == {
        ("sub:simvastatine", "stopped"), ("own:rosuvastatin", "active")}


def test_medication_sig_english():
    found = notes.extract("Discharge meds:\n- Oxycodone 5 mg PO every 4 hours as needed\n"
                          "- Senna 2 tablets at night\n", "en")
    oxycodone, senna = found.medications
    assert (oxycodone.sig.strength, oxycodone.sig.route, oxycodone.sig.frequency) == ("5 mg", "oral", "1/4h prn")
    assert (senna.sig.dose, senna.sig.frequency) == ("2 tablet", "1/1d")


def test_medication_sig_french_brand_names():
    found = notes.extract("Traitement : Kardégic 75 mg 1 sachet par jour, Lantus 20 UI SC au coucher, "
                          "Previscan 20 mg 3/4 cp le soir.", "fr")
    kardegic, lantus, previscan = found.medications
    assert kardegic.concept.id == "sub:acide acetylsalicylique"
    assert (kardegic.sig.strength, kardegic.sig.dose, kardegic.sig.frequency) == ("75 mg", "1 sachet", "1/1d")
    assert (lantus.concept.id, lantus.sig.dose, lantus.sig.route) == ("sub:insuline glargine", "20 unit", "sc")
    assert (previscan.concept.id, previscan.sig.dose) == ("sub:fluindione", "0.75 tablet")


def test_misspelled_drug_names_are_found():
    found = notes.extract("meds: bisoprolo 5mg mane, atorvastatn 40mg", "en")
    assert [m.concept.id for m in found.medications] == ["sub:bisoprolol", "sub:atorvastatine"]
    assert [m.sig.strength for m in found.medications] == ["5 mg", "40 mg"]


def test_mention_is_the_exact_span_of_the_source():
    text = "Pt given ondansetron 4 mg IV. Known allergy: tramadol (vomiting)."
    found = notes.extract(text, "en")
    for finding in [*found.allergies, *found.medications]:
        assert text[finding.mention.start:finding.mention.end] == finding.mention.text
    assert [f.mention.text for f in [*found.allergies, *found.medications]] == ["tramadol", "ondansetron"]


def test_an_ordinary_word_that_names_a_substance_is_not_a_drug():
    # "or" is gold (a substance of the ANSM index) and an English conjunction.
    found = notes.extract("Denies taking aspirin or NSAIDs. Takes allopurinol 300 mg daily.", "en")
    assert concepts(found) == ([], ["sub:allopurinol"])


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language"):
        notes.extract("Allergies: none", "de")


def test_both_sentence_splitters_find_the_same_here():
    text = "Allergies: codeine (nausea).\nMedications:\n1. Apixaban 5 mg BID\n2. Bisoprolol 2.5 mg OD\n"
    fast, rush = notes.extract(text, "en"), notes.extract(text, "en", splitter="pyrush")
    assert concepts(fast) == concepts(rush) == (["sub:codeine"], ["sub:apixaban", "sub:bisoprolol"])
