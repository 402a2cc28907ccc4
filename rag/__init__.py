"""Citation-first question answering over news articles.

    >>> from rag import retrieve, ask
    >>> hits = retrieve("What is the Beijing Protocol?", k=5)
    >>> answer = ask("What is the Beijing Protocol?")

Importing rag is light: torch, faiss, sentence-transformers and gradio load only when used.
"""

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)

from collections.abc import Iterator, Sequence

from .config import Settings, load_settings
from .errors import BackendError, ConfigError, DocumentError, IndexCorruptError, RagError
from .types import Answer, Chunk, Citation, Document, Hit, Paragraph, Status


def retrieve(query: str, k: int | None = None, *, mode: str | None = None,
             settings: Settings | None = None) -> list[Hit]:
    from .retrieval import retrieve as _retrieve

    return _retrieve(query, k, mode=mode, settings=settings)


def ask(question: str, history: Sequence[tuple[str, str]] | None = None, *, backend: str | None = None,
        k: int | None = None, settings: Settings | None = None) -> Answer:
    from .pipeline import ask as _ask

    return _ask(question, history, backend=backend, k=k, settings=settings)


def ask_stream(question: str, history: Sequence[tuple[str, str]] | None = None, *, backend: str | None = None,
               k: int | None = None, settings: Settings | None = None) -> Iterator[str | Status | Answer]:
    from .pipeline import ask_stream as _ask_stream

    return _ask_stream(question, history, backend=backend, k=k, settings=settings)


retrieve.__doc__ = "The k best paragraphs for a query, best first (hybrid BM25 + dense by default)."
ask.__doc__ = "Answer a question from the articles: an Answer with text, numbered citations, abstained, backend."
ask_stream.__doc__ = "Yield the answer's text deltas (and Status progress events), then the final validated Answer."

__all__ = [
    "__version__",
    "Answer",
    "BackendError",
    "Chunk",
    "Citation",
    "ConfigError",
    "Document",
    "DocumentError",
    "Hit",
    "IndexCorruptError",
    "Paragraph",
    "RagError",
    "Settings",
    "ask",
    "ask_stream",
    "load_settings",
    "retrieve",
]
