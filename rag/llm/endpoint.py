"""What the process knows about one OpenAI-compatible endpoint: its client (one connection pool),
its context window, and the gate that limits simultaneous requests to it.

Context window. Asked once, where the server says it: llama.cpp's own server at GET /props
(`default_generation_settings.n_ctx`), vLLM in GET /v1/models (`max_model_len`), Ollama at POST
/api/show (`num_ctx` in the model's parameters, else its default, capped by the model's
`context_length`). `Settings.llm_context_window` overrides the question; when nobody says,
DEFAULT_WINDOW. An overflow error that names the real window lowers it for the rest of the process.

Concurrency. llama-cpp-python and Ollama (by default) serve one request at a time, and
llama-cpp-python ends a running stream when the next request arrives. So requests to an endpoint go
through a FIFO gate: `Settings.llm_concurrency` at once (default: 1 for an endpoint on this machine
or the local network, 4 for a hosted API), the rest wait their turn and can say how many are ahead.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
import threading
from collections import deque
from urllib.parse import urlsplit

log = logging.getLogger("rag.llm")

DEFAULT_WINDOW = 4096  # Ollama's default num_ctx, and a safe floor for current chat models
HOSTED_CONCURRENCY = 4
DISCOVERY_TIMEOUT = 5.0
_WINDOW_IN_TEXT = re.compile(
    r"(?:context (?:window|length|size)|max(?:imum)? context(?: length)?|n_ctx)\D{0,12}?(\d{3,7})", re.I)


@functools.lru_cache(maxsize=8)
def client(base_url: str, api_key: str, connect: float):
    """One client (and connection pool) per endpoint for the process. It never retries by itself:
    rag.llm.stream retries within the answer's deadlines and counts the retries it makes."""
    import openai

    return openai.OpenAI(base_url=base_url or None, api_key=api_key or "not-needed", max_retries=0,
                         timeout=openai.Timeout(DISCOVERY_TIMEOUT, connect=connect))


def where(base_url: str) -> str:
    "The endpoint URL without any user:password part."
    parts = urlsplit(base_url or "https://api.openai.com/v1")
    if parts.username or parts.password:
        parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1])
    return parts.geturl().rstrip("/")


def is_local(base_url: str) -> bool:
    """An endpoint on this machine or the local network: loopback or private addresses, localhost,
    single-label host names (a container's service name) and .local/.lan/.internal names. Such
    servers (llama.cpp, Ollama, a workstation's vLLM) usually have one slot, unlike hosted APIs."""
    host = (urlsplit(base_url).hostname or "") if base_url else ""
    if not host:
        return False  # the default endpoint: OpenAI
    try:
        ip = ipaddress.ip_address(host)
        return ip.is_loopback or ip.is_private or ip.is_link_local
    except ValueError:
        return host == "localhost" or "." not in host or host.endswith((".local", ".lan", ".internal", ".localhost"))


def concurrency(base_url: str, setting: int) -> int:
    return setting if setting > 0 else (1 if is_local(base_url) else HOSTED_CONCURRENCY)


# -- context window ------------------------------------------------------------------------------


# OpenAI's reasoning models (o1, o3, o4-mini, gpt-5 and their dated or sized variants) refuse
# `max_tokens` ("use 'max_completion_tokens' instead") and any temperature but the default.
_OPENAI_REASONING = re.compile(r"^(openai/)?(o\d+|gpt-5)([-.:_].*)?$", re.I)
# How servers word the refusal of a parameter (OpenAI, vLLM/pydantic "extra inputs", proxies).
_REFUSED = re.compile(r"unsupported|not supported|does not support|unknown|unrecogni[sz]ed|not permitted|"
                      r"not allowed|only the default")


class Endpoint:
    """What has been learned about one (endpoint, model) in this process: its context window
    (discovered once, lowered by overflow errors), the request parameters it takes (stream_options,
    max_tokens or max_completion_tokens, temperature: known from the model's name where a family is
    known to differ, else learned from the server's 400), and whether the warning about a chat
    template that drops the system message was given."""

    def __init__(self, model: str = ""):
        self._lock = threading.Lock()
        self._discovered: tuple[int, str] | None = None
        self._learned: tuple[int, str] | None = None
        self.usage_in_stream = True  # ask for usage with stream_options, until the server refuses it
        openai_reasoning = bool(_OPENAI_REASONING.match(model))
        # The answer-length cap's name: every server takes max_tokens; OpenAI's reasoning models
        # only max_completion_tokens (which older llama.cpp and Ollama servers ignore).
        self.token_limit = "max_completion_tokens" if openai_reasoning else "max_tokens"
        self.temperature = not openai_reasoning  # send temperature=0 (deterministic answers) where allowed
        self.warned_system_dropped = False

    def adapt(self, param: str, message: str) -> bool:
        """Learn from a 400 that refused a request parameter; True when the request should be sent
        again without it (each parameter is given up at most once, so this cannot loop).

        >>> e = Endpoint("proxy-model")
        >>> e.adapt("max_tokens", "Unsupported parameter: 'max_tokens' is not supported with this model. "
        ...         "Use 'max_completion_tokens' instead."), e.token_limit
        (True, 'max_completion_tokens')
        >>> e.adapt("temperature", "Unsupported value: 'temperature' does not support 0 with this model."), e.temperature
        (True, False)
        >>> e.adapt("temperature", "Unsupported value: 'temperature'"), e.adapt("", "temperature must be a number")
        (False, False)
        """
        said = f"{param} {message}".lower()
        if not _REFUSED.search(said):
            return False  # a 400 about a value we chose on purpose, or about something else
        with self._lock:
            if self.usage_in_stream and "stream_options" in said:
                self.usage_in_stream = False
            elif self.token_limit == "max_tokens" and "max_completion_tokens" in said and "max_tokens" in said:
                self.token_limit = "max_completion_tokens"
            elif self.temperature and "temperature" in said:
                self.temperature = False
            else:
                return False
        log.info("The endpoint refused a request parameter (%s); sending without it from now on", message)
        return True

    def window(self, settings) -> tuple[int, str]:
        "(tokens, where that number came from)."
        with self._lock:
            if settings.llm_context_window > 0:
                base = (settings.llm_context_window, "Settings.llm_context_window")
            else:
                if self._discovered is None:
                    self._discovered = discover(settings.llm_base_url, settings.llm_model, settings.llm_api_key,
                                                settings.llm_connect_timeout) or (
                        DEFAULT_WINDOW, f"the default, as {where(settings.llm_base_url)} does not report it")
                    log.info("LLM context window: %d tokens, from %s", *self._discovered)
                base = self._discovered
            return min(base, self._learned) if self._learned else base

    def lower_window(self, tokens: int, source: str) -> None:
        with self._lock:
            if self._learned is None or tokens < self._learned[0]:
                self._learned = (tokens, source)
                log.info("LLM context window lowered to %d tokens (%s)", tokens, source)


