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

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

run: install  ## the API on http://localhost:8080/fhir, SQLite file var/passerelle.db, demo data loaded
	$(BIN)/passerelle demo
	$(BIN)/passerelle serve

test: install  ## SQLite always; PostgreSQL too when PASSERELLE_TEST_DATABASE_URL is set
	$(BIN)/python -m pytest

bench: $(VENV)/.bench-installed  ## every benchmark, SQLite and PostgreSQL side by side (see tests/bench/README.md)
	$(BIN)/python -m tests.bench.run                          # REST core (results.md)
	$(BIN)/python -m tests.bench.authz                        # enforcement and audit cost
	$(BIN)/python -m tests.mappers.hl7v2.bench_mapping        # HL7 v2 parse and map rates
	$(BIN)/python -m tests.bench.hl7v2 --connections 64       # MLLP durable acks, mapped and stored
	$(BIN)/python -m tests.bench.mdm --sizes 10000 --backends sqlite,postgresql   # FEBRL beside Splink
	$(BIN)/python -m tests.bench.notes                        # NLP F1 and notes/s beside bare medspaCy
	$(BIN)/python -m tests.bench.alerts --backends sqlite,postgresql
	$(BIN)/python -m tests.bench.forms --engines tesseract,rapidocr   # field accuracy and s/page
	$(BIN)/python -m tests.bench.directory                    # directory rows/s and peak memory
	$(BIN)/python -m tests.bench.scheduling                   # $find over a year, concurrent $book
	$(BIN)/python -m tests.bench.subscriptions                # write cost of subscriptions, fan-out, delivery

bench-search: install  ## search latency at 10k/100k/1M (loads once, keeps the databases; see tests/bench/README.md)
	$(BIN)/python -m tests.bench.run --search --sizes 10000,100000,1000000

clean:
	rm -rf $(VENV) var .pytest_cache
