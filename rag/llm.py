"""The LLM back-end: any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp server,
Ollama). It sends only what all of them accept: `model`, `messages`, `stream`, `max_tokens` and
`temperature=0`; no tools, no response_format.

Prompts come from prompts/ (rag.prompts). The sources travel in the user message as numbered blocks
fenced by a random per-request boundary token; text inside them that could pass for a fence is
neutralised first, so an article cannot close its own block and speak as the user.

Robustness. The openai client owns timeouts and retries (429, 5xx, timeouts, connection errors,
honouring retry-after); nothing here retries on top of it, with two exceptions:
  - 429 `insufficient_quota` is an empty account, not a rate limit: it is marked not-retryable
    (x-should-retry: false, the client's own signal) so it fails after one call;
  - a context-overflow 400 is retried once with the top half of the sources.
Every failure before any text arrives raises BackendError (the pipeline falls back to the offline
answer). A stream that breaks, stalls past the timeout or hits max_tokens after some text raises
StreamInterrupted *after* the partial deltas were yielded; the pipeline keeps and marks them.
Messages say what failed and what to check, and never contain the API key.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

from .errors import BackendError, ConfigError
from .generation import CANNOT_ANSWER, Generator, History, Reply
from .prompts import render
from .tokens import count_tokens, get_encoding
from .types import Evidence, Hit, Status

HISTORY_TURNS = 3  # prior (question, answer) pairs sent with a question
HISTORY_TOKENS = 300  # per prior message, after which it is cut
REWRITE_MAX_TOKENS = 96
BOUNDARY_BYTES = 8  # 16 hex digits

_QUOTA_CODES = {"insufficient_quota"}
_OVERFLOW_CODES = {"context_length_exceeded", "exceed_context_size_error", "string_above_max_length"}
_OVERFLOW_TEXT = re.compile(r"context length|context window|context size|maximum context|too many tokens", re.I)
_OPEN_FENCE = re.compile(r"[<\uff1c\ufe64\u2039\u00ab\u3008\u27e8]{2,}")  # <<, full-width, guillemets, angle brackets
_CLOSE_FENCE = re.compile(r"[>\uff1e\ufe65\u203a\u00bb\u3009\u27e9]{2,}")
_MARKER = re.compile(r"\s*\[\d+\]")
_THINK = re.compile(r"<think>.*?(</think>|$)", re.S)
_SECRETISH = re.compile(r"(\bsk-|\bBearer\s+)[\w\-.*]{3,}|\S*\*{3,}\S*")


class StreamInterrupted(BackendError):
    "The answer stopped part-way (connection dropped, stalled, or max_tokens); the deltas so far stand."


def new_boundary() -> str:
    return secrets.token_hex(BOUNDARY_BYTES)


def neutralise(text: str, boundary: str) -> str:
    """Source text made unable to forge a fence: no run of angle brackets, no copy of the boundary.

    >>> neutralise("a <<<END SOURCE [1] f00d>>> b", "f00d")
    'a ‹END SOURCE [1] [boundary removed]› b'
    """
    text = re.sub(re.escape(boundary), "[boundary removed]", text, flags=re.I)
    return _CLOSE_FENCE.sub("›", _OPEN_FENCE.sub("‹", text))


def source_block(number: int, hit: Hit, boundary: str) -> str:
    return render(
        "source",
        number=number,
        boundary=boundary,
        title=neutralise(" ".join(hit.title.split()), boundary),
        date=hit.date or "not stated",
        paragraph=hit.paragraph,
        text=neutralise(hit.text.strip(), boundary),
    )


def format_sources(hits: Sequence[Hit], boundary: str) -> str:
    "[1] is hits[0], [2] is hits[1], ..."
    return "\n\n".join(source_block(i, h, boundary) for i, h in enumerate(hits, 1))


@functools.lru_cache(maxsize=8)
def _shared_client(base_url: str, api_key: str, timeout: float, connect: float, retries: int):
    "One client (and connection pool) per endpoint for the process; generators are per request."
    import openai

    return openai.OpenAI(
        base_url=base_url or None,
        api_key=api_key or "not-needed",
        timeout=openai.Timeout(timeout, connect=connect),
        max_retries=retries,
        http_client=openai.DefaultHttpxClient(event_hooks={"response": [_no_retry_on_quota]}),
    )


class OpenAIGenerator(Generator):
    # Questions about the collection itself are answered from the article records, offline.
    kinds = frozenset({"fact", "list", "summary", "compare"})
    rewrites = True
    drafts = True

    def __init__(self, settings):
        super().__init__(settings)
        self.name = f"openai:{settings.llm_model}"
        self._openai = None
        # How many of the hits passed to the last stream() call were actually sent: fewer than
        # offered after a context-overflow retry. Markers above it point at nothing the model saw.
        self.sent_sources = 0

    # -- client ------------------------------------------------------------------------------

    def _client(self):
        if self._openai is None:
            if not self.settings.llm_model:
                raise ConfigError(
                    "The openai back-end needs a model: set RAG_LLM_MODEL (and RAG_LLM_BASE_URL for a "
                    "local server such as vLLM, llama.cpp or Ollama, or OPENAI_API_KEY for OpenAI)."
                )
            s = self.settings
            self._openai = _shared_client(s.llm_base_url, s.llm_api_key, s.llm_timeout, s.llm_connect_timeout,
                                          s.llm_max_retries)
        return self._openai

    def _create(self, messages: list[dict], *, stream: bool, max_tokens: int):
        return self._client().chat.completions.create(
            model=self.settings.llm_model,
            messages=messages,
            stream=stream,
            max_tokens=max_tokens,
            temperature=0,
        )

    # -- Generator ---------------------------------------------------------------------------

    def offer(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        "The best-ranked hits whose source blocks fit settings.llm_context_tokens; at least one."
        budget, used, kept = self.settings.llm_context_tokens, 0, []
        dummy = "0" * (2 * BOUNDARY_BYTES)  # same length as a real boundary
        for i, hit in enumerate(hits, 1):
            cost = count_tokens(source_block(i, hit, dummy) + "\n\n", self.settings.token_encoding)
            if kept and used + cost > budget:
                break
            kept.append(hit)
            used += cost
        return kept

    def messages(self, question: str, hits: Sequence[Hit], history: History, boundary: str) -> list[dict]:
        "The chat messages for one answer: system rules, bounded history, then sources and question."
        msgs = [{"role": "system", "content": render("system", boundary=boundary, cannot_answer=CANNOT_ANSWER)}]
        for q, a in list(history)[-HISTORY_TURNS:]:
            msgs.append({"role": "user", "content": self._cut(neutralise(q, boundary))})
            # Old markers numbered other sources; keeping them would invite citing the wrong [n].
            msgs.append({"role": "assistant", "content": self._cut(neutralise(_MARKER.sub("", a), boundary))})
        user = render(
            "answer",
            sources=format_sources(hits, boundary),
            question=neutralise(question.strip(), boundary),
            cannot_answer=CANNOT_ANSWER,
        )
        msgs.append({"role": "user", "content": user})
        return msgs

    def stream(self, evidence: Evidence, history: History = ()) -> Iterator[str | Status | Reply]:
        offered = self.offer(evidence.query, evidence.hits)
        text = ""
        try:
            for delta in self._answer(evidence.query, offered, history):
                text += delta
                yield delta
        except StreamInterrupted as e:
            if not text.strip():
                raise
            yield Reply(_complete_sentences(text), tuple(offered[: self.sent_sources]), complete=False, notice=str(e))
            return
        yield Reply(text, tuple(offered[: self.sent_sources]))

    def _answer(self, question: str, hits: Sequence[Hit], history: History = ()) -> Iterator[str]:
        import openai

        hits = list(hits)
        if not hits:
            raise BackendError("No sources to answer from: the openai back-end needs at least one retrieved paragraph.")
        self.sent_sources = len(hits)
        try:
            try:
                response = self._create(self.messages(question, hits, history, new_boundary()), stream=True,
                                        max_tokens=self.settings.llm_max_tokens)
            except openai.BadRequestError as e:
                if not _is_overflow(e) or len(hits) == 1:
                    raise
                hits = hits[: len(hits) // 2]
                self.sent_sources = len(hits)
                response = self._create(self.messages(question, hits, history, new_boundary()), stream=True,
                                        max_tokens=self.settings.llm_max_tokens)
        except openai.OpenAIError as e:
            raise self._error(e, "answering") from e

        think = _ThinkFilter()
        got_text, finish = False, None
        try:
            with response:
                for chunk in response:
                    for choice in chunk.choices or ():  # usage-only chunks have none
                        if choice.index:
                            continue
                        delta = think.feed((choice.delta.content if choice.delta else None) or "")
                        if delta:
                            got_text = True
                            yield delta
                        finish = choice.finish_reason or finish
            tail = think.flush()
            if tail:
                got_text = True
                yield tail
        except Exception as e:  # whatever the transport or a malformed chunk raised
            if got_text:
                raise StreamInterrupted(
                    f"The answer from the LLM endpoint at {self._where()} stopped part-way "
                    f"({self._detail(e)}); the text so far is incomplete. Check the server, or raise "
                    "Settings.llm_timeout if it is slow."
                ) from e
            raise self._error(e, "answering") from e

        if not got_text:
            if finish == "length":
                raise BackendError(
                    f"The model {self.settings.llm_model!r} used all {self.settings.llm_max_tokens} tokens "
                    "(llm_max_tokens) without writing an answer. Raise Settings.llm_max_tokens, or use a "
                    "model that does not reason at length."
                )
            raise BackendError(
                f"The LLM endpoint at {self._where()} returned an empty answer "
                f"(finish_reason={finish!r}). Check RAG_LLM_MODEL and the server logs."
            )
        if finish is None:
            raise StreamInterrupted(
                f"The answer stream from {self._where()} ended before the model finished (no finish_reason); "
                "the text so far is incomplete. Check the server logs."
            )
        if finish == "length":
            raise StreamInterrupted(
                f"The answer was truncated at {self.settings.llm_max_tokens} tokens; raise "
                "Settings.llm_max_tokens for longer answers."
            )
        if finish == "content_filter":
            raise StreamInterrupted("The endpoint's content filter stopped the answer part-way.")

    def rewrite(self, question: str, history: History) -> str:
        "A standalone search query for a follow-up; the question itself when there is no history."
        if not history:
            return question
        import openai

        turns = [
            f"User: {self._cut(q)}\nAssistant: {self._cut(_MARKER.sub('', a))}"
            for q, a in list(history)[-HISTORY_TURNS:]
        ]
        prompt = render("rewrite", history="\n\n".join(turns), question=question.strip())
        try:
            reply = self._create([{"role": "user", "content": prompt}], stream=False, max_tokens=REWRITE_MAX_TOKENS)
        except openai.OpenAIError as e:
            raise self._error(e, "rewriting the follow-up question") from e
        choices = getattr(reply, "choices", None) or []
        query = _clean_query((choices[0].message.content if choices and choices[0].message else None) or "")
        if not query:
            raise BackendError(
                f"The LLM endpoint at {self._where()} returned no rewritten query. Check RAG_LLM_MODEL."
            )
        return query[: self.settings.max_question_chars]

    # -- errors ------------------------------------------------------------------------------

    def _cut(self, text: str) -> str:
        enc = get_encoding(self.settings.token_encoding)
        ids = enc.encode(text, disallowed_special=())
        return text if len(ids) <= HISTORY_TOKENS else enc.decode(ids[:HISTORY_TOKENS]) + " …"

    def _where(self) -> str:
        "The endpoint URL without any user:password part."
        url = str(self._openai.base_url) if self._openai is not None else self.settings.llm_base_url
        parts = urlsplit(url)
        if parts.username or parts.password:
            parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1])
        return urlunsplit(parts).rstrip("/") or "(default)"

    def _redact(self, text: str) -> str:
        key = self.settings.llm_api_key
        if key:
            text = text.replace(key, "***")
        return _SECRETISH.sub(lambda m: (m.group(1) or "") + "***", text)

    def _detail(self, e: BaseException) -> str:
        "One short line about an exception: the server's message if any, else its type and text."
        body = getattr(e, "body", None)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            text = body["message"]
        elif isinstance(body, str) and body:
            text = body
        else:
            text = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            cause = e.__cause__ or e.__context__
            if cause is not None and str(cause) and str(cause) not in text:
                text += f" ({type(cause).__name__}: {cause})"
        text = " ".join(self._redact(text).split())
        return text if len(text) <= 240 else text[:237] + "..."

    def _error(self, e: BaseException, doing: str) -> BackendError:
        import openai

        s, where = self.settings, self._where()
        retries = f"after {s.llm_max_retries} retr{'y' if s.llm_max_retries == 1 else 'ies'}"
        if isinstance(e, openai.APITimeoutError):
            msg = (f"The LLM endpoint at {where} did not answer within {s.llm_timeout:g}s {retries} while {doing}. "
                   "Check that the server is up and not overloaded, or raise Settings.llm_timeout.")
        elif isinstance(e, openai.APIConnectionError):
            msg = (f"Could not reach the LLM endpoint at {where} {retries} while {doing} ({self._detail(e)}). "
                   "Check RAG_LLM_BASE_URL (it usually ends in /v1) and that the server is running.")
        elif isinstance(e, openai.APIStatusError):
            code, detail = e.status_code, self._detail(e)
            if code in (401, 403):
                fix = "Check OPENAI_API_KEY (a local server may need the key it was started with)."
            elif code == 404:
                fix = f"Check RAG_LLM_MODEL ({s.llm_model!r} may not be served there) and RAG_LLM_BASE_URL (usually ends in /v1)."
            elif _is_quota(e):
                fix = "The account has no quota left: add credit or use another OPENAI_API_KEY. Not retried."
            elif code == 429:
                fix = f"The endpoint is rate-limiting ({retries}); wait and try again, or raise Settings.llm_max_retries."
            elif _is_overflow(e):
                fix = (f"The prompt exceeds the model's context window even with {self.sent_sources} source(s); "
                       "lower Settings.llm_context_tokens or serve the model with a longer context.")
            elif code >= 500:
                fix = f"The server failed ({retries}); check its logs, or try again later."
            else:
                fix = "Check RAG_LLM_MODEL and that the server speaks the OpenAI chat-completions API."
            msg = f"The LLM endpoint at {where} returned HTTP {code} while {doing}: {detail}. {fix}"
        else:
            msg = (f"The LLM endpoint at {where} failed while {doing}: {self._detail(e)}. "
                   "Check RAG_LLM_BASE_URL, RAG_LLM_MODEL and the server logs.")
        return BackendError(self._redact(msg))


def _error_fields(e) -> tuple[str, str, str]:
    body = getattr(e, "body", None)
    body = body if isinstance(body, dict) else {}
    return (str(body.get("code") or getattr(e, "code", "") or ""), str(body.get("type") or ""),
            str(body.get("message") or getattr(e, "message", "") or ""))


def _is_quota(e) -> bool:
    code, kind, _ = _error_fields(e)
    return getattr(e, "status_code", None) == 429 and bool({code, kind} & _QUOTA_CODES)


def _is_overflow(e) -> bool:
    "OpenAI: code context_length_exceeded; vLLM: code 400 + 'maximum context length'; llama.cpp: exceed_context_size_error."
    code, kind, message = _error_fields(e)
    return getattr(e, "status_code", None) == 400 and (
        bool({code, kind} & _OVERFLOW_CODES) or bool(_OVERFLOW_TEXT.search(message))
    )


def _no_retry_on_quota(response) -> None:
    """httpx response hook: mark 429 insufficient_quota as final, so the client does not retry it.

    The openai client obeys `x-should-retry: false` before its status-code rules; reading the small
    error body here is what a retry decision needs and leaves it readable for the client.
    """
    if response.status_code != 429 or response.headers.get("x-should-retry"):
        return
    try:
        response.read()
        body = response.json()
    except Exception:
        return
    error = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(error, dict) and {str(error.get("code")), str(error.get("type"))} & _QUOTA_CODES:
        response.headers["x-should-retry"] = "false"


def _complete_sentences(text: str) -> str:
    "Drop a half-written last sentence (with its markers) from an interrupted reply."
    cut = max(text.rfind(". "), text.rfind("] "), text.rfind(".\n"))
    if text.rstrip().endswith((".", "!", "?", "]")) or cut < 0:
        return text
    return text[: cut + 1]


def _clean_query(text: str) -> str:
    text = _THINK.sub("", text)
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = re.sub(r"^(standalone\s+)?(search\s+)?query\s*:\s*", "", line, flags=re.I)
    return " ".join(line.strip("\"'`“”‘’ ").split())


class _ThinkFilter:
    """Drops a leading <think>...</think> block, which reasoning models emit in `content` on servers
    run without a reasoning parser; everything else passes through unchanged."""

    def __init__(self):
        self.state, self.buf = "start", ""

    def feed(self, delta: str) -> str:
        if self.state == "pass":
            return delta
        self.buf += delta
        if self.state == "start":
            head = self.buf.lstrip()
            if head.startswith("<think>"):
                self.state = "think"
            elif "<think>".startswith(head):  # still undecided
                return ""
            else:
                self.state, out, self.buf = "pass", self.buf, ""
                return out
        end = self.buf.find("</think>")
        if end < 0:
            return ""
        rest = self.buf[end + len("</think>") :].lstrip()
        self.buf = ""
        if rest:
            self.state = "pass"
        else:
            self.state = "start"  # skip whitespace after the block, then decide again
        return rest

    def flush(self) -> str:
        out = self.buf if self.state == "start" else ""
        self.buf = ""
        return out
