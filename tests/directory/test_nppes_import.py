"""NPPES NPI file -> store, through the CLI, read back over FHIR REST."""

from __future__ import annotations

from .extracts import nppes_row, write_nppes
from .test_rpps_import import import_directory, search

NPI = "http://hl7.org/fhir/sid/us-npi"


def test_individuals_and_organizations(server, fhir, tmp_path, capsys):
    rows = [nppes_row(1), nppes_row(2, organization=True), nppes_row(3, deactivated=True)]
    assert import_directory(server, write_nppes(tmp_path / "npidata.csv", rows), fmt="nppes") == 0
    assert "created:   3 Location, 1 Organization, 2 Practitioner, 2 PractitionerRole" in capsys.readouterr().out

    [doctor] = search(fhir, f"Practitioner?identifier={NPI}|1000000001")
    assert doctor["active"] is True and doctor["qualification"][0]["code"]["text"] == "M.D."
    [role] = search(fhir, f"PractitionerRole?practitioner=Practitioner/{doctor['id']}")
    # The primary taxonomy (switch Y on the second slot) comes first.
    assert [s["coding"][0]["code"] for s in role["specialty"]] == ["207R00000X", "207Q00000X"]
    assert search(fhir, "PractitionerRole?specialty=http://nucc.org/provider-taxonomy|207R00000X")
    [clinic] = search(fhir, f"Organization?identifier={NPI}|1000000002")
    assert clinic["name"] == "SPRINGFIELD CLINIC 2"
    [site] = search(fhir, f"Location?organization=Organization/{clinic['id']}")
    assert site["address"]["state"] == "IL"
    # A deactivated NPI stays, inactive.
    [gone] = search(fhir, f"Practitioner?identifier={NPI}|1000000003")
    assert gone["active"] is False


def test_deactivation_in_a_later_file_updates_the_practitioner(server, fhir, tmp_path, capsys):
    assert import_directory(server, write_nppes(tmp_path / "v1.csv", [nppes_row(1)]), fmt="nppes") == 0
    assert import_directory(server, write_nppes(tmp_path / "v2.csv", [nppes_row(1, deactivated=True)]),
                            fmt="nppes") == 0
    out = capsys.readouterr().out
    assert "updated:   1 Practitioner, 1 PractitionerRole" in out
    assert "Practitioner.active (1)" in out
    [doctor] = search(fhir, f"Practitioner?identifier={NPI}|1000000001")
    assert doctor["active"] is False and doctor["meta"]["versionId"] == "2"


def test_bad_rows_are_reported_and_skipped(server, fhir, tmp_path, capsys):
    bad_npi, bad_date = nppes_row(2), nppes_row(3)
    bad_npi["NPI"] = "12345"
    bad_date["NPI Deactivation Date"] = "2020-03-01"
    path = write_nppes(tmp_path / "npidata.csv", [nppes_row(1), bad_npi, bad_date])
    with open(path, "a", encoding="utf-8") as out:
        out.write('"1000000009","1"\n')  # a short row
    assert import_directory(server, path, fmt="nppes") == 1
    err = capsys.readouterr().err
    assert "line 3: NPI '12345' is not 10 digits" in err
    assert "line 4: date '2020-03-01' is not MM/DD/YYYY" in err
    assert "line 5: expected 330 columns, found 2" in err
    assert len(search(fhir, "Practitioner")) == 1


def test_header_without_the_needed_columns(server, fhir, tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_text("NPI,Entity Type Code\n1234567890,1\n", encoding="utf-8")
    assert import_directory(server, path, fmt="nppes") == 1
    assert "line 1: not an NPPES header (missing columns: Provider Organization Name" in capsys.readouterr().err


def test_a_changed_row_rewrites_only_the_resources_it_changes(server, fhir, tmp_path, capsys):
    assert import_directory(server, write_nppes(tmp_path / "v1.csv", [nppes_row(1)]), fmt="nppes") == 0
    moved = nppes_row(1)
    moved["Provider Business Practice Location Address Telephone Number"] = "2175550000"
    assert import_directory(server, write_nppes(tmp_path / "v2.csv", [moved]), fmt="nppes") == 0
    out = capsys.readouterr().out
    assert "updated:   1 Location, 1 PractitionerRole" in out  # both carry the practice phone
    assert "unchanged: 1 Practitioner" in out
    [doctor] = search(fhir, f"Practitioner?identifier={NPI}|1000000001")
    assert doctor["meta"]["versionId"] == "1"
