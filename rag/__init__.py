"""Citation-first question answering over news articles.

    >>> from rag import retrieve, ask
    >>> hits = retrieve("What is the Beijing Protocol?", k=5)
    >>> answer = ask("What is the Beijing Protocol?")

Importing rag is light: torch, faiss, sentence-transformers and gradio load only when used.
"""

from .config import Settings, load_settings
from .errors import BackendError, ConfigError, DocumentError, IndexCorruptError, RagError
from .types import Answer, Chunk, Citation, Document, Hit, Paragraph


def retrieve(query, k=None, *, mode=None, settings=None):
    from .retrieval import retrieve as _retrieve

    return _retrieve(query, k, mode=mode, settings=settings)


retrieve.__doc__ = "The k best paragraphs for a query, best first (hybrid BM25 + dense by default)."

__all__ = [
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
    "load_settings",
    "retrieve",
]
