# The two commands a new machine needs:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test test-unit test-integration test-e2e faults schemas messages lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml package.json package-lock.json
	@# Debian's Chromium for the dashboard's browser test (Playwright drives it; no browser download).
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	@# docker-compose (v1, Debian) validates docker-compose.yml in the tests; no Docker engine is needed for that.
	command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null)
	@# stunnel: a TLS-terminating proxy in front of the local broker, for the broker TLS tests.
	command -v stunnel4 >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stunnel4 >/dev/null)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,dev]'
	@# Node tools (development OpenID Connect provider, standards checkers) from the npm lockfile.
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

## Broker, Postgres, every service as its own process, and the demo; Ctrl-C stops everything.
run: setup
	$(BIN)/mentorship dev up

## Lint first (a finding fails the run), then the whole suite: unit, integration (real Postgres + broker), e2e.
## Two pytest-xdist workers, each taking whole modules (a module's stack is started once, in one worker); each
## worker has its own Postgres server, and every module its own broker. Modules go in collection order (e2e,
## faults, integration, unit): the long single-test modules first, not last as xdist's reordering by test count
## would put them, where one of them alone made the run's tail.
test: lint
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

test-unit: setup
	$(BIN)/python -m pytest -m unit

test-integration: setup
	$(BIN)/python -m pytest -m integration

test-e2e: setup
	$(BIN)/python -m pytest -m e2e

## Every fault-injection case (`make test` runs a bounded subset); the table lands in test-artifacts/faults.txt.
## One case, several times in a row: `make faults CASE=replicas REPEAT=10` (CASE is a pytest -k expression).
faults: setup
	$(BIN)/python -m pytest tests/faults --all-faults $(if $(CASE),-k '$(CASE)') $(if $(REPEAT),--fault-repeat $(REPEAT))

schemas: setup
	$(BIN)/mentorship schemas

## The portal's message catalogs: extract every page text into messages.pot, then update each language's .po
## (the portal reads the .po files at start; a unit test fails while a text is missing from a catalog).
PORTAL_LOCALE := services/portal/locale
messages: setup
	$(BIN)/pybabel extract -F services/portal/babel.cfg -k N_ --no-location --sort-output --omit-header -o $(PORTAL_LOCALE)/messages.pot .
	$(BIN)/pybabel update -i $(PORTAL_LOCALE)/messages.pot -d $(PORTAL_LOCALE) --no-fuzzy-matching --ignore-obsolete

## ruff (rules and formatting, configured in pyproject.toml) and the import-linter contracts.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python -m bench.append
	$(BIN)/python -m bench.relay
	$(BIN)/python -m bench.bulk_match
	$(BIN)/python -m bench.hr_import
	$(BIN)/python -m bench.reporting_line
	$(BIN)/python -m bench.notify_latency
	$(BIN)/python -m bench.replay
	$(BIN)/python -m bench.reads
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.propagation
	$(BIN)/python -m bench.consumer

clean:
	rm -rf $(VENV) node_modules .mentorship .pytest_cache
