"""Generation back-ends. Each has one abstract method, `stream`, and loads what it needs lazily.

    extractive   offline default: composes the answer from the articles' own sentences (rag/answer/)
    openai       any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp server, Ollama)

A back-end receives the Evidence (question, searched query, hits, corpus tables) and yields text
deltas, optionally Status events, and finally one `Reply`: the whole text and the sources its [n]
markers point at. It never decides what is supported: the pipeline validates every marker and
sentence afterwards, for every back-end alike.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from .config import Settings
from .errors import ConfigError
from .types import KINDS, Evidence, Hit, Status

# Shared by the prompts, the pipeline and the evals: how a back-end says the sources lack the answer.
CANNOT_ANSWER = "I cannot answer this from the articles."
GENERATORS = ("extractive", "openai")

History = Sequence[tuple[str, str]]  # (user question, assistant answer) pairs, oldest first


@dataclass(frozen=True)
class Reply:
    "What a back-end answered, before validation."

    text: str  # with [n] markers; [1] is sources[0]
    sources: tuple[Hit, ...]
    abstain: str = ""  # the back-end found no answer: what the articles don't say (one sentence)
    closest: tuple[Hit, ...] = ()  # related passages to show under an abstention
    lead: str = ""  # a statement about the collection itself (e.g. its size), made by the code, not the articles
    caveat: str = ""  # a note on the answer's completeness, e.g. "This list may be incomplete: ..."
    complete: bool = True  # False when the text stopped part-way (a dropped stream)
    notice: str = ""  # what went wrong on the way, for the user


class Generator(ABC):
    name: str
    kinds: frozenset[str] = frozenset(KINDS)  # the question kinds it answers; others go to the extractive one
    pool: Mapping[str, int] = {}  # paragraphs it wants retrieved per question kind, when more than Settings.k
    rewrites: bool = False  # can make a follow-up standalone (`rewrite`)
    drafts: bool = False  # its deltas are unchecked text, shown as a draft until validated

    def __init__(self, settings: Settings):
        self.settings = settings

    def rewrite(self, question: str, history: History) -> str:
        "A standalone query for a follow-up question (only when `rewrites`)."
        raise NotImplementedError

    def unusable(self, reply: Reply) -> str | None:
        "Why a reply cannot be shown (an echoed prompt, nothing supported ...), or None."
        return None

    @abstractmethod
    def stream(self, evidence: Evidence, history: History = ()) -> Iterator[str | Status | Reply]:
        "Yield text deltas (and Status events), then the Reply."


def get_generator(name: str, settings: Settings) -> Generator:
    """A generator by name.

    >>> from rag.config import load_settings
    >>> get_generator("gpt", load_settings())
    Traceback (most recent call last):
    rag.errors.ConfigError: Unknown back-end 'gpt'. Valid back-ends: extractive, openai
    """
    if name == "extractive":
        from .answer.extractive import ExtractiveGenerator

        return ExtractiveGenerator(settings)
    if name == "openai":
        from .llm import OpenAIGenerator

        return OpenAIGenerator(settings)
    raise ConfigError(f"Unknown back-end {name!r}. Valid back-ends: {', '.join(GENERATORS)}")
