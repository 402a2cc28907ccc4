"""A real OpenAI-compatible chat-completions server on 127.0.0.1, scripted per test.

The `openai` client talks to it over real HTTP (JSON, and SSE for stream=True), so retries, timeouts,
dropped streams and error bodies go through the client's own code paths. Nothing is monkeypatched.

    from tests.fake_openai import fake_openai, text, error, drop, stall, hang

    with fake_openai() as fake:                      # or the `fake_llm` pytest fixture (see below)
        settings = settings.with_(**fake.llm_settings())    # base_url, model, key, short timeouts
        fake.enqueue(error(429), text("Done [1]."))  # one reply per request, in order
        ...
        fake.requests[-1].messages                   # what the client sent
        assert len(fake.requests) == 2

Server (`FakeOpenAI`):
    .url            "http://127.0.0.1:<port>/fake-<n>/v1", the base_url to give the client (a path of
                    its own per server, so nothing learned about one endpoint leaks into another test)
    .enqueue(*r)    append replies; each POST /v1/chat/completions takes the next one
    .default        reply served once the queue is empty (default: error(500, "no reply queued"));
                    set `fake.default = error(500)` for a persistently failing endpoint
    .requests       list of `Received`, one per request, in arrival order (retries included)
    .llm_settings(**overrides)  dict for Settings.with_/load_settings: llm_base_url=.url,
                    llm_model="test-model", llm_api_key="sk-test-SECRET", short deadlines (first
                    token 2 s, token gap 2 s, answer 5 s, queue 5 s), llm_connect_timeout=2,
                    llm_max_retries=2, llm_context_window=8192 (no discovery requests)
    .gets           GET paths served as JSON: {"/props": {...}} (e.g. to fake llama.cpp's /props or
                    vLLM's /v1/models); .posts likewise for other POST paths (Ollama's /api/show)
    Other paths answer 404 (OpenAI-style error body).

Received: .path, .headers (lower-cased names), .json (request body), .messages, .model, .stream,
    .max_tokens, .text (every message's content joined by blank lines, for `in` asserts),
    .system / .user (content of the first system / last user message).

Replies (module functions):
    text(content, finish_reason="stop", chunks=None, reasoning=None, prompt_tokens=None, every=0)
        A normal completion. Served as JSON for stream=False, as SSE deltas for stream=True
        (`chunks`: the exact deltas; default: split after each run of spaces), ending with a chunk
        carrying finish_reason and `data: [DONE]`. finish_reason="length" fakes a truncated answer.
        `reasoning`: deltas sent first as `reasoning_content` (vLLM's reasoning parser).
        A usage chunk follows when the request asked for it (stream_options.include_usage);
        `prompt_tokens` sets its count (default: the messages' cl100k tokens, 4 more per message).
        `every`: seconds before each content delta (a slow but steady model).
    empty()         SSE: 200 and an empty body, as llama-cpp-python answers a prompt longer than
                    its context (the error is only in its log).
    stream_error(message, *chunks)  SSE: these deltas, then `data: {"error": {...}}` in the stream.
    trickle(*chunks, every=0.5, pings=True)  SSE: one delta every `every` seconds, forever, with
                    a keep-alive comment (": ping") between them (until the client goes away).
    keepalive(seconds=30, every=0.2)  SSE: headers, then only ": ping" comments for `seconds`.
    error(status, message=..., code=None, type=None, body=None, headers=None)
        An HTTP error with OpenAI's body {"error": {"message", "type", "param", "code"}}; `body`
        replaces it (a dict is sent as JSON, e.g. vLLM's unwrapped {"object": "error", ..., "code": 400};
        a str as text/html). Every error carries `retry-after-ms: 1` (the client then retries at
        once; note `retry-after: 0` would NOT, the client only honours delays > 0) unless `headers`
        overrides it.
    drop(*chunks)   SSE: these deltas, then the connection is cut mid-body (no finish_reason, no
                    [DONE], no final chunk of the chunked encoding).
    stall(*chunks, seconds=30)  SSE: these deltas, then silence (a read timeout mid-stream).
    hang(seconds=30)            no response at all for `seconds` (a read timeout before any byte).
    Waits end early when the server stops, so a test never waits for them.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.tokens import count_tokens

MODEL = "test-model"
_instances = itertools.count(1)
API_KEY = "sk-test-SECRET"


@dataclass(frozen=True)
class Reply:
    kind: str  # "text", "error", "drop", "stall", "hang", "empty", "stream_error", "trickle", "keepalive"
    content: str = ""
    chunks: tuple[str, ...] | None = None
    finish_reason: str | None = "stop"
    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    seconds: float = 30.0
    reasoning: tuple[str, ...] = ()
    prompt_tokens: int | None = None
    every: float = 0.5
    pings: bool = True


def text(content: str, finish_reason: str = "stop", chunks: list[str] | None = None,
         reasoning: list[str] | None = None, prompt_tokens: int | None = None, every: float = 0.0) -> Reply:
    return Reply("text", content, tuple(chunks) if chunks is not None else None, finish_reason,
                 reasoning=tuple(reasoning or ()), prompt_tokens=prompt_tokens, every=every)


def empty() -> Reply:
    return Reply("empty", chunks=(), finish_reason=None)


def stream_error(message: str, *chunks: str) -> Reply:
    return Reply("stream_error", message, chunks=chunks, finish_reason=None)


def trickle(*chunks: str, every: float = 0.5, pings: bool = True) -> Reply:
    return Reply("trickle", chunks=chunks, finish_reason=None, every=every, pings=pings)


def keepalive(seconds: float = 30.0, every: float = 0.2) -> Reply:
    return Reply("keepalive", chunks=(), finish_reason=None, seconds=seconds, every=every)


def error(
    status: int,
    message: str | None = None,
    *,
    code: str | int | None = None,
    type: str | None = None,
    body: object = None,
    headers: dict | None = None,
) -> Reply:
    if body is None:
        body = {
            "error": {
                "message": message or f"fake_openai: HTTP {status}",
                "type": type or ("server_error" if status >= 500 else "invalid_request_error"),
                "param": None,
                "code": code,
            }
        }
    return Reply("error", status=status, body=body, headers={"retry-after-ms": "1", **(headers or {})})


def drop(*chunks: str) -> Reply:
    return Reply("drop", chunks=chunks, finish_reason=None)


def stall(*chunks: str, seconds: float = 30.0) -> Reply:
    return Reply("stall", chunks=chunks, finish_reason=None, seconds=seconds)


def hang(seconds: float = 30.0) -> Reply:
    return Reply("hang", seconds=seconds)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    json: dict

    @property
    def messages(self) -> list[dict]:
        return self.json.get("messages", [])

    @property
    def model(self) -> str | None:
        return self.json.get("model")

    @property
    def stream(self) -> bool:
        return bool(self.json.get("stream"))

    @property
    def max_tokens(self) -> int | None:
        return self.json.get("max_tokens")

    @property
    def text(self) -> str:
        return "\n\n".join(str(m.get("content", "")) for m in self.messages)

    @property
    def system(self) -> str:
        return next((m["content"] for m in self.messages if m.get("role") == "system"), "")

    @property
    def user(self) -> str:
        return next((m["content"] for m in reversed(self.messages) if m.get("role") == "user"), "")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        import sys

        if isinstance(sys.exc_info()[1], OSError):  # the client hung up (timeout, reset): expected here
            return
        super().handle_error(request, client_address)


class FakeOpenAI:
    def __init__(self):
        self.replies: collections.deque[Reply] = collections.deque()
        self.default: Reply = error(500, "fake_openai: no reply queued")
        self.requests: list[Received] = []
        self.gets: dict[str, object] = {}
        self.posts: dict[str, object] = {}
        self.active = 0  # chat requests being served right now
        self.max_active = 0  # the most served at once
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ids = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        # A path of its own: what rag.llm learns about an endpoint (context window, queue) is kept per
        # URL for the process, and a later test's server may get the same port.
        self.prefix = f"/fake-{next(_instances)}"
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def enqueue(self, *replies: Reply) -> FakeOpenAI:
        with self._lock:
            self.replies.extend(replies)
        return self

    def llm_settings(self, **overrides) -> dict:
        return {
            "llm_base_url": self.url,
            "llm_model": MODEL,
            "llm_api_key": API_KEY,
            "llm_first_token_timeout": 2.0,
            "llm_token_gap_timeout": 2.0,
            "llm_answer_timeout": 5.0,
            "llm_queue_timeout": 5.0,
            "llm_connect_timeout": 2.0,
            "llm_max_retries": 2,
            "llm_context_window": 8192,
            **overrides,
        }

    def _next(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            return self.replies.popleft() if self.replies else self.default


@contextlib.contextmanager
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    """A running FakeOpenAI for one test. To use it, import it into tests/conftest.py
    (`from tests.fake_openai import fake_llm  # noqa: F401`); importing it into the test module
    itself works too but trips ruff's F811 on every test that takes it as a parameter."""
    with fake_openai() as server:
        yield server


