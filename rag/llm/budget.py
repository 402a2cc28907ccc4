"""The whole-prompt token budget: what of the sources and the history fits the model's context.

The server's window must hold everything: the system message, the history, the user message with
its rules, sources and question, the chat template's own tokens, and the answer (`max_tokens`).
Counting is done locally with tiktoken, but the model's tokenizer differs (gemma's counted about
10% more than cl100k on these articles), so counts are scaled up by `Settings.llm_token_margin`.

What gives way, in order: sources beyond `Settings.llm_context_tokens` (a cost and latency cap),
then the lowest-ranked sources, then history turns (oldest first; the question sent is already a
standalone query), and last the text of the one remaining source, cut to fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import BackendError

MESSAGE_OVERHEAD = 8  # template tokens around each chat message (role markers, separators)
MIN_SOURCE_TOKENS = 64  # below this a cut source is not worth sending


@dataclass(frozen=True)
class Plan:
    sources: int  # how many of the ranked sources to send
    history_turns: int  # how many of the latest history turns to send
    cut_tokens: int | None  # the one source's block is cut to this many tokens (None: whole)
    prompt_tokens: int  # the estimate, margin included


def fit(*, window: int, max_tokens: int, margin: float, source_cap: int, fixed: int, sources: list[int],
        turns: list[int]) -> Plan:
    """The largest prompt that fits `window`.

    fixed: tokens of the system message, the user message's fixed text and the question; sources:
    each source block's tokens, best first; turns: each history turn's tokens, oldest first.

    >>> fit(window=4096, max_tokens=400, margin=0.1, source_cap=3000, fixed=500, sources=[300] * 5, turns=[100])
    Plan(sources=5, history_turns=1, cut_tokens=None, prompt_tokens=2342)
    >>> fit(window=2048, max_tokens=400, margin=0.1, source_cap=3000, fixed=500, sources=[300] * 5, turns=[100])
    Plan(sources=3, history_turns=0, cut_tokens=None, prompt_tokens=1557)
    """
    def cost(n_sources: int, n_turns: int, cut: int | None = None) -> int:
        body = fixed + sum(sources[:n_sources]) + sum(turns[len(turns) - n_turns :])
        if cut is not None:
            body += cut - sources[n_sources - 1]
        msgs = 2 + 2 * n_turns
        return math.ceil(body * (1 + margin)) + MESSAGE_OVERHEAD * msgs

    room = window - max_tokens
    n = 0
    used = 0
    while n < len(sources) and (n == 0 or used + sources[n] <= source_cap) and cost(n + 1, 0) <= room:
        used += sources[n]
        n += 1
    if n == 0:
        if not sources:
            return Plan(0, 0, None, cost(0, 0))
        # Not even the best source fits whole: cut its text to what is left, if that is worth it.
        spare = math.floor((room - cost(0, 0)) / (1 + margin))
        if spare < MIN_SOURCE_TOKENS:
            raise BackendError(
                f"The model's context window ({window} tokens) has no room for a source after the rules, "
                f"the question and the answer ({max_tokens} tokens, llm_max_tokens). Serve the model with a "
                "larger context (llama.cpp --n_ctx / -c, Ollama num_ctx, vLLM --max-model-len) or lower "
                "Settings.llm_max_tokens."
            )
        return Plan(1, 0, spare, cost(1, 0, spare))
    k = 0
    while k < len(turns) and cost(n, k + 1) <= room:
        k += 1
    return Plan(n, k, None, cost(n, k))
