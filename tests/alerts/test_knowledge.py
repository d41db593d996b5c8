"""terminology.knowledge: look-ups, allergy risks, interactions, and loading another edition."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest

from server.alerts import AlertListener
from server.config import Settings
from terminology import knowledge
from terminology.knowledge import KnowledgeError


@pytest.fixture(scope="module")
def kb():
    return knowledge.load()


def test_substance_by_french_english_synonym_and_code(kb):
    amox = kb.substance("Amoxicilline")
    assert amox is kb.substance("AMOXICILLIN") is kb.by_code(knowledge.RXNORM, "723") is kb.by_code("atc", "J01CA04")
    assert amox.name_fr == "amoxicilline" and "amoxicillin" in amox.names_en
    assert {"system": knowledge.ATC, "code": "J01CA04"} in amox.codings()
    assert kb.substance("aspirine") is kb.substance("acide acétylsalicylique") is kb.substance("Aspirin")
    assert kb.substance("not a drug") is None


def test_find_names_in_text(kb):
    found = kb.find("Allergie aux pénicillines; Amoxicillin 500 MG Oral Capsule; l'aspirine")
    assert [getattr(x, "id", None) or x.key for x in found] == ["penicillins", "amoxicilline",
                                                                   "acide acetylsalicylique"]
    assert kb.find("amoxicillin or cefalexin") == [kb.substance("amoxicillin"), kb.substance("cefalexin")]
    assert kb.substance("or") is not None  # gold salts: found by name, never in free text
    # The longest name wins: the combination, not its first ingredient.
    [combo] = kb.find("amoxicilline + acide clavulanique")
    assert [s.key for s in kb.ingredients(combo)] == ["amoxicilline", "acide clavulanique"]


@pytest.mark.parametrize("allergen, drug, severity", [
    ("penicillins", "amoxicillin", "high"),          # member of the class
    ("amoxicillin", "piperacillin", "high"),         # same class, within: high
    ("amoxicillin", "cefalexin", "high"),            # identical R1 side chain
    ("penicillins", "ceftriaxone", "low"),           # class cross-reactivity
    ("aztreonam", "ceftazidime", "moderate"),        # substance-level rule
    ("ibuprofen", "aspirin", "high"),                # NSAID cross-intolerance
    ("ibuprofen", "celecoxib", "low"),               # coxibs mostly tolerated
    ("iohexol", "iopamidol", "moderate"),
    ("sulfonamide antibiotics", "co-trimoxazole", "high"),
    ("sulfonamide antibiotics", "furosemide", None),  # non-antibiotic sulfonamide: no cross-reactivity
    ("aztreonam", "amoxicillin", None),
    ("penicillins", "paracetamol", None),
])
def test_allergy_risks(kb, allergen, drug, severity):
    a = kb.allergen_class(allergen) or kb.substance(allergen)
    risks = kb.allergy_risks(a, kb.substance(drug))
    assert (risks[0].severity if risks else None) == severity
    assert all(r.source.id == "allergens" for r in risks)


def test_interactions_carry_source_and_edition(kb):
    [top, *_] = kb.interactions(kb.substance("warfarine"), kb.substance("aspirine"))
    assert (top.source.id, top.source.edition, top.severity) == ("ansm", "2020-10", "high")
    assert "CONTRE-INDICATION" in top.level
    onc = kb.interactions(kb.substance("tizanidine"), kb.substance("fluvoxamine"))
    assert [(i.source.id, i.source.edition, i.severity) for i in onc] == [("onc", "2012", "high")]
    assert kb.interactions(kb.substance("amoxicilline"), kb.substance("amoxicilline")) == []


def _copy(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(knowledge.DATA, target)
    return target


def test_a_newer_edition_is_a_data_change(tmp_path):
    target = _copy(tmp_path)
    manifest = json.loads((target / "sources.json").read_text())
    ansm = manifest["interactions"][0]
    ansm["edition"] = "2099-01"
    ansm["files"]["thesaurus"] = "ansm-thesaurus-2099-01.json.gz"
    (target / "sources.json").write_text(json.dumps(manifest))
    newer = [{"main_drug": "PARACETAMOL", "between_main_and_plus_drug": "", "plus_drug": "AMOXICILLINE",
              "severity_levels": [{"level": "Précaution d'emploi", "info": "Surveillance (fictitious test entry)."}],
              "interaction_mechanism": "Fictitious mechanism.", "description": ""}]
    (target / "ansm-thesaurus-2099-01.json.gz").write_bytes(gzip.compress(json.dumps(newer).encode()))
    kb = knowledge.load(str(target))
    assert kb is not knowledge.load()
    [i] = [i for i in kb.interactions(kb.substance("paracetamol"), kb.substance("amoxicillin"))]
    assert (i.source.edition, i.severity, i.mechanism) == ("2099-01", "moderate", "Fictitious mechanism.")
    assert [x.source.id for x in kb.interactions(kb.substance("warfarine"), kb.substance("aspirine"))] == []
    # The server takes it from its settings (PASSERELLE_KNOWLEDGE_DIR).
    assert AlertListener.from_settings(Settings(knowledge_dir=str(target))).kb is kb


def test_broken_directory_names_the_file(tmp_path):
    target = _copy(tmp_path)
    (target / "allergen-classes.json").write_text(json.dumps(
        {"classes": [{"id": "x", "members": ["no such drug"]}]}))
    with pytest.raises(KnowledgeError, match="allergen-classes.json.*no such drug"):
        knowledge.load(str(target))
    (target / "sources.json").write_text("{not json")
    with pytest.raises(KnowledgeError, match="sources.json"):
        knowledge.load(str(target))


def test_atc_groups(kb):
    assert kb.atc_path("J01CA04") == [("J", "Antiinfectives for systemic use"),
                                      ("J01", "Antibacterials for systemic use"),
                                      ("J01C", "Beta-lactam antibacterials, penicillins"),
                                      ("J01CA", "Penicillins with extended spectrum")]
    # Every ATC code of the substance table has its groups.
    assert all(len(kb.atc_path(code)) == 4 for s in kb.substances.values() for code in s.atc)
    # The cephalosporin class takes its members from ATC groups too.
    assert kb.allergen_class("cephalosporins").atc == ("J01DB", "J01DC", "J01DD", "J01DE", "J01DI")


def test_unknown_atc_group_in_a_class_is_refused(tmp_path):
    target = _copy(tmp_path)
    data = json.loads((target / "allergen-classes.json").read_text())
    data["classes"][0]["atc"] = ["Z99"]
    (target / "allergen-classes.json").write_text(json.dumps(data))
    with pytest.raises(KnowledgeError, match="Z99"):
        knowledge.load(str(target))
