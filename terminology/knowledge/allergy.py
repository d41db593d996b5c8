"""Does an allergy concern a drug? Same substance, same class, or cross-reactivity.

- allergy to a class (penicillins): every member is concerned (high); members of a class
  with a cross-reactivity rule are concerned at the rule's risk;
- allergy to a substance (amoxicillin): the substance itself (high); other members of a
  class it belongs to, at that class's ``within`` risk (penicillins: high, iodinated
  contrast media: moderate; none for beta-lactams as a whole); cross-reactivity rules
  between its classes or itself and the drug's.

Combinations are checked ingredient by ingredient on both sides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from terminology.knowledge.model import AllergenClass, AllergyRisk, CrossReactivity, Substance, severity_rank

if TYPE_CHECKING:
    from terminology.knowledge.base import KnowledgeBase


def allergy_risks(kb: KnowledgeBase, allergen: Substance | AllergenClass, drug: Substance) -> list[AllergyRisk]:
    found: dict[tuple[str, str], AllergyRisk] = {}

    def add(severity: str, reason: str, d: Substance, via: str | None) -> None:
        risk = AllergyRisk(severity, reason, allergen.name if isinstance(allergen, AllergenClass) else allergen.name_en,
                           d.name_en, via, kb.allergen_source)
        key = (d.key, via or "")
        if key not in found or severity_rank(severity) < severity_rank(found[key].severity):
            found[key] = risk

    for d in kb.ingredients(drug):
        if isinstance(allergen, AllergenClass):
            _class_allergy(kb, allergen, d, add)
        else:
            for a in kb.ingredients(allergen):
                _substance_allergy(kb, a, d, add)
    return sorted(found.values(), key=lambda r: severity_rank(r.severity))


def _class_allergy(kb: KnowledgeBase, allergen: AllergenClass, d: Substance, add) -> None:
    if d.key in allergen.members:
        add("high", f"{d.name_en} is one of the {allergen.name}", d, allergen.id)
        return
    for rule in kb.cross_reactivity:
        other = _other_side(rule, "classes", allergen.id)
        if other in d.allergen_classes:
            add(rule.risk, f"{d.name_en} ({kb.allergen_classes[other].name}) may cross-react with "
                           f"{allergen.name}: {rule.note}", d, f"{allergen.id}~{other}")


def _substance_allergy(kb: KnowledgeBase, a: Substance, d: Substance, add) -> None:
    if a.key == d.key:
        add("high", f"{d.name_en} is the substance the patient is allergic to", d, None)
        return
    for cid in sorted(a.allergen_classes & d.allergen_classes):
        c = kb.allergen_classes[cid]
        if c.within:
            add(c.within, f"{d.name_en} and {a.name_en} are both {c.name}", d, cid)
    for rule in kb.cross_reactivity:
        if rule.kind == "substances" and set(rule.sides) == {a.key, d.key}:
            add(rule.risk, f"{d.name_en} may cross-react with {a.name_en}: {rule.note}", d, "~".join(rule.sides))
        for mine in sorted(a.allergen_classes):
            other = _other_side(rule, "classes", mine)
            if other in d.allergen_classes and other not in a.allergen_classes:
                add(rule.risk, f"{d.name_en} ({kb.allergen_classes[other].name}) may cross-react with "
                               f"{a.name_en} ({kb.allergen_classes[mine].name}): {rule.note}", d, f"{mine}~{other}")


def _other_side(rule: CrossReactivity, kind: str, side: str) -> str | None:
    if rule.kind != kind or side not in rule.sides:
        return None
    first, second = rule.sides
    return second if side == first else first
