# Passerelle: `make run` (demo server on SQLite) and `make test` on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install run demo test bench bench-search clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: install  ## the API on http://localhost:8080/fhir, SQLite file var/passerelle.db, demo data loaded
	$(BIN)/passerelle demo
	$(BIN)/passerelle serve

test: install  ## SQLite always; PostgreSQL too when PASSERELLE_TEST_DATABASE_URL is set
	$(BIN)/python -m pytest

bench: install  ## figures side by side on SQLite and PostgreSQL (see tests/bench/README.md)
	$(BIN)/python -m tests.bench.run

bench-search: install  ## search latency at 10k/100k/1M (loads once, keeps the databases; see tests/bench/README.md)
	$(BIN)/python -m tests.bench.run --search --sizes 10000,100000,1000000

clean:
	rm -rf $(VENV) var .pytest_cache
