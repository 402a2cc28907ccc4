"""List questions ("Which cities hosted the events?", "Which events took place in 2025?"): every item
that qualifies, one per article (more from one article only when each names a new thing of the kind
asked for), each cited; with a caveat when the list may be incomplete.

An item qualifies when its sentence holds the kind of answer asked for and, for a question with a
period, states a date in it (or its paragraph does). Items are ordered by date when the question
asks for an order ("the most recent"), else by relevance.
"""

from __future__ import annotations

from ...config import Settings
from ...generation import Reply
from ...types import Evidence
from ..answerability import judge, judged
from ..compose import abstain, repeats, reply
from ..sentences import Candidate, candidates, in_period, item_dates, named_pattern
from .fact import answer as fact_answer

ITEM_RATIO = 0.55  # an item must score at least this share of the best item
MAX_ITEMS = 8


def when(c: Candidate) -> str:
    "The date an item is about: its sentence's first date, else its paragraph's, else its article's."
    found = item_dates(c)
    return found[0].start if found else (c.hit.date or "")


def answer(evidence: Evidence, settings: Settings) -> Reply:
    a = evidence.analysis
    ranked = candidates(evidence)
    best = judged(evidence, ranked)
    if best is None:
        return abstain(evidence, evidence.hits[:1])
    pool = [c for c in ranked if c.type_ok and in_period(c, a.period)]
    verdict = judge(best, a, evidence.corpus)
    if not verdict.answerable(settings.abstain_threshold):
        return abstain(evidence, (best.hit,), verdict.missing)
    named = named_pattern(a)
    items: list[Candidate] = []
    names: set[str] = set()
    docs: set[str] = set()
    truncated = False
    for c in pool:
        if c.score < ITEM_RATIO * best.score:
            break
        new_names = set(named.findall(c.text)) - names if named else set()
        if c.hit.doc_id in docs and not new_names:
            continue
        if repeats(c, items):
            continue
        if len(items) == MAX_ITEMS:
            truncated = True
            break
        items.append(c)
        docs.add(c.hit.doc_id)
        names |= new_names
    if len(items) == 1 and len(docs) == 1 and not a.period:
        return fact_answer(evidence, settings)  # one article holds it all: answer as a fact, with its joins
    if a.period and a.period.order:
        items.sort(key=when, reverse=a.period.order == "latest")
    last_hit = evidence.hits[-1].key
    partial = truncated or any(c.hit.key == last_hit for c in items)
    caveat = (f"This list may be incomplete: it draws on the {len(evidence.hits)} passages most related to the "
              "question.") if partial else ""
    return reply(((c.hit, c.text) for c in items), caveat=caveat)
