"""Synthetic directory extracts in the real column layouts (tests and the directory bench).

Names, numbers and addresses are generated; nothing here is real data.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from mappers.directory.rpps import COLUMNS as RPPS_COLUMNS

_FAMILY = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY", "MOREAU",
           "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX", "VINCENT", "FOURNIER"]
_GIVEN = ["JEAN", "MARIE", "PIERRE", "ANNE", "LUC", "CLAIRE", "PAUL", "SOPHIE", "HÉLÈNE", "FRANÇOIS", "CÉLINE"]
_PROFESSIONS = [("10", "Médecin", "S", "Spécialité ordinale", "SM54", "Médecine générale"),
                ("10", "Médecin", "S", "Spécialité ordinale", "SM04", "Cardiologie et maladies vasculaires"),
                ("21", "Pharmacien", "", "", "", ""),
                ("60", "Infirmier", "", "", "", ""),
                ("91", "Orthophoniste", "", "", "", "")]
_MODES = [("L", "Libéral"), ("S", "Salarié")]
_CITIES = [("75015", "PARIS"), ("69003", "LYON"), ("13005", "MARSEILLE"), ("31000", "TOULOUSE"), ("25000", "BESANCON")]


def rpps_row(person: int, site: int, *, profession: int = 0, mode: int = 0, rpps: bool = True) -> dict[str, str]:
    """One activity row: professional ``person`` at site ``site`` (deterministic from the numbers)."""
    rng = random.Random(person)
    number = f"{10000000000 + person}" if rpps else f"{750000000 + person:09d}"
    id_type = "8" if rpps else "0"
    code, label, sf_type, sf_type_label, sf_code, sf_label = _PROFESSIONS[profession % len(_PROFESSIONS)]
    postcode, city = _CITIES[site % len(_CITIES)]
    mode_code, mode_label = _MODES[mode % len(_MODES)]
    row = dict.fromkeys(RPPS_COLUMNS, "")
    row.update({
        "Type d'identifiant PP": id_type, "Identifiant PP": number, "Identification nationale PP": id_type + number,
        "Code civilité d'exercice": "DR" if code == "10" else "", "Libellé civilité d'exercice": "Docteur" if code == "10" else "",
        "Code civilité": "M", "Libellé civilité": "Monsieur",
        "Nom d'exercice": rng.choice(_FAMILY), "Prénom d'exercice": rng.choice(_GIVEN),
        "Code profession": code, "Libellé profession": label,
        "Code catégorie professionnelle": "C", "Libellé catégorie professionnelle": "Civil",
        "Code type savoir-faire": sf_type, "Libellé type savoir-faire": sf_type_label,
        "Code savoir-faire": sf_code, "Libellé savoir-faire": sf_label,
        "Code mode exercice": mode_code, "Libellé mode exercice": mode_label,
        "Numéro SIRET site": f"{40000000000000 + site}", "Identifiant technique de la structure": f"S{site:010d}",
        "Raison sociale site": f"CABINET {site}", "Enseigne commerciale site": f"CABINET {site}",
        "Numéro Voie (coord. structure)": str(1 + site % 90), "Libellé type de voie (coord. structure)": "Rue",
        "Libellé Voie (coord. structure)": "DES LILAS", "Bureau cedex (coord. structure)": f"{postcode} {city}",
        "Code postal (coord. structure)": postcode, "Téléphone (coord. structure)": f"01{site % 100000000:08d}",
        "Ancien identifiant de la structure": f"3{40000000000000 + site}",
        "Code secteur d'activité": "SA07", "Libellé secteur d'activité": "Cabinet individuel",
    })
    return row


def write_rpps(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("|".join(RPPS_COLUMNS) + "|\n")
        for row in rows:
            out.write("|".join(row[c] for c in RPPS_COLUMNS) + "|\n")
    return path


def nppes_header() -> list[str]:
    """The NPPES npidata_pfile header, in the file's column order (330 columns)."""
    mailing = "Provider Business Mailing Address"
    practice = "Provider Business Practice Location Address"
    head = ["NPI", "Entity Type Code", "Replacement NPI", "Employer Identification Number (EIN)",
            "Provider Organization Name (Legal Business Name)", "Provider Last Name (Legal Name)",
            "Provider First Name", "Provider Middle Name", "Provider Name Prefix Text", "Provider Name Suffix Text",
            "Provider Credential Text", "Provider Other Organization Name", "Provider Other Organization Name Type Code",
            "Provider Other Last Name", "Provider Other First Name", "Provider Other Middle Name",
            "Provider Other Name Prefix Text", "Provider Other Name Suffix Text", "Provider Other Credential Text",
            "Provider Other Last Name Type Code", "Provider First Line Business Mailing Address",
            "Provider Second Line Business Mailing Address", f"{mailing} City Name", f"{mailing} State Name",
            f"{mailing} Postal Code", f"{mailing} Country Code (If outside U.S.)", f"{mailing} Telephone Number",
            f"{mailing} Fax Number", "Provider First Line Business Practice Location Address",
            "Provider Second Line Business Practice Location Address", f"{practice} City Name",
            f"{practice} State Name", f"{practice} Postal Code", f"{practice} Country Code (If outside U.S.)",
            f"{practice} Telephone Number", f"{practice} Fax Number", "Provider Enumeration Date", "Last Update Date",
            "NPI Deactivation Reason Code", "NPI Deactivation Date", "NPI Reactivation Date", "Provider Sex Code",
            "Authorized Official Last Name", "Authorized Official First Name", "Authorized Official Middle Name",
            "Authorized Official Title or Position", "Authorized Official Telephone Number"]
    for i in range(1, 16):
        head += [f"Healthcare Provider Taxonomy Code_{i}", f"Provider License Number_{i}",
                 f"Provider License Number State Code_{i}", f"Healthcare Provider Primary Taxonomy Switch_{i}"]
    for i in range(1, 51):
        head += [f"Other Provider Identifier_{i}", f"Other Provider Identifier Type Code_{i}",
                 f"Other Provider Identifier State_{i}", f"Other Provider Identifier Issuer_{i}"]
    head += ["Is Sole Proprietor", "Is Organization Subpart", "Parent Organization LBN", "Parent Organization TIN",
             "Authorized Official Name Prefix Text", "Authorized Official Name Suffix Text",
             "Authorized Official Credential Text"]
    head += [f"Healthcare Provider Taxonomy Group_{i}" for i in range(1, 16)]
    head += ["Certification Date"]
    return head


