"""RPPS "Annuaire Santé" extract -> store, through the CLI, read back over FHIR REST."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from interfaces.cli import directory
from mappers.directory import RowError, read_rpps
from mappers.directory.rpps import COLUMNS

from .extracts import rpps_row, write_rpps

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "directory" / "PS_LibreAcces_Personne_activite.sample.txt"
IDNPS = "urn:oid:1.2.250.1.71.4.2.1"


def import_directory(server, path: Path, *extra: str, fmt: str = "rpps") -> int:
    """``passerelle import-directory`` as the command line runs it, on the live server's database."""
    parser = argparse.ArgumentParser()
    directory.add_arguments(parser)
    return directory.run(parser.parse_args(["--format", fmt, "--quiet", "--database-url",
                                            server.ctx.settings.database_url, *extra, str(path)]))


def search(fhir, query: str) -> list[dict]:
    """The matches, without the golden records identity matching keeps beside them (server.mdm)."""
    response = fhir.get(query)
    assert response.status_code == 200, response.text
    return [e["resource"] for e in response.json().get("entry", [])
            if e["search"]["mode"] == "match" and not _golden(e["resource"])]


def _golden(resource: dict) -> bool:
    return any(t.get("code") == "golden-record" for t in resource.get("meta", {}).get("tag", []))


def test_the_published_sample_lands_as_practitioners_roles_sites(server, fhir, tmp_path, capsys):
    path = shutil.copy(SAMPLE, tmp_path / SAMPLE.name)
    assert import_directory(server, path) == 0
    assert "created:   3 Location, 3 Organization, 3 Practitioner, 3 PractitionerRole" in capsys.readouterr().out

    [doctor] = search(fhir, f"Practitioner?identifier={IDNPS}|810001045367")
    assert {"system": "https://rpps.esante.gouv.fr", "value": "10001045367"} in [
        {k: i[k] for k in ("system", "value")} for i in doctor["identifier"]]
    assert doctor["name"][0]["family"] == "GUIGNARD"
    [role] = search(fhir, f"PractitionerRole?practitioner=Practitioner/{doctor['id']}&_include=PractitionerRole:organization"
                          "&_include=PractitionerRole:location")
    codes = {c["coding"][0]["code"] for c in role["code"]}
    assert {"10", "S"} <= codes  # profession (G15) and mode of practice (R23)
    assert role["specialty"][0]["coding"][0]["code"] == "SM49"
    [org] = search(fhir, f"Organization?_id={role['organization']['reference'].split('/')[1]}")
    assert {"system": "http://sirene.fr", "value": "85131528300016"} in [
        {k: i[k] for k in ("system", "value")} for i in org["identifier"]]
    # ADELI professionals (type 0) carry their national identifier, no RPPS number.
    [audio] = search(fhir, f"Practitioner?identifier={IDNPS}|0012600631")
    assert [i["system"] for i in audio["identifier"]] == [IDNPS]
    [site] = search(fhir, "Location?address-postalcode=75015")
    assert site["telecom"] == [{"system": "phone", "value": "0148237096", "use": "work"}]
    assert site["address"]["city"] == "PARIS"


def test_reimport_applies_only_the_differences(server, fhir, tmp_path, capsys):
    first = [rpps_row(1, 1), rpps_row(2, 2), rpps_row(3, 3), rpps_row(3, 4, mode=1)]
    assert import_directory(server, write_rpps(tmp_path / "v1.txt", first)) == 0
    capsys.readouterr()
    [unchanged_before] = search(fhir, f"Practitioner?identifier={IDNPS}|810000000001")

    moved = rpps_row(2, 2)
    moved["Téléphone (coord. structure)"] = "0199999999"  # the site's phone changed
    second = [rpps_row(1, 1), moved, rpps_row(3, 3), rpps_row(4, 5)]  # person 3 left site 4; person 4 is new
    assert import_directory(server, write_rpps(tmp_path / "v2.txt", second)) == 0
    out = capsys.readouterr().out
    assert "created:   1 Location, 1 Organization, 1 Practitioner, 1 PractitionerRole" in out
    assert "updated:   1 Location" in out
    assert "ended:     1 PractitionerRole" in out
    assert "Location.telecom (1)" in out

    # Unchanged resources were not rewritten.
    [unchanged_after] = search(fhir, f"Practitioner?identifier={IDNPS}|810000000001")
    assert unchanged_after["meta"]["versionId"] == unchanged_before["meta"]["versionId"] == "1"
    # The vanished role is ended, not deleted; the other role of the same person stays active.
    [person3] = search(fhir, f"Practitioner?identifier={IDNPS}|810000000003")
    roles = search(fhir, f"PractitionerRole?practitioner=Practitioner/{person3['id']}")
    assert sorted(r["active"] for r in roles) == [False, True]
    ended = next(r for r in roles if not r["active"])
    assert ended["period"]["end"]
    assert fhir.get("PractitionerRole?active=true&_total=accurate").json()["total"] == 4
    # The changes are recorded: a Provenance targets the updated site and the ended role.
    targets = {t["reference"] for p in search(fhir, "Provenance?activity=UPDATE") for t in p["target"]}
    assert f"PractitionerRole/{ended['id']}" in targets
    assert any(t.startswith("Location/") for t in targets)

    # A role that comes back is active again.
    assert import_directory(server, write_rpps(tmp_path / "v3.txt", first)) == 0
    roles = search(fhir, f"PractitionerRole?practitioner=Practitioner/{person3['id']}")
    assert [r["active"] for r in roles] == [True, True]


