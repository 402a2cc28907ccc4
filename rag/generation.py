"""Generation back-ends. Each has one abstract method, `stream`, and loads what it needs lazily.

    extractive   offline default: composes the answer from the retrieved paragraphs' own sentences
    openai       any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp server, Ollama)

A back-end receives the question and the numbered sources it may cite ([1] is hits[0], ...), and
yields text deltas citing them inline. It never decides what is supported: the pipeline validates
every marker and sentence afterwards, for every back-end alike.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

from .config import Settings
from .errors import ConfigError
from .types import Hit

# Shared by the prompts, the pipeline and the evals: how a back-end says the sources lack the answer.
CANNOT_ANSWER = "I cannot answer this from the articles."
GENERATORS = ("extractive", "openai")

History = Sequence[tuple[str, str]]  # (user question, assistant answer) pairs, oldest first


class Generator(ABC):
    name: str

    def __init__(self, settings: Settings):
        self.settings = settings

    def offer(self, question: str, hits: Sequence[Hit]) -> list[Hit]:
        "The sources this back-end will show; an LLM drops the lowest-ranked to fit its token budget."
        return list(hits)

    def rewrite(self, question: str, history: History) -> str:
        "A standalone query for a follow-up question. The pipeline has an offline default."
        raise NotImplementedError

    @abstractmethod
    def stream(self, question: str, hits: Sequence[Hit], history: History = ()) -> Iterator[str]:
        "Yield text deltas of an answer citing hits as [1]..[len(hits)]."


def get_generator(name: str, settings: Settings) -> Generator:
    """A generator by name.

    >>> from rag.config import load_settings
    >>> get_generator("gpt", load_settings())
    Traceback (most recent call last):
    rag.errors.ConfigError: Unknown back-end 'gpt'. Valid back-ends: extractive, openai
    """
    if name == "extractive":
        from .extractive import ExtractiveGenerator

        return ExtractiveGenerator(settings)
    if name == "openai":
        from .llm import OpenAIGenerator

        return OpenAIGenerator(settings)
    raise ConfigError(f"Unknown back-end {name!r}. Valid back-ends: {', '.join(GENERATORS)}")
