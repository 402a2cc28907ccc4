"""Stores: where a collection's paragraphs, vectors and term statistics live, and how they are searched.

    snapshot   the default: an immutable folder under RAG_HOME/index (rag/index.py), memory-mapped
    postgres   a shared Postgres + pgvector database, for many app processes (RAG_STORE=postgresql://...)

A store does one thing for retrieval, `search` (BM25, dense or hybrid over paragraphs), and answers
the reads answering needs (rag.types.Corpus: documents, paragraphs, sentences with vectors, IDF).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

import numpy as np

from ..config import Settings
from ..errors import ConfigError
from ..types import ArticleText, DocInfo, Document, Hit, Sentence

MODES = ("hybrid", "dense", "bm25")
# Hybrid search fuses the dense and BM25 rankings by rank, with equal say. A question in the reader's own
# words ("sets of treatment recommendations" for "clinical guidelines") matches no passage by its words:
# the best BM25 score is a small share of what a passage holding every query term would score (the sum
# of their IDFs, the bound of BM25 as term counts grow), and the BM25 ranking is noise. The dense
# ranking then counts DENSE_WEIGHT_ON_MISS times. Both stores apply it alike.
LEXICAL_MISS = 0.15
DENSE_WEIGHT_ON_MISS = 2.0


def dense_weight(best_bm25: float | None, idf_sum: float) -> float:
    """The weight of the dense ranking in hybrid fusion, given the best BM25 score and the query terms' IDF sum.

    >>> dense_weight(0.5, 10.0), dense_weight(3.0, 10.0), dense_weight(None, 10.0)
    (2.0, 1.0, 1.0)
    """
    return DENSE_WEIGHT_ON_MISS if best_bm25 is not None and best_bm25 < LEXICAL_MISS * idf_sum else 1.0


class Store(ABC):
    "A loaded collection. Safe to share between threads; never changes once opened."

    name: str
    query_backend: str = "onnx"  # the embedding back-end whose query vectors match the stored ones

    @abstractmethod
    def search(self, terms: Sequence[str], qvec: np.ndarray | None, k: int, mode: str) -> list[Hit]:
        """The k best paragraphs, best first. `terms` are the query's analysed terms (rag.text.terms);
        `qvec` its vector (None in "bm25" mode)."""

    # -- rag.types.Corpus ------------------------------------------------------------------------

    @abstractmethod
    def documents(self) -> Sequence[DocInfo]: ...

    @abstractmethod
    def document(self, doc_id: str) -> DocInfo: ...

    @abstractmethod
    def paragraph(self, doc_id: str, number: int) -> Hit: ...

    @abstractmethod
    def article(self, doc_id: str) -> ArticleText: ...

    @abstractmethod
    def sentences(self, keys: Sequence[tuple[str, int]]) -> tuple[list[list[Sentence]], np.ndarray]: ...

    @abstractmethod
    def idf(self, terms: Sequence[str]) -> list[float]: ...

    def articles(self) -> Mapping[str, Document]:
        """Every article whole (text, paragraphs, source path, hash) by doc_id, in collection order:
        what the UI's reader and article list show."""
        raise NotImplementedError

    def label(self) -> str:
        "Where the collection is served from, for people (the UI's article list)."
        return self.name

    def changed(self) -> bool:
        "Has the collection moved on since this store was opened (a rebuild or an upload)?"
        return False


def open_store(settings: Settings, *, progress: bool = False) -> Store:
    """The store for these settings, opened (a snapshot is built first if missing or stale; an empty
    database is loaded first)."""
    if settings.store:
        if not settings.store.startswith(("postgresql://", "postgres://")):
            raise ConfigError("RAG_STORE must be a postgresql://user:password@host:port/database URL "
                              "(unset it to use the local snapshot).")
        from .postgres import PostgresStore

        return PostgresStore.open(settings, progress=progress)
    from .snapshot import SnapshotStore

    return SnapshotStore.open(settings, progress=progress)
