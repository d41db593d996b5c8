"""The French "Annuaire Santé" extraction (PS_LibreAcces_Personne_activite) -> FHIR.

UTF-8, ``|``-separated, a header line, every line ending with a trailing ``|``, 52 columns,
one row per professional and activity site. ``Type d'identifiant PP``: 0 = ADELI, 8 = RPPS;
``Identification nationale PP`` (IDNPS) is that digit followed by the number.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from operator import itemgetter

from . import systems as S
from .records import Activity, Entry, RowError, coding, compact, control_character, identifier_key, reference

COLUMNS = (
    "Type d'identifiant PP", "Identifiant PP", "Identification nationale PP",
    "Code civilité d'exercice", "Libellé civilité d'exercice", "Code civilité", "Libellé civilité",
    "Nom d'exercice", "Prénom d'exercice", "Code profession", "Libellé profession",
    "Code catégorie professionnelle", "Libellé catégorie professionnelle",
    "Code type savoir-faire", "Libellé type savoir-faire", "Code savoir-faire", "Libellé savoir-faire",
    "Code mode exercice", "Libellé mode exercice", "Numéro SIRET site", "Numéro SIREN site",
    "Numéro FINESS site", "Numéro FINESS établissement juridique",
    "Identifiant technique de la structure", "Raison sociale site", "Enseigne commerciale site",
    "Complément destinataire (coord. structure)", "Complément point géographique (coord. structure)",
    "Numéro Voie (coord. structure)", "Indice répétition voie (coord. structure)",
    "Code type de voie (coord. structure)", "Libellé type de voie (coord. structure)",
    "Libellé Voie (coord. structure)", "Mention distribution (coord. structure)",
    "Bureau cedex (coord. structure)", "Code postal (coord. structure)",
    "Code commune (coord. structure)", "Libellé commune (coord. structure)",
    "Code pays (coord. structure)", "Libellé pays (coord. structure)",
    "Téléphone (coord. structure)", "Téléphone 2 (coord. structure)", "Télécopie (coord. structure)",
    "Adresse e-mail (coord. structure)", "Code Département (structure)",
    "Libellé Département (structure)", "Ancien identifiant de la structure",
    "Autorité d'enregistrement", "Code secteur d'activité", "Libellé secteur d'activité",
    "Code section tableau pharmaciens", "Libellé section tableau pharmaciens",
)
_COL = {name: i for i, name in enumerate(COLUMNS)}
ID_TYPES = {"0": "ADELI", "8": "RPPS"}


def read_rpps(lines: Iterable[str]) -> Iterator[Activity | RowError]:
    """Yield one Activity per well-formed row and a RowError per malformed one.

    ``lines`` are the file's lines (their ends are stripped here); line 1 is the header."""
    lines = iter(lines)
    header = next(lines, None)
    if header is None:
        yield RowError(1, "empty file: expected the 52-column header line")
        return
    names = [name.strip() for name in _split(header.lstrip("\ufeff"))]
    if tuple(names) != COLUMNS:
        missing = [c for c in COLUMNS if c not in names]
        detail = f"missing columns: {', '.join(missing[:5])}" if missing else "columns out of order"
        yield RowError(1, f"not a PS_LibreAcces_Personne_activite header ({detail})")
        return
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        fields = _split(line)
        if len(fields) != len(COLUMNS):
            yield RowError(number, f"expected {len(COLUMNS)} columns, found {len(fields)}")
            continue
        if bad := control_character(fields):
            yield RowError(number, f"control character in column {COLUMNS[bad - 1]!r}")
            continue
        try:
            yield Activity(number, tuple(_entries(fields)))
        except ValueError as exc:
            yield RowError(number, str(exc))


def _split(line: str) -> list[str]:
    fields = line.rstrip("\r\n").split("|")
    if fields and fields[-1] == "":  # every line ends with a trailing "|"
        fields.pop()
    return fields  # stripped when read (``col``): most rows are only hashed


# The columns each resource is made of (its Entry.source: what its digest covers).
PRACTITIONER_COLUMNS = ("Type d'identifiant PP", "Identifiant PP", "Identification nationale PP",
                        "Libellé civilité d'exercice", "Nom d'exercice", "Prénom d'exercice")
