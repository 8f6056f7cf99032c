# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test test-pg bench lint fixtures clean screenshot

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Set up, create the sample project on first run, open the window on it.
run: $(STAMP)
	$(VENV)/bin/workbench open --sample

## Set up with the test extras and run every test offscreen.
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

## The storage and services suites on SQLite and on a throwaway local PostgreSQL
## (scripts/pg-test-server; `scripts/pg-test-server stop` removes it).
test-pg: $(STAMP)
	WORKBENCH_TEST_PG=$$(scripts/pg-test-server start) QT_QPA_PLATFORM=offscreen \
		$(PY) -m pytest -q tests/storage tests/services

## Benchmarks against DESIGN §6 budgets; prints JSON.
bench: $(STAMP)
	@QT_QPA_PLATFORM=offscreen $(PY) -m bench

## Make a project file at every schema revision that lacks one (tests/fixtures/).
fixtures: $(STAMP)
	$(PY) tests/fixtures/make_fixtures.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

screenshot: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/workbench --screenshot docs/screenshot.png --sample

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