@functools.lru_cache(maxsize=32)
def endpoint(base_url: str, model: str) -> Endpoint:
    return Endpoint(model)


def window_in(message: str) -> int | None:
    """The context size an overflow message names, if any.

    >>> window_in("Requested tokens (2496) exceed context window of 2048")
    2048
    >>> window_in("This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.")
    8192
    """
    m = _WINDOW_IN_TEXT.search(message or "")
    return int(m.group(1)) if m else None


def discover(base_url: str, model: str, api_key: str, connect: float) -> tuple[int, str] | None:
    "(window, where it came from), asking llama.cpp, vLLM and Ollama in turn; None if nobody says."
    import openai

    base = (base_url or "https://api.openai.com/v1").rstrip("/")
    root = re.sub(r"/v1$", "", base)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with openai.DefaultHttpxClient(timeout=openai.Timeout(DISCOVERY_TIMEOUT, connect=connect), headers=headers) as http:
        for ask in (_llama_cpp, _vllm, _ollama):
            try:
                found = ask(http, base, root, model)
            except Exception as e:  # not this kind of server, or it is down: the next one, or the default
                log.debug("context discovery %s: %s", ask.__name__, e)
                continue
            if found:
                return found
    return None


def _llama_cpp(http, base: str, root: str, model: str) -> tuple[int, str] | None:
    r = http.get(f"{root}/props")
    if r.status_code != 200:
        return None
    props = r.json()
    n = (props.get("default_generation_settings") or {}).get("n_ctx") or props.get("n_ctx")
    return (int(n), f"{root}/props (llama.cpp)") if n else None


def _vllm(http, base: str, root: str, model: str) -> tuple[int, str] | None:
    r = http.get(f"{base}/models")
    if r.status_code != 200:
        return None
    for entry in r.json().get("data") or []:
        if entry.get("id") == model and entry.get("max_model_len"):
            return int(entry["max_model_len"]), f"{base}/models max_model_len (vLLM)"
    return None


def _ollama(http, base: str, root: str, model: str) -> tuple[int, str] | None:
    r = http.post(f"{root}/api/show", json={"model": model})
    if r.status_code != 200:
        return None
    show = r.json()
    m = re.search(r"^\s*num_ctx\s+(\d+)", show.get("parameters") or "", re.M)
    trained = next((int(v) for k, v in (show.get("model_info") or {}).items() if k.endswith(".context_length")), None)
    if m:
        return int(m.group(1)), f"{root}/api/show num_ctx (Ollama)"
    # No num_ctx in the Modelfile: the server's OLLAMA_CONTEXT_LENGTH applies, which the API does not
    # report; its default is DEFAULT_WINDOW. Ollama truncates longer prompts silently.
    return min(DEFAULT_WINDOW, trained or DEFAULT_WINDOW), f"{root}/api/show (Ollama default num_ctx)"


# -- concurrency ---------------------------------------------------------------------------------


class Gate:
    "At most `limit` holders at once; the others wait in arrival order."

    def __init__(self, limit: int):
        self.limit = limit
        self._cond = threading.Condition()
        self._active = 0
        self._queue: deque[object] = deque()

    def join(self) -> object:
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
        return ticket

    def wait(self, ticket: object, timeout: float) -> bool:
        "Wait up to timeout seconds for the ticket's turn; True once it holds a slot."
        with self._cond:
            granted = self._cond.wait_for(
                lambda: bool(self._queue) and self._queue[0] is ticket and self._active < self.limit, timeout)
            if granted:
                self._queue.popleft()
                self._active += 1
                self._cond.notify_all()
            return granted

    def ahead(self, ticket: object) -> int:
        "Requests before this one: those running and those queued in front of it."
        with self._cond:
            return self._active + (self._queue.index(ticket) if ticket in self._queue else 0)

    def leave(self, ticket: object, granted: bool) -> None:
        with self._cond:
            if granted:
                self._active -= 1
            elif ticket in self._queue:
                self._queue.remove(ticket)
            self._cond.notify_all()


@functools.lru_cache(maxsize=32)
def gate(base_url: str, limit: int) -> Gate:
    return Gate(limit)
