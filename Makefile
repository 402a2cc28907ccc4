# Two commands do the whole set-up on a fresh machine:  make run   and   make test
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 7860
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install index run test lint eval bench bench-stores browser clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	# The machine's CPU build of torch first, so nothing pulls the CUDA wheels.
	$(VENV)/bin/pip install -q torch==2.13.0
	$(VENV)/bin/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

index: install
	$(VENV)/bin/rag index

run: index
	$(PY) app.py --host $(HOST) --port $(PORT)

# Debian's chromium for the browser test (Playwright's own browser download cannot work offline).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "browser tests need chromium: sudo apt-get install -y chromium"; fi; }

lint: install
	$(VENV)/bin/ruff check .

test: install browser lint
	$(VENV)/bin/pytest -q
	$(VENV)/bin/rag eval

eval: install
	$(VENV)/bin/rag eval

bench: install
	$(PY) benchmarks/run.py

# Snapshot vs Postgres store over N synthetic paragraphs (a real PostgreSQL + pgvector is started, or
# set RAG_TEST_PG_DSN): write, open, hybrid p50/p95, recall@10 against exact, RSS.
N ?= 100000
bench-stores: install
	$(PY) -m benchmarks.stores --n $(N)

clean:
	rm -rf .rag test-output
