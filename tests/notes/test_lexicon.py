"""terminology.lexicon: forms in two languages, tied to the knowledge base or to our own codes."""

from __future__ import annotations

import shutil

import pytest

from mappers.notes import pipeline
from terminology import knowledge, lexicon
from terminology.lexicon import DATA, LexiconError


@pytest.fixture(scope="module")
def lex():
    return lexicon.load()


def test_brand_names_and_misspellings_lead_to_the_knowledge_base_substance(lex):
    kb = knowledge.load()
    amox_clav = kb.substance("amoxicilline + acide clavulanique")
    for name in ("Augmentin", "co-amoxiclav", "amoxicillin-clavulanate"):
        assert lex.lookup(name).id == f"sub:{amox_clav.key}"
    assert lex.lookup("Kardégic") is lex.lookup("aspirin") is lex.lookup("ASPIRINE")
    assert lex.lookup("metfromin").id == "sub:metformine"
    assert {"system": knowledge.RXNORM, "code": "6809", "display": "metformin"} in lex.lookup("Glucophage").codings


def test_classes_and_non_drug_allergens(lex):
    penicillins = lex.lookup("pénicillines")
    assert penicillins is lex.lookup("penicillin") and penicillins.kind == "class"
    assert penicillins.codings == [{"system": lexicon.ALLERGEN_CLASS, "code": "penicillins", "display": "penicillins"}]
    peanut = lex.lookup("cacahuètes")
    assert (peanut.category, peanut.codings[0]["system"], peanut.codings[0]["code"]) == ("food", lexicon.SNOMED,
                                                                                       "762952008")
    assert lex.lookup("latex").category == "environment"
    assert not lex.lookup("peanut").is_drug


def test_every_knowledge_base_name_is_a_form_except_the_excluded_words(lex):
    kb = knowledge.load()
    english = dict(lex.forms("en"))
    assert lexicon.plain("ondansétron") in english  # an ANSM name no lexicon line repeats
    assert "or" not in english and "calcium" not in english
    names = {lexicon.plain(n) for s in kb.substances.values() for n in s.names()}
    assert len(names & set(english)) > 1000


def test_target_rules_are_generated_from_the_lexicon(lex):
    rules = pipeline.target_rules("fr")
    substances = [r for r in rules if r.category == pipeline.SUBSTANCE]
    assert len(substances) == len(lex.forms("fr"))
    reactions = {r.attributes["concept"] for r in rules if r.category == pipeline.REACTION}
    assert reactions == set(lex.reactions)


def test_reactions_and_routes_have_both_languages(lex):
    for term in [*lex.reactions.values(), *lex.routes.values()]:
        assert term.forms["en"] and term.forms["fr"], term.key
        assert term.coding()["system"] == lexicon.SNOMED


def test_a_line_naming_nothing_is_refused_with_its_place(tmp_path):
    shutil.copytree(DATA, tmp_path / "data")
    with (tmp_path / "data" / "fr.tsv").open("a", encoding="utf-8") as f:
        f.write("kb:no-such-substance\tquelque chose\n")
    with pytest.raises(LexiconError, match=r"fr\.tsv:\d+: 'kb:no-such-substance'"):
        lexicon.load(tmp_path / "data")


def test_a_malformed_line_is_refused(tmp_path):
    shutil.copytree(DATA, tmp_path / "data")
    with (tmp_path / "data" / "concepts.tsv").open("a", encoding="utf-8") as f:
        f.write("kiwi2\tsubstance\tfood\n")
    with pytest.raises(LexiconError, match=r"concepts\.tsv:\d+"):
        lexicon.load(tmp_path / "data")
