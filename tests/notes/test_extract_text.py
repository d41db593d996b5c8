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


# -- long letters: sections, regimens, clause limits (issue 7, second pass) ------------------


def test_prose_after_an_inline_allergy_list_is_not_the_list():
    found = notes.extract("Allergies: angioedema with perindopril in 2019 (ACE inhibitor). "
                          "He has taken ramipril for two years without problem.\n", "en")
    # the class in parentheses says what perindopril is; ramipril, in the next sentence, is a treatment
    assert concepts(found) == (["sub:perindopril"], ["sub:ramipril"])


def test_list_sentences_on_the_allergy_line_stay_in_the_list():
    found = notes.extract("Allergies: Tramadol - confusion. Erythromycin - diarrhoea.\n", "en")
    assert concepts(found) == (["sub:tramadol", "sub:erythromycine"], [])
    assert [a.reactions for a in found.allergies] == [["confusion"], ["diarrhea"]]


def test_severity_belongs_to_its_own_list_item():
    found = notes.extract("Allergies: flucloxacillin -> rash (mild) ; clindamycin -> diarrhoea\n", "en")
    assert [(a.concept.id, a.severity) for a in found.allergies] == [
        ("sub:flucloxacilline", "mild"), ("sub:clindamycine", None)]


def test_two_regimens_of_one_drug_stay_two_and_a_repeated_one_is_completed():
    found = notes.extract("Oxycodone MR 10 mg twice daily. Oxycodone 5 mg every 4 hours as needed.\n"
                          "Calcium and vitamin D (Adcal-D3) one tablet twice daily.\n", "en")
    assert [(m.concept.id, m.sig.strength, m.sig.frequency) for m in found.medications] == [
        ("sub:oxycodone", "10 mg", "2/1d"), ("sub:oxycodone", "5 mg", "1/4h prn"),
        ("own:calcium-colecalciferol", None, "2/1d")]
    assert found.medications[2].sig.dose == "1 tablet"


def test_the_frequency_written_first_wins():
    [pred] = notes.extract("Prednisolone 40 mg once daily, reduce by 5 mg every week.\n", "en").medications
    assert pred.sig.frequency == "1/1d"
    [metformin] = notes.extract("| Metformin | 500 mg | PO | twice daily with meals |\n", "en").medications
    assert metformin.sig.frequency == "2/1d"


@pytest.mark.parametrize("text, language, expected", [
    # the IV is vancomycin's; "then" starts doxycycline's sig; "oral" before a name is that name's
    ("Treated with IV vancomycin 1 g bd for 3 days then PO doxycycline 100 mg bd.", "en",
     [("sub:vancomycine", "iv", "2/1d"), ("sub:doxycycline", "oral", "2/1d")]),
    ("Switched to fondaparinux 7.5 mg SC once daily and then to rivaroxaban 20 mg daily.", "en",
     [("sub:fondaparinux", "sc", "1/1d"), ("sub:rivaroxaban", None, "1/1d")]),
    ("Hydrocortisone 100 mg IV 4 fois par jour puis relais par prednisolone per os.", "fr",
     [("sub:hydrocortisone", "iv", "4/1d"), ("sub:prednisolone", "oral", None)]),
])
def test_a_sig_stops_where_the_next_treatment_starts(text, language, expected):
    found = notes.extract(text, language)
    assert [(m.concept.id, m.sig.route, m.sig.frequency) for m in found.medications] == expected


def test_a_concentration_is_not_a_strength():
    [enox] = notes.extract("Sous énoxaparine, plaquettes passées de 250 à 60 G/L à J7.", "fr").medications
    assert enox.sig.strength is None


def test_french_as_needed_is_not_a_condition_on_the_next_drugs():
    found = notes.extract("Ttt : sumatriptan 50 mg si crise, Ventoline si besoin, Leeloo (pilule).", "fr")
    assert [(m.concept.id, m.sig.frequency) for m in found.medications] == [
        ("sub:sumatriptan", "prn"), ("sub:salbutamol", "prn"), ("own:ethinylestradiol-levonorgestrel", None)]


@pytest.mark.parametrize("text, expected", [
    ("Traitement actuel : venlafaxine LP 75 mg 1 fois par jour depuis août.", ("sub:venlafaxine", "active")),
    ("Oramorph 2,5 mg PO si douleur - non donné cette nuit.", ("sub:morphine", "active")),
    ("Au cours du séjour, arrêt du Laroxyl, à ne pas reprendre.", ("sub:amitriptyline", "stopped")),
])
def test_french_translated_context_rules_that_said_the_opposite(text, expected):
    [med] = notes.extract(text, "fr").medications
    assert (med.concept.id, med.status) == expected


@pytest.mark.parametrize("text, language", [
    ("Sacubitril/valsartan to be considered in clinic.", "en"),
    ("Un traitement par sacubitril/valsartan sera discuté en consultation.", "fr"),
])
def test_a_treatment_to_be_discussed_is_not_taken(text, language):
    assert concepts(notes.extract(text, language)) == ([], [])


@pytest.mark.parametrize("text, language, allergen", [
    ("Allergies : codéine -> vomissements ; ? latex (pte pas sûre).", "fr", "own:latex"),
    ("Allergies: codeine -> vomiting; ?latex (pt unsure).", "en", "own:latex"),
    ("Says she may also be allergic to nitrofurantoin.", "en", "own:nitrofurantoin"),
])
def test_doubtful_allergies_are_possible_not_denied(text, language, allergen):
    found = notes.extract(text, language)
    assert (allergen, "possible") in [(a.concept.id, a.certainty) for a in found.allergies]


def test_on_before_another_drug_is_not_at_night():
    found = notes.extract("Aspirin 75 mg stopped by cardiology (on clopidogrel alone). Atorvastatin 20 mg ON.\n", "en")
    assert [(m.concept.id, m.sig.frequency) for m in found.medications] == [
        ("sub:acide acetylsalicylique", None), ("sub:clopidogrel", None), ("sub:atorvastatine", "1/1d")]
    assert found.medications[0].sig.text == "75 mg stopped by cardiology (on"  # as written, nothing added


@pytest.mark.parametrize("text, language", [
    ("GP record lists aspirin 75 mg but the patient stopped it 6 months ago (on clopidogrel alone).", "en"),
    ("Le DMP mentionne Kardégic 75 mg mais le patient l'a arrêté il y a 6 mois (sous clopidogrel seul).", "fr"),
])
def test_a_drug_the_patient_stopped_it_across_but_is_stopped(text, language):
    found = notes.extract(text, language)
    assert [(m.concept.id, m.status) for m in found.medications] == [
        ("sub:acide acetylsalicylique", "stopped"), ("sub:clopidogrel", "active")]
