"""The records of the knowledge base: sources, substances, allergen classes, findings."""

from __future__ import annotations

from dataclasses import dataclass, field

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
# Our own code systems: a substance by its key, an allergen class by its id.
SUBSTANCE = "urn:passerelle:knowledge:substance"
ALLERGEN_CLASS = "urn:passerelle:knowledge:allergen-class"

# DetectedIssue.severity (http://hl7.org/fhir/detectedissue-severity), most serious first.
SEVERITIES = ("high", "moderate", "low")


def severity_rank(severity: str) -> int:
    """0 for high, 1 for moderate, 2 for low: sort keys, most serious first."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Source:
    """Where a piece of knowledge comes from; every finding carries one."""

    id: str
    title: str
    edition: str
    publisher: str = ""
    citation: str = ""
    url: str = ""
    language: str = ""


@dataclass(eq=False)
class Substance:
    """One active substance (or a fixed combination, with its ``ingredients``).

    ``key`` is the folded French name of the ANSM index (or the folded English name of a
    substance only an English source knows); it is stable across editions.
    """

    key: str
    name_fr: str | None = None
    names_en: list[str] = field(default_factory=list)
    synonyms: list[str] = field(default_factory=list)
    rxnorm: list[str] = field(default_factory=list)
    atc: list[str] = field(default_factory=list)
    ansm_classes: list[str] = field(default_factory=list)
    ingredients: tuple[str, ...] = ()
    allergen_classes: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.name_fr or self.names_en[0]

    @property
    def name_en(self) -> str:
        return self.names_en[0] if self.names_en else self.name

    def names(self) -> list[str]:
        """Every surface form known: French, English, synonyms."""
        return [n for n in (self.name_fr, *self.names_en, *self.synonyms) if n]

    def codings(self) -> list[dict]:
        """FHIR Codings (RxNorm, then ATC) for this substance."""
        return ([{"system": RXNORM, "code": c, "display": self.name_en} for c in self.rxnorm]
                + [{"system": ATC, "code": c} for c in self.atc])

    def __repr__(self) -> str:
        return f"Substance({self.key!r})"


@dataclass(eq=False)
class AllergenClass:
    """A group of substances an allergy may be recorded against (penicillins, NSAIDs...).

    ``members`` holds substance keys, those of included classes too. ``within`` is the
    risk that an allergy to one member extends to another member (None: not assumed).
    """

    id: str
    names_fr: list[str]
    names_en: list[str]
    members: set[str]
    includes: tuple[str, ...] = ()
    within: str | None = None
    note: str = ""
    atc: tuple[str, ...] = ()  # ATC groups whose substances are members

    @property
    def name(self) -> str:
        return (self.names_en or self.names_fr or [self.id])[0]

    def names(self) -> list[str]:
        return [*self.names_fr, *self.names_en]

    def __repr__(self) -> str:
        return f"AllergenClass({self.id!r})"


@dataclass(frozen=True)
class CrossReactivity:
    """A rule that an allergy to one side may extend to the other (classes or substances)."""

    kind: str              # "classes" or "substances"
    sides: tuple[str, str]  # class ids, or substance keys
    risk: str
    note: str


@dataclass(frozen=True)
class Interaction:
    """A drug-drug interaction as one source states it."""

    source: Source
    severity: str          # high | moderate | low (DetectedIssue.severity)
    level: str             # the source's own wording ("CONTRE-INDICATION", ...)
    between: tuple[str, str]  # the two terms as the source names them (a substance or a class)
    mechanism: str
    advice: str


@dataclass(frozen=True)
class AllergyRisk:
    """Why an allergy (to a substance or a class) concerns a drug."""

    severity: str
    reason: str            # one English sentence for the clinician
    allergen: str          # substance or class named by the allergy
    drug: str              # the substance of the drug that is concerned
    via: str | None        # the allergen class or cross-reactivity rule that links them
    source: Source