# -- shared by the loopback and the real-server tests -------------------------------------------

# Prompt text that must never reach the user: fences, a boundary token, the source blocks' labels.
SHOWN_PROMPT = re.compile(r"<<<|>>>|\b[0-9a-f]{16}\b|^\s*(Article|Date|Paragraph \d+|Question|Sources|Rules):",
                          re.M | re.I)


def check_answer_contract(a, extractive) -> None:
    """What every answer in the LLM tests must satisfy, from the real server or a replay: `extractive`
    is the offline answer to the same question. In these tests a model abstention on an answerable
    question can only be an echo (the replies are known), so it fails too."""
    assert not SHOWN_PROMPT.search(a.text), a.text  # no prompt, fence or boundary text shown
    markers = {int(n) for group in re.findall(r"\[(\d+(?:,\s*\d+)*)\]", a.text) for n in group.split(",")}
    assert markers <= {c.marker for c in a.citations}, (a.text, a.citations)  # every marker resolves
    assert all(0 <= c.start <= c.end and c.text for c in a.citations)
    if a.backend == "extractive":  # the model's text was not used: the notice must say why
        assert a.notice and ("unusable" in a.notice or "could not answer" in a.notice), a.notice
        assert a.text == extractive.text
    else:
        assert a.backend.startswith("openai:") and (a.abstained or a.citations)
        assert all(s.markers for s in a.sentences)
    if not extractive.abstained:  # answerable: never "the articles don't say" because of an echo
        assert not (a.abstained and a.backend != "extractive"), a


