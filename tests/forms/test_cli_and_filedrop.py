"""`passerelle ingest-form` and the file-drop folder, on the test server's database."""

from __future__ import annotations

import threading
import time

from interfaces.cli.main import main
from interfaces.filedrop import FormDropWatcher
from server.forms import intake_for


def count(fhir, query: str) -> int:
    return len([e for e in fhir.get(query).json().get("entry", []) if e.get("search", {}).get("mode") == "match"])


def test_cli_reads_files_and_names_the_ones_it_cannot(fhir, server, forms, tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a form")
    form = forms["referral-en.tiff"]
    code = main(["ingest-form", str(form.path), str(notes), str(tmp_path / "missing.png"),
                 "--database-url", server.ctx.settings.database_url])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{notes}: the file is not a PDF, PNG, JPEG or TIFF file" in captured.err
    assert f"{tmp_path / 'missing.png'}: No such file or directory" in captured.err
    assert "1 of 3 file(s) read" in captured.out
    assert f"{form.path}: 1 page(s) read, DocumentReference/" in captured.out
    assert "file/s" in captured.err or "it/s" in captured.err or "s/file" in captured.err  # the tqdm bar
    npi = form.expected(0, "practitioner.npi")
    assert count(fhir, f"/Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|{npi}") == 1

    assert main(["ingest-form", str(form.path), "--database-url", server.ctx.settings.database_url]) == 0
    assert "already read" in capsys.readouterr().out
    assert count(fhir, "/DocumentReference") == 1


def test_cli_refuses_an_unknown_template_and_no_files(server, forms, capsys):
    url = server.ctx.settings.database_url
    assert main(["ingest-form", str(forms["referral-en.tiff"].path), "--template", "nope", "--database-url", url]) == 2
    assert "unknown form template 'nope'" in capsys.readouterr().err
    assert main(["ingest-form", "--database-url", url]) == 2
    assert "give FILE... or --watch DIR" in capsys.readouterr().err


def test_file_drop_moves_files_to_done_or_failed_once_they_stop_changing(fhir, server, forms, tmp_path):
    drop = tmp_path / "drop"
    watcher = FormDropWatcher(intake_for(server.ctx), drop)
    form = forms["admission-fr.png"]
    (drop / "scan.png").write_bytes(form.path.read_bytes())
    (drop / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (drop / "upload.png.part").write_bytes(b"half")
    assert watcher.poll() == []  # first sight: wait until the files stop changing
    handled = {h.name: h for h in watcher.poll()}
    assert set(handled) == {"scan.png", "broken.jpg"}
    assert handled["scan.png"].result.outcome == "read"
    assert (drop / "done" / "scan.png").read_bytes() == form.path.read_bytes()
    assert (drop / "failed" / "broken.jpg").exists()
    assert "unreadable JPEG file" in (drop / "failed" / "broken.jpg.error.txt").read_text()
    assert (drop / "upload.png.part").exists()
    nir = form.expected(0, "patient.nir")
    assert count(fhir, f"/Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|{nir}") == 1

    # The same scan dropped again (another name): recognised by its hash, nothing new stored.
    (drop / "scan-again.png").write_bytes(form.path.read_bytes())
    watcher.poll()
    [again] = watcher.poll()
    assert again.result.outcome == "already-read"
    assert (drop / "done" / "scan-again.png").exists()
    assert count(fhir, "/DocumentReference") == 2  # scan.png and the unreadable JPEG (kept, tagged failed)
    assert count(fhir, "/QuestionnaireResponse") == 1


def test_file_drop_loop_runs_until_stopped(server, tmp_path):
    watcher = FormDropWatcher(intake_for(server.ctx), tmp_path, interval=0.05)
    (tmp_path / "junk.pdf").write_bytes(b"%PDF-1.4 truncated")
    thread = threading.Thread(target=watcher.run)
    thread.start()
    deadline = time.monotonic() + 20
    while not (tmp_path / "failed" / "junk.pdf").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    watcher.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert "unreadable PDF file" in (tmp_path / "failed" / "junk.pdf.error.txt").read_text()
