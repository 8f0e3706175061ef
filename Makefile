# The two commands a newcomer needs: `make demo` (set up, migrate, seed, serve) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export MATCHMAKER_DATABASE_URL ?= sqlite:///$(CURDIR)/matchmaker.db

.PHONY: demo test install

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: install
	$(BIN)/matchmaker db upgrade
	$(BIN)/matchmaker seed --scale demo --seed 1

test: install
	$(BIN)/python -m pytest