def _split(content: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\S+\s*|\s+", content))


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive and chunked SSE, like real servers
        timeout = 30  # idle keep-alive connections close eventually

        def log_message(self, format, *args):  # quiet
            pass

        def do_GET(self):
            path = self.path.removeprefix(fake.prefix)
            with fake._lock:
                fake.requests.append(Received(path, {k.lower(): v for k, v in self.headers.items()}, {}))
            if path in fake.gets:
                self._send_json(200, fake.gets[path])
                return
            self._send_json(404, {"error": {"message": f"no route {path}", "type": "not_found", "code": None}})

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"_raw": raw.decode("utf-8", "replace")}
            path = self.path.removeprefix(fake.prefix)
            received = Received(path, {k.lower(): v for k, v in self.headers.items()}, body)
            if path.rstrip("/") != "/v1/chat/completions":
                with fake._lock:
                    fake.requests.append(received)
                if path in fake.posts:
                    self._send_json(200, fake.posts[path])
                    return
                self._send_json(404, {"error": {"message": f"no route {path}", "type": "not_found"}})
                return
            reply = fake._next(received)
            with fake._lock:
                fake.active += 1
                fake.max_active = max(fake.max_active, fake.active)
            try:
                self._serve(received, reply)
            finally:
                with fake._lock:
                    fake.active -= 1

        def _serve(self, received: Received, reply: Reply):
            if reply.kind == "hang":
                fake._stop.wait(reply.seconds)
                self.close_connection = True
                return
            if reply.kind == "error":
                if isinstance(reply.body, str):
                    self._send(reply.status, reply.body.encode(), "text/html; charset=utf-8", reply.headers)
                else:
                    self._send_json(reply.status, reply.body, reply.headers)
                return
            if not received.stream and reply.kind == "text":
                self._send_json(200, self._completion(received, reply))
                return
            self._stream(received, reply)

        # -- responses ---------------------------------------------------------------------

        def _send(self, status: int, data: bytes, content_type: str, headers: dict | None = None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        def _send_json(self, status: int, obj, headers: dict | None = None):
            self._send(status, json.dumps(obj).encode(), "application/json", headers)

        def _completion(self, received: Received, reply: Reply) -> dict:
            return {
                "id": f"chatcmpl-fake-{next(fake._ids)}",
                "object": "chat.completion",
                "created": 0,
                "model": received.model or MODEL,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content},
                        "finish_reason": reply.finish_reason,
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }

        def _chunk(self, cid: str, model: str, delta: dict | None, finish_reason=None, usage=None) -> bytes:
            obj = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }
            if usage is not None:
                obj["usage"] = usage
            return f"data: {json.dumps(obj)}\n\n".encode()

        def _write_chunk(self, data: bytes):
            "One piece of the chunked transfer encoding, flushed at once."
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _stream(self, received: Received, reply: Reply):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            cid, model = f"chatcmpl-fake-{next(fake._ids)}", received.model or MODEL
            chunks = reply.chunks if reply.chunks is not None else _split(reply.content)
            try:
                if reply.kind == "empty":
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    return
                if reply.kind == "keepalive":
                    until = time.monotonic() + reply.seconds
                    while time.monotonic() < until and not fake._stop.wait(reply.every):
                        self._write_chunk(b": ping\n\n")
                    self.close_connection = True
                    return
                self._write_chunk(self._chunk(cid, model, {"role": "assistant", "content": ""}))
                if reply.kind == "trickle":
                    for piece in itertools.cycle(chunks or ("",)):
                        if fake._stop.wait(reply.every):
                            break
                        if reply.pings:
                            self._write_chunk(b": ping\n\n")
                        if piece:
                            self._write_chunk(self._chunk(cid, model, {"content": piece}))
                    self.close_connection = True
                    return
                for piece in reply.reasoning:
                    self._write_chunk(self._chunk(cid, model, {"reasoning_content": piece}))
                for piece in chunks:
                    if reply.kind == "text" and reply.every:
                        fake._stop.wait(reply.every)
                    self._write_chunk(self._chunk(cid, model, {"content": piece}))
                if reply.kind == "stream_error":
                    err = {"error": {"message": reply.content, "type": "server_error", "code": None}}
                    self._write_chunk(f"data: {json.dumps(err)}\n\n".encode())
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    return
                if reply.kind == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)  # cut mid-body: no terminating chunk
                    return
                if reply.kind == "stall":
                    fake._stop.wait(reply.seconds)
                    self.close_connection = True
                    return
                self._write_chunk(self._chunk(cid, model, {}, reply.finish_reason))
                if (received.json.get("stream_options") or {}).get("include_usage"):
                    prompt = reply.prompt_tokens or sum(
                        count_tokens(str(m.get("content", ""))) + 4 for m in received.messages)
                    usage = {"prompt_tokens": prompt, "completion_tokens": len(chunks), "total_tokens": prompt + len(chunks)}
                    self._write_chunk(self._chunk(cid, model, None, usage=usage))
                self._write_chunk(b"data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:  # the client went away (e.g. it timed out): nothing to clean up
                self.close_connection = True

    return Handler
