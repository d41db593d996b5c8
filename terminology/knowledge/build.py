"""Link the records of a knowledge directory into a KnowledgeBase (see data/README.md)."""

from __future__ import annotations

from pathlib import Path

from terminology.knowledge.base import KnowledgeBase
from terminology.knowledge.model import SEVERITIES, AllergenClass, CrossReactivity, Interaction, Source, Substance
from terminology.knowledge.readers import (KnowledgeError, RawInteraction, RawSubstance, ansm_interactions,
                                           ansm_substances, atc_groups, onc_interactions, read_json, source_of,
                                           substance_table)
from terminology.knowledge.text import NameIndex, fold

MANIFEST = "sources.json"


class _Substances:
    """Substances by key, merged from every source, with a name index for references."""

    def __init__(self) -> None:
        self.by_key: dict[str, Substance] = {}
        self.names = NameIndex()

    def merge(self, raw: RawSubstance, *, preferred: bool = False) -> Substance:
        key = fold(raw.name_fr) if raw.name_fr else None
        s = self.by_key.get(key) if key else None
        if s is None and not key:
            s = next((self.lookup(n) for n in raw.names_en if self.lookup(n)), None)
        if s is None:
            key = key or fold(raw.names_en[0])
            s = self.by_key[key] = Substance(key=key, name_fr=raw.name_fr)
        if raw.name_fr and (preferred or not s.name_fr):
            s.name_fr = raw.name_fr
        _extend(s.names_en, raw.names_en)
        _extend(s.synonyms, raw.synonyms)
        _extend(s.atc, raw.atc)
        _extend(s.rxnorm, raw.rxnorm)
        _extend(s.ansm_classes, raw.ansm_classes)
        for name in (raw.name_fr, *raw.names_en, *raw.synonyms):
            if name:
                self.names.add(name, s)
        return s

    def lookup(self, name: str) -> Substance | None:
        found = self.by_key.get(fold(name)) or next(iter(self.names.get(name)), None)
        return found

    def named(self, name: str, *, english: bool) -> Substance:
        """The substance a source names, made on the spot if no table knows it."""
        return self.lookup(name) or self.merge(
            RawSubstance(name_fr=None, names_en=(name,)) if english else RawSubstance(name_fr=name.lower()))


def build(directory: Path) -> KnowledgeBase:
    manifest_path = directory / MANIFEST
    manifest = read_json(manifest_path)
    subs = _Substances()
    readers = []
    for entry in manifest.get("interactions") or ():
        source = source_of(entry, manifest_path)
        files = {k: directory / v for k, v in (entry.get("files") or {}).items()}
        fmt = entry.get("format")
        if fmt == "ansm-thesaurus-json":
            for raw in ansm_substances(files["substances"], files.get("rxnorm")):
                subs.merge(raw)
            readers.append((source, ansm_interactions(files["thesaurus"]), False))
        elif fmt == "onc-ddi-pairs-csv":
            readers.append((source, onc_interactions(files["pairs"]), True))
        else:
            raise KnowledgeError(f"{manifest_path}: source {source.id!r} has an unknown format {fmt!r}")
    if manifest.get("substances"):
        for raw in substance_table(directory / manifest["substances"]["file"]):
            combination = subs.merge(raw, preferred=True)
            if raw.name_fr and " + " in raw.name_fr:
                combination.ingredients = tuple(subs.named(p.strip(), english=False).key
                                                for p in raw.name_fr.split(" + "))
    ansm_classes = {fold(c) for s in subs.by_key.values() for c in s.ansm_classes}
    interactions: dict[frozenset, list[Interaction]] = {}
    seen: set[tuple] = set()
    for source, raws, english in readers:
        for raw in raws:
            pair = frozenset(_term(subs, ansm_classes, t, english) for t in (raw.a, raw.b))
            # The thesaurus states each interaction under both of its terms: keep one.
            if (source.id, pair, raw.level, raw.mechanism) not in seen:
                seen.add((source.id, pair, raw.level, raw.mechanism))
                interactions.setdefault(pair, []).append(_interaction(source, raw))
    classes, cross, allergen_source = _allergens(directory, manifest, subs)
    groups = atc_groups(directory / manifest["atc_groups"]["file"]) if manifest.get("atc_groups") else {}
    if groups:
        unknown = sorted({p for c in classes.values() for p in c.atc if p not in groups})
        if unknown:
            raise KnowledgeError(f"{directory / manifest['allergens']['file']}: ATC groups {unknown} "
                                 f"are not in {manifest['atc_groups']['file']}")
    sources = {s.id: s for s, _, _ in readers}
    return KnowledgeBase(sources=sources, substances=subs.by_key, classes=classes, cross=cross,
                         allergen_source=allergen_source, interactions=interactions, atc_groups=groups)


