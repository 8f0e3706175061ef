# The two commands a newcomer needs: `make demo` (set up, migrate, seed, serve) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export MATCHMAKER_DATABASE_URL ?= sqlite:///$(CURDIR)/matchmaker.db
# Python writes each module's compiled file on first import, even where the machine sets PYTHONDONTWRITEBYTECODE (this
# one does): else every process compiles what it imports again, and pytest rewrites the asserts of ~400 modules (its
# plugins' and the tests') again in each test process: collecting took 5.4 s so, 2.3 s from those files. Compiling
# the whole venv at install instead (uv's --compile-bytecode) took 11 s, mostly for modules no process imports.
export PYTHONDONTWRITEBYTECODE =

.PHONY: demo test install browser

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv --without-pip $(VENV)   # the machine's pip puts uv in (a venv's own pip took 3.4 s to make)
	$(PYTHON) -m pip --python $(BIN)/python install --quiet uv   # uv installs the rest in a fraction of pip's time
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python -e ".[dev]"
	touch $@

demo: install
	$(BIN)/matchmaker db upgrade
	$(BIN)/matchmaker seed --scale demo --seed 1
	$(BIN)/matchmaker demo-users
	@echo "pages: http://127.0.0.1:8000/web/   API docs: http://127.0.0.1:8000/schema"
	$(BIN)/matchmaker serve --host 127.0.0.1 --port 8000

# The page tests drive Debian's Chromium (no browser downloads here); a CJK font makes Chinese text render.
browser:
	@(command -v chromium && fc-list :lang=zh | grep -q .) >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null)

test: install browser
	$(BIN)/python -m pytest -n 2 --dist worksteal --durations=25
