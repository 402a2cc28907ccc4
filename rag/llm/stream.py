"""One streamed chat completion under deadlines the transport cannot enforce.

A socket's read timeout restarts on every byte, so an endpoint that trickles tokens or sends SSE
keep-alive comments (": ping") never trips it. Here the request is read on a worker thread and the
caller waits on a queue with three deadlines (rag.config.Settings):

    llm_first_token_timeout  from sending the request to the first token (prompt evaluation, queueing
                             inside the server, and any retries)
    llm_token_gap_timeout    between two tokens once the answer has started
    llm_answer_timeout       the whole answer, retries and context-overflow re-requests included

Only tokens count as progress: content, or a reasoning model's reasoning_content. Keep-alive
comments, empty deltas and role-only chunks do not. When a deadline passes, or the caller stops
reading, the connection is shut down so the server stops generating for nobody.

Retries happen here, not in the openai client, so they respect the deadlines, stop when the caller
goes away and are counted as they happen: connection errors, timeouts, 408, 409, 429 (not
`insufficient_quota`: an empty account) and 5xx, before any token arrived, honouring retry-after
and x-should-retry. A started answer is never silently re-requested.
"""

from __future__ import annotations

import queue
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .errors import is_quota

_BACKOFF_START, _BACKOFF_MAX = 0.5, 8.0


class Deadline(Exception):
    "A deadline passed: which one ('first token', 'token gap', 'answer') and its length in seconds."

    def __init__(self, which: str, seconds: float):
        super().__init__(f"{which} deadline of {seconds:g}s passed")
        self.which, self.seconds = which, seconds


@dataclass(frozen=True)
class Deadlines:
    first_token: float  # seconds
    gap: float  # seconds
    end: float  # absolute time.monotonic() by which the whole answer must be done
    total: float  # the length of that whole-answer deadline, for messages
    connect: float


class Exchange:
    """Iterate to get (kind, text) pieces, kind "content" or "reasoning". Afterwards: finish_reason,
    prompt_tokens (if the server reported usage), retries, chunks (how many the server sent)."""

    def __init__(self, request: Callable[[object], object], deadlines: Deadlines, max_retries: int):
        self._request = request  # timeout -> an openai Stream
        self._deadlines = deadlines
        self._max_retries = max_retries
        self._queue: queue.Queue = queue.Queue()
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._response = None
        self._got_token = False
        self.started = time.monotonic()
        self.finish_reason: str | None = None
        self.prompt_tokens: int | None = None
        self.retries = 0
        self.chunks = 0
        self._thread = threading.Thread(target=self._run, name="rag-llm-stream", daemon=True)

    # -- the caller's side ---------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[str, str]]:
        d = self._deadlines
        self._thread.start()
        try:
            first_by = min(self.started + d.first_token, d.end)
            last = None
            while True:
                if time.monotonic() >= d.end:  # also when pieces keep coming: a model that never stops
                    raise Deadline("answer", d.total)
                if last is None:
                    limit, which, seconds = first_by, "first token", d.first_token
                else:
                    limit, which, seconds = last + d.gap, "token gap", d.gap
                if d.end < limit:
                    limit, which, seconds = d.end, "answer", d.total
                try:
                    event = self._queue.get(timeout=max(0.0, limit - time.monotonic()))
                except queue.Empty:
                    raise Deadline(which, seconds) from None
                if event[0] == "piece":
                    last = time.monotonic()
                    yield event[1], event[2]
                elif event[0] == "end":
                    return
                else:
                    raise event[1]
        finally:
            self.close()

    def close(self) -> None:
        "Stop reading; cut the connection if the answer is still coming."
        self._cancel.set()
        with self._lock:
            response, self._response = self._response, None
        if response is not None:
            try:
                stream = response.extensions.get("network_stream")
                sock = stream.get_extra_info("socket") if stream is not None else None
                if sock is not None:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the worker's blocked read at once
            except (OSError, AttributeError):
                pass  # already closed

    # -- the worker ----------------------------------------------------------------------------

    def _run(self) -> None:
        import openai

        d = self._deadlines
        attempt = 0
        while not self._cancel.is_set():
            remaining = min(self.started + d.first_token, d.end) - time.monotonic()
            if remaining <= 0:
                return  # the caller has timed out already
            try:
                stream = self._request(openai.Timeout(remaining + 1.0, connect=min(d.connect, remaining)))
                with self._lock:
                    if self._cancel.is_set():
                        stream.close()
                        return
                    self._response = stream.response
                for chunk in stream:
                    self._read(chunk)
                    if self._cancel.is_set():
                        return
                with self._lock:
                    self._response = None
                self._queue.put(("end",))
                return
            except Exception as e:  # the transport's or the server's error, judged below
                with self._lock:
                    self._response = None
                if self._cancel.is_set():
                    return
                wait = None if self._got_token or attempt >= self._max_retries else retry_after(e, attempt)
                if wait is None or time.monotonic() + wait >= self.started + d.first_token:
                    self._queue.put(("error", e))
                    return
                attempt += 1
                self.retries = attempt
                if self._cancel.wait(wait):
                    return

    def _read(self, chunk) -> None:
        self.chunks += 1
        usage = getattr(chunk, "usage", None)
        if usage is not None and getattr(usage, "prompt_tokens", None):
            self.prompt_tokens = usage.prompt_tokens
        for choice in chunk.choices or ():  # usage-only chunks have none
            if choice.index:
                continue
            delta = choice.delta
            if delta is not None:
                # vLLM and llama.cpp put a reasoning model's thinking in reasoning_content (or
                # reasoning): progress, but never part of the answer.
                thinking = getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None)
                if isinstance(thinking, str) and thinking:
                    self._got_token = True
                    self._queue.put(("piece", "reasoning", thinking))
                if delta.content:
                    self._got_token = True
                    self._queue.put(("piece", "content", delta.content))
            self.finish_reason = choice.finish_reason or self.finish_reason


def retry_after(e: BaseException, attempt: int) -> float | None:
    "Seconds to wait before retrying after e, or None if e is not worth a retry."
    import openai

    if isinstance(e, openai.APIStatusError):
        headers = e.response.headers
        should = headers.get("x-should-retry")
        if should == "false" or is_quota(e):
            return None
        if should != "true" and e.status_code not in (408, 409, 429) and e.status_code < 500:
            return None
        for name, unit in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
            try:
                return max(0.0, float(headers[name]) * unit)
            except (KeyError, ValueError):
                continue
    elif not isinstance(e, openai.APIConnectionError):  # includes APITimeoutError
        return None
    return min(_BACKOFF_START * 2**attempt, _BACKOFF_MAX) * (1 - 0.25 * random.random())
