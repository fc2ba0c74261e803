# Two commands a fresh machine needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs only what the bot needs; the dev and bench extras come with `make test`/`make bench`.
PIP_E := $(BIN)/pip install --quiet -e
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed-dev

.PHONY: run test lint typecheck unit bench snapshots screenshots clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(PIP_E) .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP_E) '.[dev,bench]'
	touch $(STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/cpc serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/calendar.py

# Rewrite tests/snapshots/<area>.json (every pack's timeline dates) after an intended change of code, pack or holidays.
snapshots: $(STAMP)
	$(BIN)/python -m tests.snapshots.generate

# Every card as the Agents Playground renders it, at 400 and 1280 px, in var/screenshots/ (Node.js,
# npm and Debian's chromium needed; not part of `make test`).
screenshots: $(RUN_STAMP)
	bash tools/playground/screenshots.sh

clean:
	rm -rf $(VENV) var/*.sqlite3
