# Two commands do everything: `make run` (install, build the demo knowledge base, serve) and
# `make test` (lint and the whole test suite). Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install chromium screenshots run demo serve test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: this machine has the CPU build locally; unpinned pulls CUDA.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && apt-get install -y -qq chromium

chromium: $(CHROMIUM)

demo: install
	$(BIN)/stellwerk demo

serve: install
	$(BIN)/stellwerk serve --host 127.0.0.1 --port 8000

run: demo serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# One pytest worker per core (pytest-xdist): the suite is mostly CPU-bound model work,
# so two cores take it in a little over half the serial time.
test: lint chromium
	$(BIN)/python -m pytest -q -n auto

# The browser journeys keep a PNG of each page for the README.
screenshots: install chromium
	STELLWERK_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q -m browser

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench.ingest_throughput
	$(BIN)/python -m bench.suggest_latency
	$(BIN)/python -m bench.console_latency

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