ORGANIZATION_COLUMNS = ("Identifiant technique de la structure", "Numéro FINESS site", "Numéro SIRET site",
                        "Ancien identifiant de la structure", "Code secteur d'activité",
                        "Libellé secteur d'activité", "Raison sociale site", "Enseigne commerciale site")
LOCATION_COLUMNS = ("Identifiant technique de la structure", "Raison sociale site",
                    *COLUMNS[_COL["Complément destinataire (coord. structure)"]:_COL["Code Département (structure)"]],
                    "Libellé Département (structure)")
ROLE_COLUMNS = ("Identification nationale PP", "Identifiant technique de la structure", "Nom d'exercice",
                "Prénom d'exercice", "Raison sociale site",
                *COLUMNS[_COL["Code profession"]:_COL["Libellé mode exercice"] + 1])
_PRACTITIONER_SOURCE, _ORGANIZATION_SOURCE, _LOCATION_SOURCE, _ROLE_SOURCE = (
    itemgetter(*(_COL[name] for name in names))
    for names in (PRACTITIONER_COLUMNS, ORGANIZATION_COLUMNS, LOCATION_COLUMNS, ROLE_COLUMNS))


def _entries(f: list[str]) -> Iterator[Entry]:
    def col(name: str) -> str:
        return f[_COL[name]].strip()

    id_type, number, idnps = col("Type d'identifiant PP"), col("Identifiant PP"), col("Identification nationale PP")
    if id_type not in ID_TYPES:
        raise ValueError(f"unknown identifier type {id_type!r} (0 = ADELI, 8 = RPPS)")
    if not number or idnps != id_type + number:
        raise ValueError(f"national identifier {idnps!r} is not the type digit followed by {number!r}")
    practitioner_key = identifier_key("Practitioner", S.IDNPS, idnps)
    yield Entry(practitioner_key, "Practitioner", _PRACTITIONER_SOURCE(f), lambda: _practitioner(col))

    structure = col("Identifiant technique de la structure")
    organization_key = location_key = None
    if structure:
        organization_key = identifier_key("Organization", S.RPPS_STRUCTURE, structure)
        location_key = identifier_key("Location", S.RPPS_STRUCTURE, structure)
        yield Entry(organization_key, "Organization", _ORGANIZATION_SOURCE(f), lambda: _organization(col))
        yield Entry(location_key, "Location", _LOCATION_SOURCE(f), lambda: _location(col, organization_key))

    role_key = "|".join(("PractitionerRole", idnps, structure, col("Code profession"), col("Code savoir-faire"),
                         col("Code mode exercice")))
    yield Entry(role_key, "PractitionerRole", _ROLE_SOURCE(f),
                lambda: _role(col, practitioner_key, organization_key, location_key))


def _role(col, practitioner_key: str, organization_key: str | None, location_key: str | None) -> dict:
    name = " ".join(p for p in (col("Prénom d'exercice"), col("Nom d'exercice")) if p)
    return compact({
        "resourceType": "PractitionerRole",
        "active": True,
        "practitioner": reference(practitioner_key, name),
        "organization": reference(organization_key, col("Raison sociale site")) if organization_key else None,
        "location": [reference(location_key)] if location_key else [],
        "code": [
            {"coding": [coding(S.PROFESSION, col("Code profession"), col("Libellé profession"))]}
            if col("Code profession") else None,
            {"coding": [coding(S.PROFESSION_CATEGORY, col("Code catégorie professionnelle"),
                               col("Libellé catégorie professionnelle"))]}
            if col("Code catégorie professionnelle") else None,
            {"coding": [coding(S.PRACTICE_MODE, col("Code mode exercice"), col("Libellé mode exercice"))]}
            if col("Code mode exercice") else None,
        ],
        "specialty": [_savoir_faire(col)] if col("Code savoir-faire") else [],
    })