def test_rows_of_one_professional_across_chunks_share_one_practitioner(server, fhir, tmp_path):
    rows = [rpps_row(7, site) for site in range(5)]
    assert import_directory(server, write_rpps(tmp_path / "x.txt", rows), "--chunk", "2") == 0
    [person] = search(fhir, f"Practitioner?identifier={IDNPS}|810000000007")
    assert len(search(fhir, f"PractitionerRole?practitioner=Practitioner/{person['id']}")) == 5


def test_malformed_rows_are_reported_by_line_and_skipped(server, fhir, tmp_path, capsys):
    path = write_rpps(tmp_path / "bad.txt", [rpps_row(1, 1), rpps_row(2, 2), rpps_row(3, 3)])
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "|".join(lines[2].split("|")[:40]) + "|\n"  # line 3: truncated
    lines[3] = "5" + lines[3][1:]  # line 4: unknown identifier type
    path.write_text("".join(lines), encoding="utf-8")
    assert import_directory(server, path) == 1  # some rows were skipped
    err = capsys.readouterr().err
    assert "line 3: expected 52 columns, found 40 (skipped)" in err
    assert "line 4: unknown identifier type '5'" in err
    assert len(search(fhir, "Practitioner")) == 1


def test_control_characters_are_refused_by_line(server, fhir, tmp_path, capsys):
    bad = rpps_row(2, 2)
    bad["Raison sociale site"] = "CABINET\x00 2"  # FHIR strings cannot hold it (nor can PostgreSQL text)
    assert import_directory(server, write_rpps(tmp_path / "x.txt", [rpps_row(1, 1), bad, rpps_row(3, 3)])) == 1
    assert "line 3: control character in column 'Raison sociale site'" in capsys.readouterr().err
    assert len(search(fhir, "Practitioner")) == 2


def test_a_file_that_is_not_an_rpps_extract_writes_nothing(server, fhir, tmp_path, capsys):
    path = tmp_path / "other.txt"
    path.write_text("NPI,Entity Type Code\n1234567890,1\n", encoding="utf-8")
    assert import_directory(server, path) == 1
    assert "line 1: not a PS_LibreAcces_Personne_activite header" in capsys.readouterr().err
    assert search(fhir, "Practitioner") == []


def test_missing_file_is_named(server, capsys):
    assert import_directory(server, Path("/nonexistent/extract.txt")) == 2
    assert "no such file: /nonexistent/extract.txt" in capsys.readouterr().err


def test_reader_streams_and_names_lines():
    header = "|".join(COLUMNS) + "|"
    good = "|".join(rpps_row(1, 1)[c] for c in COLUMNS) + "|"
    items = list(read_rpps(iter([header, good, "", "8|1|81|x|"])))
    assert [type(i).__name__ for i in items] == ["Activity", "RowError"]
    assert items[0].line == 2 and items[1] == RowError(4, "expected 52 columns, found 4")


@pytest.mark.parametrize("idnps", ["810000000009", "8"])
def test_national_identifier_must_be_type_digit_and_number(idnps):
    row = rpps_row(1, 1)
    row["Identification nationale PP"] = idnps
    header = "|".join(COLUMNS) + "|"
    [error] = list(read_rpps([header, "|".join(row[c] for c in COLUMNS) + "|"]))
    assert isinstance(error, RowError) and "is not the type digit followed by" in error.reason
