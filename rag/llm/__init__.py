"""The LLM back-end: any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp's
server, llama-cpp-python, Ollama), as these servers really behave.

    prompt.py    the messages: fixed rules first (prompt caches), rules repeated in the user message
                 (chat templates that drop the system role), sources fenced by a random boundary
    budget.py    the whole prompt fitted to the model's context window, with a tokenizer margin
    endpoint.py  one client per endpoint, its context window (asked once), a FIFO concurrency gate
    stream.py    one streamed request under first-token, token-gap and whole-answer deadlines,
                 with retries counted as they happen
    reasoning.py reasoning models: which they are; their thinking kept out of the draft
    quality.py   is the reply fit to show? (echoes, fences, loops, no supported sentence)
    errors.py    what a server's error means, told with what to check

It sends what all of these servers accept: model, messages, stream, max_tokens, temperature=0,
stop sequences (not to reasoning models, whose APIs refuse them) and stream_options for usage.
OpenAI's o-series and gpt-5 get max_completion_tokens and no temperature, as their API demands;
any other server that refuses one of these parameters with a 400 is asked again without it (and
without it from then on: rag.llm.endpoint.Endpoint.adapt). No tools, no response_format.

Failure modes, as the pipeline sees them (`stream` yields text deltas, Status items, then a Reply):
  - BackendError before any text: the pipeline shows the offline answer with the reason;
  - a stream stopped after some text (dropped connection, deadline): its complete sentences, as a
    Reply with complete=False, stand if `unusable` accepts them;
  - a finished reply that `unusable` rejects (echo, fences, loop, nothing supported, ran to
    max_tokens, prompt cut by the server): the offline answer, with the reason.
A context overflow - an HTTP 400, an error inside the stream, or llama-cpp-python's empty 200
stream - is retried with fewer sources, at most twice. Messages say what failed and what to
check, and never contain the API key.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterator, Sequence

from ..citations import is_cannot_answer, strip_reasoning
from ..errors import BackendError, ConfigError
from ..generation import Generator, History, Reply
from ..prompts import render
from ..tokens import count_tokens, get_encoding
from ..types import Evidence, Hit, Status
from . import budget, endpoint, errors, prompt, quality
from .prompt import HISTORY_TOKENS, HISTORY_TURNS, neutralise, new_boundary
from .reasoning import ThinkFilter, is_reasoning_model
from .stream import Deadline, Deadlines, Exchange

__all__ = ["HISTORY_TURNS", "REWRITE_MAX_TOKENS", "OpenAIGenerator", "StreamInterrupted", "neutralise"]

log = logging.getLogger("rag.llm")

REWRITE_MAX_TOKENS = 96
OVERFLOW_RETRIES = 2
STATUS_EVERY = 2.0  # seconds between queue status updates
# What a small or base model writes when it starts copying the prompt instead of answering. At most
# four: OpenAI's limit.
STOP = ["<<<", "\nQuestion:", "\nSources:", "\nArticle:"]


class StreamInterrupted(BackendError):
    "The answer stopped part-way (connection dropped or a deadline passed); the deltas so far stand."


class _Overflow(Exception):
    "The prompt did not fit the model's context (carries the server's error, if it said one)."

    def __init__(self, cause: BaseException | None):
        super().__init__(str(cause) if cause else "empty stream")
        self.cause = cause


class OpenAIGenerator(Generator):
    # Questions about the collection itself are answered from the article records, offline.
    kinds = frozenset({"fact", "list", "summary", "compare"})
    rewrites = True
    drafts = True

    def __init__(self, settings):
        super().__init__(settings)
        self.name = f"openai:{settings.llm_model}"
        # About the last stream() call, for the pipeline: how many of the offered hits were sent
        # (fewer after an overflow; markers above it point at nothing the model saw), the boundary
        # used, and why a finished reply is unusable although it arrived whole.
        self.sent_sources = 0
        self.boundary = ""
        self._flaw: str | None = None

    # -- Generator ---------------------------------------------------------------------------

    @property
    def reasoning(self) -> bool:
        return is_reasoning_model(self.settings)

    @property
    def max_tokens(self) -> int:
        s = self.settings
        return s.llm_reasoning_max_tokens if self.reasoning else s.llm_max_tokens

    def offer(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        """The best-ranked hits whose source blocks fit Settings.llm_context_tokens (at least one).
        stream() may send fewer, once it knows the model's context window."""
        costs = self._source_costs(hits)
        kept, used = [], 0
        for hit, cost in zip(hits, costs, strict=True):
            if kept and used + cost > self.settings.llm_context_tokens:
                break
            kept.append(hit)
            used += cost
        return kept

    def stream(self, evidence: Evidence, history: History = ()) -> Iterator[str | Status | Reply]:
        """The answer to the evidence's (standalone) query from its best hits: text deltas (an unchecked
        draft), Status items while waiting, then the Reply. A stream that stops part-way after some
        text gives its complete sentences as an incomplete Reply; other failures raise BackendError."""
        offered = self.offer(evidence.query, evidence.hits)
        text = ""
        try:
            for item in self.generate(evidence.query, offered, history):
                if isinstance(item, str):
                    text += item
                yield item
        except StreamInterrupted as e:
            if not text.strip():
                raise
            yield Reply(_complete_sentences(text), tuple(offered[: self.sent_sources]), complete=False, notice=str(e))
            return
        yield Reply(text, tuple(offered[: self.sent_sources]))

    def generate(self, question: str, hits: Sequence[Hit], history: History = ()) -> Iterator[str | Status]:
        "Text deltas of the answer to question from hits ([1] is hits[0]); Status items while it waits."
        hits = list(hits)
        if not hits:
            raise BackendError("No sources to answer from: the openai back-end needs at least one retrieved paragraph.")
        self._client()  # a missing model is a ConfigError before anything else
        self.sent_sources, self._flaw = len(hits), None
        gate, ticket, granted = self._gate(), None, False
        try:
            ticket = gate.join()
            granted = yield from self._wait_turn(gate, ticket)
            yield from self._fit_and_send(question, hits, list(history)[-HISTORY_TURNS:])
        finally:
            if ticket is not None:
                gate.leave(ticket, granted)

    def unusable(self, reply: Reply) -> str | None:
        """Why the reply cannot be shown (see rag.llm.quality), or None. The cannot-answer phrase
        itself is usable: the pipeline turns it into an abstention."""
        if is_cannot_answer(reply.text):
            return None
        return self._flaw or quality.unusable(reply.text, reply.sources, boundary=self.boundary)

    def rewrite(self, question: str, history: History) -> str:
        """A standalone search query for a follow-up; the question itself when there is no history.
        BackendError when the model's rewrite is unusable (the pipeline's offline rewrite stands)."""
        if not history:
            return question
        self._client()
        gate, ticket, granted = self._gate(), None, False
        try:
            ticket = gate.join()
            for _status in self._wait_turn(gate, ticket):
                pass  # the pipeline has no way to show a status here; the wait is still bounded
            granted = True
            reply = "".join(self._collect(self.rewrite_messages(question, history), REWRITE_MAX_TOKENS,
                                          "rewriting the follow-up question"))
        finally:
            if ticket is not None:
                gate.leave(ticket, granted)
        query = _first_line(strip_reasoning(reply))
        why = quality.bad_rewrite(query, question, " ".join(q + " " + a for q, a in history))
        if why:
            raise BackendError(f"The model's rewrite of the follow-up question was not used: {why}.")
        return query[: self.settings.max_question_chars]

    def rewrite_messages(self, question: str, history: History) -> list[dict]:
        "The one user message that asks for a standalone query (the rules and the conversation in it)."
        turns = [f"User: {self._cut(q)}\nAssistant: {self._cut(prompt.strip_markers(a))}"
                 for q, a in list(history)[-HISTORY_TURNS:]]
        return [{"role": "user", "content": render("rewrite", history="\n\n".join(turns), question=question.strip())}]

    # -- one answer ----------------------------------------------------------------------------

    def _wait_turn(self, gate, ticket) -> Iterator[Status]:
        "Wait for a free slot at the endpoint, saying how many requests are ahead. Returns True."
        s, until, shown = self.settings, time.monotonic() + self.settings.llm_queue_timeout, None
        while not gate.wait(ticket, 0 if shown is None else min(STATUS_EVERY, max(0.0, until - time.monotonic()))):
            if time.monotonic() >= until:
                raise BackendError(
                    f"The LLM endpoint at {self._where()} stayed busy with other questions for "
                    f"{s.llm_queue_timeout:g}s (Settings.llm_queue_timeout). Try again, or raise "
                    "Settings.llm_concurrency if the server runs several requests at once.")
            ahead = gate.ahead(ticket)
            if ahead != shown:
                shown = ahead
                yield Status(f"Waiting for the language model: {ahead} question{'s' if ahead != 1 else ''} "
                             "ahead of this one.")
        return True

    def _fit_and_send(self, question: str, hits: list[Hit], history: list) -> Iterator[str | Status]:
        s = self.settings
        state = self._endpoint()
        window, window_from = state.window(s)
        deadlines = Deadlines(s.llm_first_token_timeout, s.llm_token_gap_timeout,
                              time.monotonic() + s.llm_answer_timeout, s.llm_answer_timeout, s.llm_connect_timeout)
        limit = len(hits)
        for tries in range(OVERFLOW_RETRIES + 1):
            plan = self._plan(question, hits[:limit], history, window)
            boundary = new_boundary()
            messages = self._messages(question, hits[: plan.sources], history[len(history) - plan.history_turns :],
                                      boundary, plan.cut_tokens)
            self.sent_sources, self.boundary = plan.sources, boundary
            try:
                yield from self._relay(messages, deadlines)
                return
            except _Overflow as e:
                # The prompt we thought fits did not: send fewer sources. If the error names the real
                # window, remember it and plan for it; if that plan is no smaller, halve.
                named = endpoint.window_in(self._detail(e.cause)) if e.cause else None
                limit = plan.sources // 2
                if named and named < window:
                    state.lower_window(named, f"the server's error: {self._detail(e.cause)}")
                    window, window_from = state.window(s)
                    with contextlib.suppress(BackendError):  # no room at all: the error below says so
                        replanned = self._plan(question, hits[: plan.sources], history, window).sources
                        limit = replanned if replanned < plan.sources else limit
                if tries == OVERFLOW_RETRIES or limit < 1:
                    what = self._detail(e.cause) if e.cause else "the server sent an empty response"
                    raise BackendError(
                        f"The prompt does not fit the model's context window at {self._where()} even with "
                        f"{plan.sources} source(s) ({what}; window {window} tokens from {window_from}). Set "
                        "Settings.llm_context_window to the server's real context size, or serve the model with a "
                        "larger one (llama.cpp --n_ctx, Ollama num_ctx, vLLM --max-model-len).") from e.cause
                log.info("context overflow with %d source(s); retrying with %d", plan.sources, limit)

    def _relay(self, messages: list[dict], deadlines: Deadlines) -> Iterator[str | Status]:
        "Stream one request's answer text; raise _Overflow, BackendError or StreamInterrupted."
        import openai

        exchange = Exchange(lambda timeout: self._create(messages, self.max_tokens, timeout, True),
                            deadlines, self.settings.llm_max_retries)
        think = ThinkFilter(hold=self.reasoning)
        said_thinking, sent = False, ""
        try:
            for kind, piece in exchange:
                if kind == "reasoning":
                    think.separated = True
                    piece = ""
                out = think.feed(piece)
                if think.thinking and not said_thinking:
                    said_thinking = True
                    yield Status("The model is reasoning before it answers.")
                if out:
                    sent += out
                    yield out
                    # A reply that has started copying the prompt will not recover: stop reading
                    # (the server stops generating) and let the pipeline use the offline answer.
                    self._flaw = quality.degenerate(sent, self.boundary)
                    if self._flaw:
                        exchange.close()
                        return
            tail = think.flush()
            if tail:
                sent += tail
                yield tail
        except Deadline as e:
            if sent:
                raise StreamInterrupted(f"The answer from {self._where()} stopped part-way: {self._deadline(e)}.") from e
            raise BackendError(f"The LLM endpoint at {self._where()} {self._deadline(e)}"
                               f"{errors.retried(exchange.retries)}.") from e
        except openai.OpenAIError as e:
            if sent:
                raise StreamInterrupted(
                    f"The answer from the LLM endpoint at {self._where()} stopped part-way ({self._detail(e)}); the "
                    "text so far is incomplete. Check the server logs.") from e
            if errors.is_overflow(e):
                raise _Overflow(e) from e
            if self._adapted(e):  # a parameter this server or model refuses: ask again without it
                yield from self._relay(messages, deadlines)
                return
            raise self._error(e, "answering", exchange.retries) from e
        if not sent:
            if exchange.chunks == 0 and exchange.finish_reason is None:
                # llama-cpp-python answers 200 and closes the stream without a byte when the prompt
                # exceeds its context (the error is only in its log): treat as an overflow.
                raise _Overflow(None)
            if exchange.finish_reason == "length":
                raise BackendError(
                    f"The model {self.settings.llm_model!r} used all {self.max_tokens} tokens without writing an "
                    "answer. Raise Settings.llm_reasoning_max_tokens (reasoning models) or llm_max_tokens.")
            raise BackendError(
                f"The LLM endpoint at {self._where()} returned an empty answer "
                f"(finish_reason={exchange.finish_reason!r}). Check RAG_LLM_MODEL and the server logs.")
        if exchange.finish_reason is None:
            raise StreamInterrupted(
                f"The answer stream from {self._where()} ended before the model finished (no finish_reason); "
                "the text so far is incomplete. Check the server logs.")
        if exchange.finish_reason == "content_filter":
            raise StreamInterrupted("The endpoint's content filter stopped the answer part-way.")
        if exchange.finish_reason == "length":
            # The answer asked for is 1-4 sentences; a reply that needs more than max_tokens is
            # rambling or looping (base models never stop by themselves), not an answer cut short.
            self._flaw = f"it ran on to the {self.max_tokens}-token limit without finishing"
        self._check_prompt(exchange.prompt_tokens, messages)

    def _collect(self, messages: list[dict], max_tokens: int, doing: str) -> Iterator[str]:
        "A short non-answer request (the rewrite), under the same deadlines and retries."
        import openai

        s = self.settings
        deadlines = Deadlines(s.llm_first_token_timeout, s.llm_token_gap_timeout,
                              time.monotonic() + s.llm_answer_timeout, s.llm_answer_timeout, s.llm_connect_timeout)
        budget_ = max_tokens + (s.llm_reasoning_max_tokens if self.reasoning else 0)
        exchange = Exchange(lambda timeout: self._create(messages, budget_, timeout, False), deadlines, s.llm_max_retries)
        try:
            for kind, piece in exchange:
                if kind == "content":
                    yield piece
        except Deadline as e:
            raise BackendError(f"The LLM endpoint at {self._where()} {self._deadline(e)} while {doing}.") from e
        except openai.OpenAIError as e:
            if self._adapted(e):
                yield from self._collect(messages, max_tokens, doing)
                return
            raise self._error(e, doing, exchange.retries) from e

    def _check_prompt(self, prompt_tokens: int | None, messages: list[dict]) -> None:
        """Compare the server's prompt count with ours.

        Fewer tokens than even the per-request part of the user message means the server cut the
        prompt (Ollama truncates silently): the model did not see all the sources, so the reply is
        not used and the window is lowered. The fixed prefix is left out of that comparison because
        some Ollama versions count only the tokens not served from their prompt cache; our prompts
        share no more than the system message and the user message's fixed rules. Fewer than the
        whole but not that few means the chat template dropped the system message: harmless, as the
        user message repeats the rules, but worth one log line."""
        if not prompt_tokens:  # not reported (0: Ollama's answer for a fully cached prompt)
            return
        s, state = self.settings, self._endpoint()
        counts = [count_tokens(m["content"], s.token_encoding) for m in messages]
        system = sum(c for m, c in zip(messages, counts, strict=True) if m["role"] == "system")
        rest = sum(counts) - system
        cacheable = count_tokens(prompt.user_message("", "", "0" * (2 * prompt.BOUNDARY_BYTES)), s.token_encoding)
        low = 1 - s.llm_token_margin
        if prompt_tokens < (rest - cacheable) * low:
            state.lower_window(prompt_tokens, f"the server kept only {prompt_tokens} prompt tokens")
            self._flaw = f"the server cut the prompt to {prompt_tokens} tokens, so the model did not see all the sources"
        elif prompt_tokens < (rest + system) * low and not state.warned_system_dropped:
            state.warned_system_dropped = True
            log.warning("The chat template at %s seems to drop the system message (%d prompt tokens for about %d "
                        "sent); the rules also travel in the user message.", self._where(), prompt_tokens, rest + system)

    # -- prompt --------------------------------------------------------------------------------

    def _source_costs(self, hits: Sequence[Hit]) -> list[int]:
        dummy = "0" * (2 * prompt.BOUNDARY_BYTES)  # same length as a real boundary
        enc = self.settings.token_encoding
        return [count_tokens(prompt.source_block(i, h, dummy) + "\n\n", enc) for i, h in enumerate(hits, 1)]

    def _plan(self, question: str, hits: list[Hit], history: list, window: int) -> budget.Plan:
        s, dummy = self.settings, "0" * (2 * prompt.BOUNDARY_BYTES)
        fixed = (count_tokens(prompt.system_message(), s.token_encoding)
                 + count_tokens(prompt.user_message(question, "", dummy), s.token_encoding))
        turns = [sum(count_tokens(m["content"], s.token_encoding) for m in prompt.history_messages([t], dummy, self._cut))
                 for t in history]
        return budget.fit(window=window, max_tokens=self.max_tokens, margin=s.llm_token_margin,
                          source_cap=s.llm_context_tokens, fixed=fixed, sources=self._source_costs(hits), turns=turns)

    def _messages(self, question: str, hits: list[Hit], history: list, boundary: str, cut: int | None) -> list[dict]:
        "System rules, bounded history, then the user message with rules, sources and question."
        last = None
        if cut is not None:  # the one source, cut to the tokens left for it
            enc = get_encoding(self.settings.token_encoding)
            header = len(enc.encode(prompt.source_block(1, hits[0], boundary, ""), disallowed_special=()))
            last = enc.decode(enc.encode(hits[0].text, disallowed_special=())[: max(0, cut - header)]) + " …"
        return [{"role": "system", "content": prompt.system_message()},
                *prompt.history_messages(history, boundary, self._cut),
                {"role": "user", "content": prompt.user_message(question, prompt.format_sources(hits, boundary, last),
                                                                boundary)}]

    def _cut(self, text: str) -> str:
        enc = get_encoding(self.settings.token_encoding)
        ids = enc.encode(text, disallowed_special=())
        return text if len(ids) <= HISTORY_TOKENS else enc.decode(ids[:HISTORY_TOKENS]) + " …"

    # -- endpoint ------------------------------------------------------------------------------

    def _client(self):
        s = self.settings
        if not s.llm_model:
            raise ConfigError(
                "The openai back-end needs a model: set RAG_LLM_MODEL (and RAG_LLM_BASE_URL for a "
                "local server such as vLLM, llama.cpp or Ollama, or OPENAI_API_KEY for OpenAI)."
            )
        return endpoint.client(s.llm_base_url, s.llm_api_key, s.llm_connect_timeout)

    def _endpoint(self) -> endpoint.Endpoint:
        return endpoint.endpoint(self.settings.llm_base_url, self.settings.llm_model)

    def _gate(self) -> endpoint.Gate:
        s = self.settings
        return endpoint.gate(s.llm_base_url, endpoint.concurrency(s.llm_base_url, s.llm_concurrency))

    def _create(self, messages: list[dict], max_tokens: int, timeout, usage: bool):
        state = self._endpoint()
        extra = {state.token_limit: max_tokens}
        if state.temperature:
            extra["temperature"] = 0
        if not self.reasoning:
            extra["stop"] = STOP
        if usage and state.usage_in_stream:
            extra["stream_options"] = {"include_usage": True}
        return self._client().chat.completions.create(
            model=self.settings.llm_model, messages=messages, stream=True, timeout=timeout, **extra)

    def _adapted(self, e: BaseException) -> bool:
        "A 400 that refused a request parameter, now learned for this endpoint and model (see Endpoint.adapt)."
        import openai

        return isinstance(e, openai.BadRequestError) and self._endpoint().adapt(
            str(getattr(e, "param", "") or ""), self._detail(e))

    # -- messages ------------------------------------------------------------------------------

    def _where(self) -> str:
        return endpoint.where(self.settings.llm_base_url)

    def _detail(self, e: BaseException | None) -> str:
        return errors.detail(e, self.settings.llm_api_key)

    def _deadline(self, e: Deadline) -> str:
        return errors.deadline(e)

    def _error(self, e: BaseException, doing: str, retries: int) -> BackendError:
        return errors.describe(e, self.settings, doing, retries)

def _first_line(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = re.sub(r"^(standalone\s+)?(search\s+)?query\s*:\s*", "", line, flags=re.I)
    return " ".join(line.strip("\"'`“”‘’ ").split())


def _complete_sentences(text: str) -> str:
    "Drop a half-written last sentence (with its markers) from an interrupted reply."
    cut = max(text.rfind(". "), text.rfind("] "), text.rfind(".\n"))
    if text.rstrip().endswith((".", "!", "?", "]")) or cut < 0:
        return text
    return text[: cut + 1]
