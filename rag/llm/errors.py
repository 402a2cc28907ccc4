"""What an endpoint's errors mean, and how to tell the user: what failed, what to check, how many
retries really happened, and never the API key."""

from __future__ import annotations

import re

from ..errors import BackendError
from .endpoint import where

QUOTA_CODES = frozenset({"insufficient_quota"})
_OVERFLOW_CODES = {"context_length_exceeded", "exceed_context_size_error", "string_above_max_length"}
_OVERFLOW_TEXT = re.compile(r"context length|context window|context size|maximum context|too many tokens|"
                            r"exceeds? the (?:model's )?(?:maximum|max)|inputs tokens \+ max_new_tokens", re.I)
_SECRETISH = re.compile(r"(\bsk-|\bBearer\s+)[\w\-.*]{3,}|\S*\*{3,}\S*")
_DEADLINES = {  # Deadline.which -> (what happened, the setting)
    "first token": ("sent no token within", "llm_first_token_timeout"),
    "token gap": ("sent no new token for", "llm_token_gap_timeout"),
    "answer": ("did not finish the answer within", "llm_answer_timeout"),
}


def fields(e) -> tuple[str, str, str]:
    "(code, type, message) of an API error, whatever the server's body shape."
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        return (str(inner.get("code") or getattr(e, "code", "") or ""), str(inner.get("type") or ""),
                str(inner.get("message") or getattr(e, "message", "") or ""))
    return str(getattr(e, "code", "") or ""), "", str(body or getattr(e, "message", "") or e)


def is_quota(e) -> bool:
    "429 insufficient_quota: an empty account, not a rate limit; retrying cannot help."
    code, kind, _ = fields(e)
    return getattr(e, "status_code", None) == 429 and bool({code, kind} & QUOTA_CODES)


def is_overflow(e) -> bool:
    """OpenAI: code context_length_exceeded; vLLM: 400 + 'maximum context length'; llama.cpp's server:
    exceed_context_size_error; TGI and others: an error event inside the stream saying so."""
    import openai

    code, kind, message = fields(e)
    if isinstance(e, openai.APIStatusError) and e.status_code != 400:
        return False
    return bool({code, kind} & _OVERFLOW_CODES) or bool(_OVERFLOW_TEXT.search(message))


def redact(text: str, key: str) -> str:
    if key:
        text = text.replace(key, "***")
    return _SECRETISH.sub(lambda m: (m.group(1) or "") + "***", text)


def detail(e: BaseException | None, key: str) -> str:
    "One short line about an exception: the server's message if any, else its type and text."
    if e is None:
        return ""
    body = getattr(e, "body", None)
    if isinstance(body, dict | str) and body:
        text = fields(e)[2] or str(body)
    else:
        text = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        cause = e.__cause__ or e.__context__
        if cause is not None and str(cause) and str(cause) not in text:
            text += f" ({type(cause).__name__}: {cause})"
    text = " ".join(redact(text, key).split())
    return text if len(text) <= 240 else text[:237] + "..."


def deadline(e) -> str:
    "A passed rag.llm.stream.Deadline, as the end of a sentence about the endpoint."
    what, setting = _DEADLINES[e.which]
    return f"{what} {e.seconds:g}s (Settings.{setting})"


def retried(retries: int) -> str:
    return f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""


def describe(e: BaseException, settings, doing: str, retries: int) -> BackendError:
    "The BackendError for a failed request: what failed while doing what, and what to check."
    import openai

    s, at, again = settings, where(settings.llm_base_url), retried(retries)
    if isinstance(e, openai.APITimeoutError):
        msg = (f"The LLM endpoint at {at} did not answer in time{again} while {doing}. Check that the "
               "server is up and not overloaded, or raise Settings.llm_first_token_timeout.")
    elif isinstance(e, openai.APIConnectionError):
        msg = (f"Could not reach the LLM endpoint at {at}{again} while {doing} ({detail(e, s.llm_api_key)}). "
               "Check RAG_LLM_BASE_URL (it usually ends in /v1) and that the server is running.")
    elif isinstance(e, openai.APIStatusError):
        code = e.status_code
        if code in (401, 403):
            fix = "Check OPENAI_API_KEY (a local server may need the key it was started with)."
        elif code == 404:
            fix = f"Check RAG_LLM_MODEL ({s.llm_model!r} may not be served there) and RAG_LLM_BASE_URL (usually ends in /v1)."
        elif is_quota(e):
            fix = "The account has no quota left: add credit or use another OPENAI_API_KEY. Not retried."
        elif code == 429:
            fix = f"The endpoint is rate-limiting{again}; wait and try again, or raise Settings.llm_max_retries."
        elif code >= 500:
            fix = f"The server failed{again}; check its logs, or try again later."
        else:
            fix = "Check RAG_LLM_MODEL and that the server speaks the OpenAI chat-completions API."
        msg = f"The LLM endpoint at {at} returned HTTP {code} while {doing}: {detail(e, s.llm_api_key)}. {fix}"
    else:
        msg = (f"The LLM endpoint at {at} failed while {doing}: {detail(e, s.llm_api_key)}. "
               "Check RAG_LLM_BASE_URL, RAG_LLM_MODEL and the server logs.")
    return BackendError(redact(msg, s.llm_api_key))
