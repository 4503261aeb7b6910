# Two commands do all set-up on a fresh machine (Python 3.10+ with venv):
#   make run    create .venv if needed, then open the reading app on the bundled example cases
#   make test   create .venv if needed, then run the whole test suite
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: run test bench lint setup clean

setup: $(STAMP)

# torch is pinned to the CPU build first: a bare "torch" would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "torch==2.13.0"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gazescope serve

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/gazescope bench

lint: $(STAMP)
	$(BIN)/ruff check core app tests

clean:
	rm -rf $(VENV) out .pytest_cache
