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
from ...text import terms
from ...types import Evidence
from ..answerability import judge, judged, question_names
from ..compose import abstain, repeats, reply
from ..sentences import Candidate, candidates, in_period, item_dates, named_pattern, slot_values
from .fact import answer as fact_answer

ITEM_RATIO = 0.45  # an item must score at least this share of the best item
MAX_ITEMS = 8


def things(c: Candidate, a) -> set[str]:
    """What an item names of the kind asked for: the people of a "who" list, the places of a "where"
    list, the named things of a "which awards" list. Another item from the same article joins only
    when it names something new."""
    named = named_pattern(a)
    found = set(named.findall(c.text)) if named else set()
    return found | {v for v in slot_values(a.answer_type, c.text) if v.lower() not in a.question.lower()}


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
    # a follow-up the conversation anchors ("What did they discuss after that?") lists from there only
    pool = [c for c in ranked if c.type_ok and in_period(c, a.period) and (c.anchored or not best.anchored)]
    verdict = judge(best, a, evidence.corpus, ranked)
    if not verdict.answerable(settings.abstain_threshold):
        return abstain(evidence, (best.hit,), verdict.missing)
    items: list[Candidate] = []
    names: set[str] = set()
    docs: set[str] = set()
    truncated = False
    named = named_pattern(a)
    # "Which awards ...?": once an item names an award, every item must name another one
    by_name = bool(named and any(named.search(c.text) for c in pool[:3]))
    # A list that names nothing in particular ("Which cities hosted the events?") is a list across the
    # collection: one item per article. One that names its subject ("Which lecturers at the Tianjin
    # workshop ...?") may take several items from the article about it.
    per_article = not [t for t in a.specific if not (a.period and t in a.period.text)]
    for c in pool:
        if c.score < ITEM_RATIO * best.score:
            break
        new_names = things(c, a) - names
        if c.hit.doc_id in docs and (per_article or not new_names):
            continue
        if by_name and not new_names:
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


# Words of a question about any event a news collection reports, with nothing said about which kind:
# "Which of the reported events took place first?", "the most recent meeting covered by the articles".
_ANY_EVENT = frozenset(terms("event events meeting meetings gathering one ones report reported reports story stories "
                             "article articles news item items happen happened took take place held cover covered "
                             "collection"))
LEADS_UP_TO = 100  # collections this small also offer every article's opening paragraph as an item


def extreme(evidence: Evidence, settings: Settings) -> Reply:
    """"Which event was the earliest?", "the most recent meeting": of the dated items one per
    article, the one with the extreme date. A question that names nothing ("Which of the reported
    events is the most recent?") ranges over the whole collection, and the passages retrieved for its
    few generic words need not include every article's event: each article's opening paragraph, which
    in news states what happened and when, joins the items."""
    a = evidence.analysis
    hits = list(evidence.hits)
    docs = evidence.corpus.documents()
    leads: set[tuple[str, int]] = set()
    if not question_names(a) and len(docs) <= LEADS_UP_TO:
        seen = {h.key for h in hits}
        extra = [p for p in (evidence.corpus.paragraph(d.doc_id, 1) for d in docs) if p.key not in seen]
        hits += extra
        # "Which event came first?" asks about every article's event, however few words its lead
        # shares with the question; "Which award was the most recent?" only about those like it.
        if set(a.terms) <= _ANY_EVENT:
            leads = {p.key for p in extra} | {(d.doc_id, 1) for d in docs}
    ranked = [c for c in candidates(evidence, hits) if item_dates(c)]
    if not ranked:
        return abstain(evidence, evidence.hits[:1])
    best_per_doc: dict[str, Candidate] = {}
    # A sentence that states its date itself shows the reader why it comes first or last; one dated
    # only by its paragraph stands in when its article has none.
    for c in sorted(ranked, key=lambda c: not c.dates):
        if c.score >= ITEM_RATIO * ranked[0].score or c.hit.key in leads:
            best_per_doc.setdefault(c.hit.doc_id, c)
    pick = sorted(best_per_doc.values(), key=when, reverse=a.period.order == "latest")[0]
    return reply([(pick.hit, pick.text)])