def nppes_row(n: int, *, organization: bool = False, deactivated: bool = False) -> dict[str, str]:
    rng = random.Random(n)
    npi = f"{1000000000 + n}"
    row = dict.fromkeys(nppes_header(), "")
    practice = "Provider Business Practice Location Address"
    row.update({
        "NPI": npi, "Entity Type Code": "2" if organization else "1",
        "Provider First Line Business Practice Location Address": f"{100 + n % 900} MAIN ST",
        f"{practice} City Name": "SPRINGFIELD", f"{practice} State Name": "IL", f"{practice} Postal Code": "627010001",
        f"{practice} Telephone Number": f"217555{n % 10000:04d}", "Provider Enumeration Date": "05/23/2005",
        "Healthcare Provider Taxonomy Code_1": "207Q00000X", "Healthcare Provider Primary Taxonomy Switch_1": "N",
        "Healthcare Provider Taxonomy Code_2": "207R00000X", "Healthcare Provider Primary Taxonomy Switch_2": "Y",
    })
    if organization:
        row["Provider Organization Name (Legal Business Name)"] = f"SPRINGFIELD CLINIC {n}"
    else:
        row.update({"Provider Last Name (Legal Name)": rng.choice(["SMITH", "JONES", "BROWN", "TAYLOR"]),
                    "Provider First Name": rng.choice(["JOHN", "MARY", "ROBERT", "LINDA"]),
                    "Provider Credential Text": "M.D.", "Provider Sex Code": rng.choice("MF")})
    if deactivated:
        row["NPI Deactivation Date"] = "03/01/2020"
    return row


def write_nppes(path: Path, rows: list[dict[str, str]]) -> Path:
    header = nppes_header()
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row[c] for c in header])
    return path
