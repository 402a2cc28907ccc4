"""Turning chosen sentences into a Reply: each sentence followed by the marker of its paragraph, sources
numbered in order of first use; and the abstention Reply, which says what the articles lack."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..generation import Reply
from ..types import Evidence, Hit
from .analysis import not_stated
from .sentences import Candidate

REPEAT_COSINE = 0.92  # a sentence this close to a chosen one repeats it


def reply(items: Iterable[tuple[Hit, str]], **extra) -> Reply:
    "A Reply citing each (paragraph, sentence) item; sources in order of first use."
    sources: dict[tuple[str, int], int] = {}
    hits: list[Hit] = []
    parts = []
    for hit, text in items:
        if hit.key not in sources:
            sources[hit.key] = len(hits) + 1
            hits.append(hit)
        if not text.rstrip("\"'”’)»").endswith((".", "!", "?", ":")):
            text += "."  # a list line or heading becomes a sentence, so it does not run into the next one
        parts.append(f"{text} [{sources[hit.key]}]")
    return Reply(" ".join(parts), tuple(hits), **extra)


def reading_order(chosen: Iterable[Candidate]) -> list[Candidate]:
    "Per article in order of first appearance among the chosen, then by position in the article."
    chosen = list(chosen)
    first = {}
    for c in chosen:
        first.setdefault(c.hit.doc_id, len(first))
    return sorted(chosen, key=lambda c: (first[c.hit.doc_id], c.sentence.start))


def repeats(candidate: Candidate, chosen: Sequence[Candidate]) -> bool:
    if not chosen:
        return False
    return float((np.stack([c.vec for c in chosen]) @ candidate.vec).max()) > REPEAT_COSINE


def abstain(evidence: Evidence, closest: Sequence[Hit] = (), missing: Sequence[str] = (), what: str = "") -> Reply:
    """'The articles don't say when ...', naming what the closest passage lacks when that is known."""
    text = what or not_stated(evidence.question)
    if missing and closest:
        text += f" The closest passage does not mention {_join(missing)}."
    return Reply("", (), abstain=text, closest=tuple(closest))


def _join(items: Sequence[str]) -> str:
    items = list(dict.fromkeys(items))
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
