"""Reasoning models: which they are, and keeping their thinking out of the answer's text.

Servers with a reasoning parser (vLLM, llama.cpp with --reasoning-format) send the thinking in
`reasoning_content`; rag.llm.stream passes it on as progress, never as text. Without one it arrives in
`content`, between <think> and </think> - or, when the chat template opened the block (DeepSeek-R1
distills, QwQ), with only the closing tag. rag.citations.strip_reasoning removes whatever is left in a
finished reply; ThinkFilter keeps it out of the streamed draft.
"""

from __future__ import annotations

import re

from ..citations import strip_reasoning

# Model names of reasoning models (they think before answering, in <think> or reasoning_content):
# DeepSeek-R1 and its distills, QwQ, Qwen3, OpenAI o-series and gpt-5, Magistral, and names that say so.
_REASONING_NAME = re.compile(r"(^|[^a-z0-9])(r1|qwq|qwen3|o[134](-mini)?|gpt-5|magistral|deepseek-reasoner)"
                             r"([^a-z0-9]|$)|think|reason", re.I)


def is_reasoning_model(settings) -> bool:
    """Settings.llm_reasoning, or guessed from the model's name.

    >>> from rag.config import load_settings
    >>> [is_reasoning_model(load_settings(llm_model=m)) for m in ("deepseek-r1:7b", "qwq-32b", "llama3.1", "gpt-4o")]
    [True, True, False, False]
    """
    if settings.llm_reasoning is not None:
        return settings.llm_reasoning
    return bool(_REASONING_NAME.search(settings.llm_model))


class ThinkFilter:
    """Keeps a reasoning model's thinking out of the streamed text.

    Any model: a leading <think>...</think> block is dropped (servers without a reasoning parser
    pass it in `content`). A reasoning model (hold=True) may also think without the opening tag,
    which its chat template supplied (DeepSeek-R1 distills, QwQ): its text is held back until
    </think> shows where the answer starts, or the stream ends, or the server turns out to send the
    thinking separately (reasoning_content: `separated`)."""

    def __init__(self, hold: bool):
        self.hold, self.separated = hold, False
        self.state, self.buf = "start", ""

    @property
    def thinking(self) -> bool:
        return self.state == "think" or (self.hold and not self.separated and self.state == "start" and bool(self.buf))

    def feed(self, delta: str) -> str:
        if self.state == "pass":
            return delta
        self.buf += delta
        if self.state == "start":
            head = self.buf.lstrip()
            end = self.buf.find("</think>")
            if head.startswith("<think>"):
                self.state = "think"
            elif self.hold and end >= 0:  # the opening tag was in the template
                return self._after(end)
            elif "<think>".startswith(head) or (self.hold and not self.separated):
                return ""  # still undecided
            else:
                self.state, out, self.buf = "pass", self.buf, ""
                return out
        end = self.buf.find("</think>")
        return self._after(end) if end >= 0 else ""

    def _after(self, end: int) -> str:
        "The text after </think>: the thinking is over, the answer streams from here."
        rest = self.buf[end + len("</think>") :].lstrip()
        self.buf, self.hold = "", False
        self.state = "pass" if rest else "start"  # "start": skip whitespace after the block, then decide
        return rest

    def flush(self) -> str:
        "What was held back when the stream ended: the answer of a model that did not think."
        out = self.buf if self.state == "start" else ""
        self.buf = ""
        return strip_reasoning(out) if out else ""
