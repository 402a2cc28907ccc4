"""One strategy per question kind. Each takes the Evidence and the settings and returns a Reply.

    fact        the best sentence, joined by others that add a part of the question
    list        one item per article or paragraph, every one that qualifies, with a caveat when partial
    collection  questions about the articles themselves, from their records (titles, dates, leads)
    summary     3-6 sentences of one article (or topic), chosen for coverage
    compare     the best facts of each side, side by side
"""

from __future__ import annotations

from collections.abc import Callable

from ...config import Settings
from ...generation import Reply
from ...types import Evidence
from . import collection, compare, fact, listing, summary

STRATEGIES: dict[str, Callable[[Evidence, Settings], Reply]] = {
    "fact": fact.answer,
    "list": listing.answer,
    "collection": collection.answer,
    "summary": summary.answer,
    "compare": compare.answer,
}
