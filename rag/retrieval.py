"""Retrieval: a question becomes an Evidence record, the one thing a back-end answers from.

    query --embed (ONNX, no torch)--> store.search (hybrid BM25 + dense) --> hits --> Evidence

A Retriever is opened once (`open_retriever`) and passed to whatever answers: the CLI, the UI and the
evals each hold their own. Nothing here caches between steps: the query vector travels in the
Evidence, so answering scores sentences against the very vector retrieval used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from .config import Settings, load_settings
from .lexicon import Lexicon, load_lexicon
from .store import MODES, Store, open_store
from .text import terms
from .types import Analysis, Context, Evidence, Hit, Side

NAMES_WEIGHT = 1.0  # weight of the names-only BM25 list in the fusion, against 1 for dense and BM25
DENSE_KEPT = 2  # the best dense paragraphs, candidates whatever their fused rank
FOCUS_BONUS = 0.5  # a hit from an article the conversation is about gains this share of a rank-1 RRF score


def check_query(query: str, settings: Settings) -> str:
    if not isinstance(query, str) or not query.strip():
        raise ValueError("The question is empty: type a question about the articles.")
    if len(query) > settings.max_question_chars:
        raise ValueError(
            f"The question is {len(query):,} characters; the limit is {settings.max_question_chars:,}. "
            "Shorten it to the part you want answered."
        )
    return query.strip()


class Retriever:
    "A loaded collection and the model that embeds queries for it. Safe to share between threads."

    def __init__(self, store: Store, settings: Settings, embedder=None, lexicon: Lexicon | None = None):
        from .embedding import get_embedder

        self.store = store
        self.settings = settings
        self.embedder = embedder or get_embedder(settings.embedder, store.query_backend, home=settings.home)
        self._lexicon = lexicon

    def lexicon(self) -> Lexicon:
        """The model's word vectors (rag/lexicon.py), loaded at the first question or before it (the
        UI does, before serving), built the first time ever."""
        if self._lexicon is None:
            self._lexicon = load_lexicon(self.embedder, self.settings.home)
        return self._lexicon

    def with_settings(self, settings: Settings) -> Retriever:
        "The same collection and model under other answering settings (k, thresholds, ...)."
        return Retriever(self.store, settings, self.embedder, self._lexicon)

    def refreshed(self) -> Retriever:
        "This retriever, or a new one when the collection changed on disk (a rebuild or an upload)."
        if not self.store.changed():
            return self
        return Retriever(self.store.reopen(), self.settings, self.embedder, self._lexicon)

    def embed(self, text: str) -> np.ndarray:
        return self.embedder.embed_batch([text])[0]

    def search(self, query: str, k: int | None = None, mode: str | None = None,
               qvec: np.ndarray | None = None) -> list[Hit]:
        mode = mode or self.settings.retriever
        if mode not in MODES:
            raise ValueError(f"Unknown retriever {mode!r}. Valid retrievers: {', '.join(MODES)}")
        if qvec is None and mode != "bm25":
            qvec = self.embed(query)
        return self.store.search(terms(query), qvec, k or self.settings.k, mode)

    def evidence(self, question: str, query: str, analysis: Analysis, k: int,
                 context: Context | None = None) -> Evidence:
        """Search for the query and gather what answering needs. A comparison also searches each side
        on its own, so neither side is crowded out of the hits by the other."""
        context = context or Context()
        qvec = self.embed(query)
        hits = self.search(query, k, qvec=qvec)
        if analysis.specific:
            hits = self._with_names(hits, analysis.specific, query, k)
        if self.settings.retriever == "hybrid":
            # A paraphrase ("sets of treatment recommendations" for "clinical guidelines") shares no word
            # with its answer: the paragraph dense search ranks near the top, BM25 not at all, and rank
            # fusion buries it under paragraphs matching the question's names. The best dense
            # paragraphs are candidates all the same.
            have = {h.key for h in hits}
            floor = min((h.score for h in hits), default=0.0)
            hits = [*hits, *(replace(h, score=floor) for h in self.search(query, DENSE_KEPT, "dense", qvec=qvec)
                             if h.key not in have)]
        if context.focus:
            # A follow-up is about the articles the conversation has been citing: their paragraphs
            # rank a little higher, so "When was it held?" stays with the meeting just discussed.
            bonus = FOCUS_BONUS / (self.settings.rrf_k + 1)
            hits = sorted((replace(h, score=h.score + bonus) if h.doc_id in context.focus else h for h in hits),
                          key=lambda h: -h.score)
        if context.near:
            # "Where did they go that afternoon?": the paragraphs after the last answer's are candidates
            # however few words they share with the question.
            hits, have = list(hits), {h.key for h in hits}
            floor = min((h.score for h in hits), default=0.0)
            for doc_id, number in context.near:
                if (doc_id, number) not in have:
                    with contextlib.suppress(KeyError, IndexError):
                        hits.append(replace(self.store.paragraph(doc_id, number), score=floor))
        sides = []
        for text in analysis.sides:
            vec = self.embed(text)
            sides.append(Side(text, vec, tuple(self.search(text, k, qvec=vec))))
        own = self.embed(question) if context.carried else None
        return Evidence(question, query, analysis, qvec, tuple(hits), self.store, tuple(sides), context, own, self.lexicon())


    def _with_names(self, hits: list[Hit], names: Sequence[str], query: str, k: int) -> list[Hit]:
        """A question that names something ("What did Dr. Jing Zhao present?") is about the paragraphs
        that name it: a BM25 search for the names alone joins the fusion as a third ranked list. And
        about the paragraphs of the articles stating every name that state the rest of the question
        without the name ("What challenges did Jun Ma mention?" is answered by "However, challenges remain:
        ..." in his interview, which says "he" or nothing): a BM25 search for the other words, kept
        to those articles, joins as a fourth."""
        named = self.search(" ".join(names), k, "bm25")
        name_terms = set(terms(" ".join(names)))
        rest = [t for t in terms(query) if t not in name_terms]
        docs = {d for d in dict.fromkeys(h.doc_id for h in named) if self._states(d, names)}
        lists = [named, [h for h in self.store.search(rest, None, k, "bm25") if h.doc_id in docs] if rest else []]
        scores = {h.key: h.score for h in hits}
        found = {h.key: h for h in hits}
        for ranked in lists:
            for rank, h in enumerate(ranked, 1):
                scores[h.key] = scores.get(h.key, 0.0) + NAMES_WEIGHT / (self.settings.rrf_k + rank)
                found.setdefault(h.key, h)
        top = sorted(scores, key=lambda key: -scores[key])[:k]
        return [replace(found[key], score=scores[key]) for key in top]

    def _states(self, doc_id: str, names: Sequence[str]) -> bool:
        "Does the article state every name (as a word, or as written for a name of several words)?"
        article = self.store.article(doc_id)
        return all(n.lower() in article.words if " " not in n else n.lower() in article.text for n in names)


def open_retriever(settings: Settings | None = None, *, progress: bool = False) -> Retriever:
    "Open the collection for these settings (building the index first if it is missing or stale)."
    settings = settings or load_settings()
    return Retriever(open_store(settings, progress=progress), settings)


def retrieve(query: str, k: int | None = None, *, mode: str | None = None, settings: Settings | None = None,
             retriever: Retriever | None = None) -> list[Hit]:
    """The k best paragraphs for a query, best first.

    >>> retrieve("Beijing Protocol", k=1)[0].doc_id  # doctest: +SKIP
    '000_273eb6cdc3dda5a5'
    """
    from .pipeline import default_retriever  # the collection ask() uses: opened once, not per call

    settings = settings or (retriever.settings if retriever else load_settings())
    query = check_query(query, settings)
    retriever = retriever or default_retriever(settings)
    return retriever.search(query, k or settings.k, mode or settings.retriever)
