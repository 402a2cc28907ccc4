"""The offline default back-end: answers with the articles' own sentences, by question kind.

Deterministic, and needs no model call beyond the query vector that retrieval already computed
(it travels in the Evidence).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..generation import Generator, History, Reply
from ..types import Evidence, Status
from .kinds import STRATEGIES


class ExtractiveGenerator(Generator):
    name = "extractive"
    # Paragraphs retrieved per question kind: sentences compete across more paragraphs than are shown,
    # and lists, summaries and questions about the collection look wider still.
    pool = {"fact": 8, "list": 16, "collection": 12, "summary": 12, "compare": 8}

    def stream(self, evidence: Evidence, history: History = ()) -> Iterator[str | Status | Reply]:
        reply = STRATEGIES[evidence.analysis.kind](evidence, self.settings)
        if reply.text:
            yield reply.text
        yield reply
