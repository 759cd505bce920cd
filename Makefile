# The two commands of the README, and the helpers they are made of.
#   make demo   render the standard routine offline and print where the MP3 is
#   make test   lint, type-check, and run every test (unit tests and notebooks)
#   make notebooks-html   run the notebooks and save them as HTML beside them, for sharing
#   make lab    open JupyterLab on notebooks/, in this project's environment
#   make bench  time builds against the MP3 encoder and the naive way; writes benchmarks/RESULTS.md

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo lab test lint unit bench notebooks-html clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever the project's dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,notebook,bench]'
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/stretchcast build standard --offline

# JupyterLab from .venv, so its kernel ("Python 3") is this environment, with stretchcast in it.
# (Jupyter refuses to run as root without --allow-root: containers and CI machines run as root.)
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

lint: $(STAMP)
	$(BIN)/ruff check src tests notebooks benchmarks
	$(BIN)/ruff format --check src tests notebooks benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# Branch coverage of the product by the whole suite; the floor sits just under the last measure
# (see docs/ARCHITECTURE.md) and is only ever raised.
COV_FLOOR := 94

unit: $(STAMP)
	$(BIN)/python -m pytest --cov=stretchcast --cov-branch --cov-report=term:skip-covered --cov-fail-under=$(COV_FLOOR)

test: lint unit

# A few minutes; never part of `make test` (tests/test_bench.py only checks the script works).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

# Executed with the real voice, writing tracks into audio/ like a person's run; the HTML files
# (git-ignored) load the widget renderer from a CDN when opened.
notebooks-html: $(STAMP)
	$(BIN)/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=1800 notebooks/*.ipynb

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