def _practitioner(col) -> dict:
    id_type, number, idnps = col("Type d'identifiant PP"), col("Identifiant PP"), col("Identification nationale PP")
    kind = ID_TYPES[id_type]
    identifiers = [{
        "use": "official",
        "type": {"coding": [coding(S.FR_IDENTIFIER_TYPE, "IDNPS")]},
        "system": S.IDNPS, "value": idnps,
    }]
    if kind == "RPPS":
        identifiers.append({"use": "official", "type": {"coding": [coding(S.FR_IDENTIFIER_TYPE, "RPPS")]},
                            "system": S.RPPS, "value": number})
    return compact({
        "resourceType": "Practitioner",
        "identifier": identifiers,
        "active": True,
        "name": [{
            "use": "usual",
            "family": col("Nom d'exercice"),
            "given": [col("Prénom d'exercice")],
            "prefix": [col("Libellé civilité d'exercice")],
        }],
    })


def _organization(col) -> dict:
    structure = col("Identifiant technique de la structure")
    identifiers = [{"use": "official", "system": S.RPPS_STRUCTURE, "value": structure}]
    if col("Numéro FINESS site"):
        identifiers.append({"type": {"coding": [coding(S.FR_IDENTIFIER_TYPE, "FINEG")]},
                            "system": S.FINESS, "value": col("Numéro FINESS site")})
    if col("Numéro SIRET site"):
        identifiers.append({"type": {"coding": [coding(S.FR_IDENTIFIER_TYPE, "SIRET")]},
                            "system": S.SIRET, "value": col("Numéro SIRET site")})
    if col("Ancien identifiant de la structure"):
        identifiers.append({"type": {"coding": [coding(S.FR_IDENTIFIER_TYPE, "IDNST")]},
                            "system": S.IDNST, "value": col("Ancien identifiant de la structure")})
    return compact({
        "resourceType": "Organization",
        "identifier": identifiers,
        "active": True,
        "type": [{"coding": [coding(S.ACTIVITY_SECTOR, col("Code secteur d'activité"),
                                    col("Libellé secteur d'activité"))]}] if col("Code secteur d'activité") else [],
        "name": col("Raison sociale site"),
        "alias": [col("Enseigne commerciale site")] if col("Enseigne commerciale site") != col("Raison sociale site")
        else [],
    })


def _location(col, organization_key: str) -> dict:
    structure = col("Identifiant technique de la structure")
    street = " ".join(p for p in (col("Numéro Voie (coord. structure)"), col("Indice répétition voie (coord. structure)"),
                                  col("Libellé type de voie (coord. structure)"), col("Libellé Voie (coord. structure)"))
                      if p)
    line = [col("Complément destinataire (coord. structure)"), col("Complément point géographique (coord. structure)"),
            street, col("Mention distribution (coord. structure)")]
    # "Bureau cedex" is "postcode city" as printed on mail; the city column may be empty.
    postcode, bureau = col("Code postal (coord. structure)"), col("Bureau cedex (coord. structure)")
    city = col("Libellé commune (coord. structure)") or bureau.removeprefix(f"{postcode} " if postcode else "")
    telecom = [{"system": "phone", "value": col("Téléphone (coord. structure)"), "use": "work"},
               {"system": "phone", "value": col("Téléphone 2 (coord. structure)"), "use": "work"},
               {"system": "fax", "value": col("Télécopie (coord. structure)"), "use": "work"},
               {"system": "email", "value": col("Adresse e-mail (coord. structure)"), "use": "work"}]
    return compact({
        "resourceType": "Location",
        "identifier": [{"use": "official", "system": S.RPPS_STRUCTURE, "value": structure}],
        "status": "active",
        "name": col("Raison sociale site"),
        "telecom": [t for t in telecom if t["value"]],
        "address": {
            "use": "work", "type": "both", "line": line, "city": city,
            "postalCode": postcode,
            "district": col("Libellé Département (structure)"),
            "country": col("Libellé pays (coord. structure)") or ("France" if postcode else ""),
        },
        "managingOrganization": reference(organization_key),
    })


def _savoir_faire(col) -> dict:
    code, display = col("Code savoir-faire"), col("Libellé savoir-faire")
    kind = col("Code type savoir-faire")
    if kind == "S":
        return {"coding": [coding(S.SPECIALITE_ORDINALE, code, display)], "text": display}
    return {"text": f"{col('Libellé type savoir-faire') or kind}: {display or code}"}
