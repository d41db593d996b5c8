"""`passerelle demo` (what `make run` calls) prints a demo client and a curl command line
that gets a token: run that very command line against a server with auth on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_demo_prints_a_curl_that_gets_a_token(secure, tmp_path):
    env = {**os.environ, "PASSERELLE_BASE_URL": f"{secure.url}/fhir"}
    key_file = tmp_path / "demo.jwk"
    run = subprocess.run([sys.executable, "-m", "interfaces.cli.main", "demo", "--database-url",
                          secure.ctx.settings.database_url, "--key-file", str(key_file)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    script = run.stdout[run.stdout.index("TOKEN=$("):]
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"resourceType":"Bundle"' in done.stdout.replace(" ", "") and '"Patient"' in done.stdout
    # A second demo run keeps the same client and key.
    before = key_file.read_text()
    again = subprocess.run([sys.executable, "-m", "interfaces.cli.main", "demo", "--database-url",
                            secure.ctx.settings.database_url, "--key-file", str(key_file)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and key_file.read_text() == before
