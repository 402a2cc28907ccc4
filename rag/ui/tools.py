"""ask / search / list_articles as typed, documented functions: the app's API endpoints and, through
Gradio's MCP server, its MCP tools. Gradio builds each tool's schema from the signature and the
docstring's Args section, so the docstrings are written for an agent reading them.

Each returns a JSON document as text. Gradio's MCP server passes a returned dict to the client as
its Python repr (not JSON); text that is JSON is what MCP clients and agents parse reliably.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

from ..config import Settings
from ..errors import RagError
from ..types import Document

MAX_SEARCH_K = 50


def corpus(settings: Settings) -> Mapping[str, Document]:
    """The indexed articles by doc_id: the one place the UI reaches into the loaded collection (the
    store `ask` answers from, reopened when an upload or a rebuild changed it), through the Store
    interface, so the reader and the article list work on a snapshot and on RAG_STORE alike."""
    from ..pipeline import default_retriever

    return default_retriever(settings).store.articles()


def index_label(settings: Settings) -> str:
    "What the collection is served from: the snapshot's name, or the database and its generation."
    from ..pipeline import default_retriever

    return default_retriever(settings).store.label()


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


def make_tools(settings: Settings, backend: str, fail: Callable[[str], Exception]) -> list[Callable]:
    """[ask, search, list_articles] bound to these settings. `fail(message)` makes the exception a
    user mistake raises (gr.Error in the app, so the message reaches the caller, not a traceback)."""

    def ask(question: str) -> str:
        """Answer a question from the indexed news articles, with numbered citations to exact source paragraphs.

        The answer text carries [n] markers. Each citation resolves to one paragraph of one article: doc_id,
        title, publication date, paragraph number, page (PDF sources), character offsets, the paragraph's
        full text, "quotes" (the cited spans, as offsets into that text) and "supported" (whether the
        paragraph backs the sentence citing it). When the articles do not hold the answer, "abstained" is
        true, the text says what they lack, and the citations are only the closest passages: report
        that rather than guess. "query" is the search query used
        when it differs from the question; "notice" explains a fallback or removed sentences.

        Args:
            question: A self-contained question about the articles, in plain language (at most 2,000 characters).

        Returns:
            A JSON object with question, text, abstained, backend, notice, query, kind, citations and sentences.
        """
        from ..pipeline import ask as run

        try:
            return _json(run(question, backend=backend, settings=settings).to_dict())
        except (RagError, ValueError) as e:
            raise fail(str(e)) from None

    def search(query: str, k: int = 5) -> str:
        """Search the indexed news articles for the paragraphs most relevant to a query (hybrid BM25 + dense).

        Use it to find passages to read, or to check what the articles say beyond a cited answer.

        Args:
            query: Words or a question to search for (at most 2,000 characters).
            k: How many paragraphs to return, best first (1 to 50).

        Returns:
            A JSON list of paragraphs, best first: rank, score (fused rank score, higher is better), doc_id, title, date, paragraph, page, start, end, text.
        """
        from ..retrieval import retrieve

        if not isinstance(k, int) or not 1 <= k <= MAX_SEARCH_K:
            raise fail(f"k must be a whole number from 1 to {MAX_SEARCH_K}; got {k!r}.")
        try:
            hits = retrieve(query, k, settings=settings)
        except (RagError, ValueError) as e:
            raise fail(str(e)) from None
        return _json([{"rank": i, "score": round(h.score, 6), "doc_id": h.doc_id, "title": h.title, "date": h.date,
                       "paragraph": h.paragraph, "page": h.page, "start": h.start, "end": h.end, "text": h.text}
                      for i, h in enumerate(hits, 1)])

    def list_articles() -> str:
        """List the news articles in the collection, newest first.

        Returns:
            A JSON list of articles: doc_id, title, date (publication date, or null), paragraphs (count), origin ("collection" or "uploaded").
        """
        docs = sorted(corpus(settings).values(), key=lambda d: d.date or "", reverse=True)
        return _json([{"doc_id": d.doc_id, "title": d.title, "date": d.date, "paragraphs": len(d.paragraphs),
                       "origin": "uploaded" if Path(d.path).parent == settings.uploads else "collection"}
                      for d in docs])

    return [ask, search, list_articles]