def _term(subs: _Substances, ansm_classes: set[str], name: str, english: bool) -> tuple[str, str]:
    folded = fold(name)
    if not english and folded in ansm_classes:  # a class wins: its members all carry it
        return ("cls", folded)
    return ("sub", subs.named(name, english=english).key)


def _interaction(source: Source, raw: RawInteraction) -> Interaction:
    if raw.severity not in SEVERITIES:
        raise KnowledgeError(f"{source.id}: severity {raw.severity!r} is not one of {SEVERITIES}")
    return Interaction(source, raw.severity, raw.level, (raw.a, raw.b), raw.mechanism, raw.advice)


def _allergens(directory: Path, manifest: dict, subs: _Substances):
    if not manifest.get("allergens"):
        return {}, [], Source("allergens", "no allergen classes", "")
    path = directory / manifest["allergens"]["file"]
    data = read_json(path)
    source = Source(id="allergens", title=data.get("source", path.name), edition=data.get("edition", ""),
                    citation="; ".join(data.get("references") or ()))

    def known(name: str) -> Substance:
        s = subs.lookup(name)
        if s is None:
            raise KnowledgeError(f"{path}: {name!r} is not a known substance (add it to the substance table)")
        return s

    classes: dict[str, AllergenClass] = {}
    for c in data["classes"]:
        ansm = {fold(n) for n in c.get("ansm_classes") or ()}
        atc = tuple(c.get("atc") or ())
        members = {known(n).key for n in c.get("members") or ()}
        members |= {s.key for s in subs.by_key.values()
                    if ansm & {fold(x) for x in s.ansm_classes} or any(code.startswith(atc) for code in s.atc)}
        members -= {known(n).key for n in c.get("except") or ()}
        names = c.get("names") or {}
        classes[c["id"]] = AllergenClass(c["id"], list(names.get("fr") or ()), list(names.get("en") or ()), members,
                                         tuple(c.get("includes") or ()), c.get("within"), c.get("note", ""), atc)
    for c in classes.values():
        c.members |= _included(classes, c, path)
        for key in c.members:
            subs.by_key[key].allergen_classes.add(c.id)
    cross = []
    for rule in data.get("cross_reactivity") or ():
        if rule.get("risk") not in SEVERITIES:
            raise KnowledgeError(f"{path}: cross-reactivity risk {rule.get('risk')!r} is not one of {SEVERITIES}")
        if "classes" in rule:
            unknown = [c for c in rule["classes"] if c not in classes]
            if unknown:
                raise KnowledgeError(f"{path}: cross-reactivity names unknown classes {unknown}")
            cross.append(CrossReactivity("classes", tuple(rule["classes"]), rule["risk"], rule.get("note", "")))
        else:
            keys = tuple(known(n).key for n in rule["substances"])
            cross.append(CrossReactivity("substances", keys, rule["risk"], rule.get("note", "")))
    return classes, cross, source


def _included(classes: dict[str, AllergenClass], c: AllergenClass, path: Path, seen: tuple = ()) -> set[str]:
    members: set[str] = set()
    for child in c.includes:
        if child not in classes or child in seen:
            raise KnowledgeError(f"{path}: class {c.id!r} includes {child!r}, unknown or circular")
        members |= classes[child].members | _included(classes, classes[child], path, (*seen, c.id))
    return members


def _extend(values: list[str], more) -> None:
    values.extend(v for v in more if v not in values)
