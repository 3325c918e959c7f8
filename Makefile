# One virtual environment (.venv/) serves both targets.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup setup-test eval bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $(STAMP)

setup: $(STAMP)

# The test extras: torch's CPU build first (pinned, from this machine's disk), then the rest.
$(VENV)/.installed-test: $(STAMP)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,sentence-transformers,llm]'
	touch $(VENV)/.installed-test

setup-test: $(VENV)/.installed-test

run: setup
	$(BIN)/streamlit run app.py

test: setup-test
	$(BIN)/python -m pytest -q -p no:cacheprovider

eval: setup
	$(BIN)/assistant eval assistant/../../shared/eval/dev.jsonl

bench: setup
	$(BIN)/python benchmarks/speed.py

clean:
	rm -rf $(VENV) .pytest_cache
