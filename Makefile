# The README's commands. Everything runs in the project's own virtual environment (.venv),
# built from pyproject.toml; nothing relies on what happens to be installed on the machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
QUESTION ?= Do NCMEC referrals catch downloaders, or only uploaders?
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo index lint test test-fast bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: the CPU build on these machines (a bare `torch` pulls several GB of CUDA)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

index: install
	$(BIN)/ncmec-qa corpus check || true
	$(BIN)/ncmec-qa index build

demo: index
	$(BIN)/ncmec-qa ask "$(QUESTION)"

lint: install
	$(BIN)/python -m ruff check src tests bench
	$(BIN)/python -m ruff format --check src tests bench
	$(BIN)/python -m mypy
	$(BIN)/python -m cogapp --check README.md

test: install lint
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

bench: install
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/latency.py

clean:
	rm -rf $(VENV) index/current index/gen-* .pytest_cache
