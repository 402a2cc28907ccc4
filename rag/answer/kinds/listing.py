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
from ...types import Evidence, Hit
from ..answerability import CONSIDERED, ENUMERATION, judge, judged, lacks, question_names
from ..compose import abstain, repeats, reply, with_items
from ..sentences import (
    Candidate,
    candidates,
    in_period,
    item_dates,
    named_things,
    period_fit,
)
from ..slots import checkable, named_pattern, slot_values
from .fact import MAX_SCANNED, SUBJECTS, schedule_day
from .fact import answer as fact_answer

ITEM_RATIO = 0.45  # an item must score at least this share of the best item
NAME_ITEM_RATIO = 0.35  # ... or this share, when it names another thing of the kind asked for
MAX_ITEMS = 8


def when(c: Candidate) -> str:
    "The date an item is about: its sentence's first date, else its paragraph's, else its article's."
    found = item_dates(c)
    return found[0].start if found else (c.hit.date or "")


def with_leads(evidence: Evidence) -> tuple[list[Hit], set[tuple[str, int]]]:
    """The evidence's hits plus every article's opening paragraph, for a question across the
    collection that names nothing ("Which cities hosted the events?", "Which event came first?"):
    the passages retrieved for its few generic words need not include every article, and news states
    what happened, where and when in its lead. Returns the hits and the leads' keys; in a large
    collection (LEADS_UP_TO) only the hits."""
    hits = list(evidence.hits)
    docs = evidence.corpus.documents()
    if not across_collection(evidence.analysis) or len(docs) > LEADS_UP_TO:
        return hits, set()
    leads = set()
    for d in docs:
        for number in range(1, min(d.paragraphs, LEAD_PARAGRAPHS) + 1):
            leads.add((d.doc_id, number))
    seen = {h.key for h in hits}
    hits += [evidence.corpus.paragraph(*key) for key in sorted(leads - seen)]
    return hits, leads


def across_collection(a) -> bool:
    """A list that names nothing in particular but perhaps a period ("Which cities hosted the events?",
    "Which events were held in 2025?") is a list across the collection: one item per article. One
    that names its subject ("Which lecturers at the Tianjin workshop ...?") may take several items
    from the article about it."""
    return not [t for t in question_names(a) if not (a.period and t in a.period.text)]


def _enumerations(evidence: Evidence, ranked: list[Candidate]) -> list[Candidate]:
    """"Which countries did the Tianjin trainees come from?": when no well-ranked sentence of the
    subject's article lists things of the kind asked, the sentences of that article that do ("It
    recruited 20 physicians ... from Thailand, Belarus, Vietnam, ..."), which share none of the
    question's words but the kind they list. Only for a question naming its subject, whose article is
    the best-ranked one stating every name; to be ranked first."""
    a = evidence.analysis
    asked = question_names(a)
    if not asked or not checkable(a):
        return []
    about = [c for c in ranked[:CONSIDERED] if not lacks(evidence.corpus, c.hit.doc_id, asked)]
    if not about or any(_enumerates(a, c.text) for c in about):
        return []
    doc_id = about[0].hit.doc_id
    have = {c.hit.key for c in ranked}
    last = min(evidence.corpus.document(doc_id).paragraphs, MAX_SCANNED)
    listing = [h for n in range(1, last + 1) if (h := evidence.corpus.paragraph(doc_id, n)).key not in have
               and _enumerates(a, h.text)]
    # (retrieved, it may rank below sentences sharing the question's generic words: "participants visited ...")
    return [c for c in ranked if c.hit.doc_id == doc_id and _enumerates(a, c.text)] + \
        [c for c in candidates(evidence, listing) if _enumerates(a, c.text)]


def _enumerates(a, text: str) -> bool:
    "Does the text name at least ENUMERATION different things of the kind the question asks for?"
    return len(set(slot_values(a.answer_type, text))) >= ENUMERATION


def answer(evidence: Evidence, settings: Settings) -> Reply:
    evidence = schedule_day(evidence)  # "What did the trainees do on day two?": that day of the schedule
    a = evidence.analysis
    if a.period and a.period.start and a.period.start == a.period.end and a.answer_type in (None, "person", "place"):
        # "What did the trainees do on August 26?": that day's account; "Who spoke on August 22?": its people
        return fact_answer(evidence, settings)
    if question_names(a) and SUBJECTS.search(a.question):
        # "In which cities were the workshop and the CSCO conference held?": two subjects, each named by
        # its own article, each answered as a fact (see fact.answer) rather than items of one article
        return fact_answer(evidence, settings)
    hits, leads = with_leads(evidence)
    ranked = candidates(evidence, hits)
    listed = _enumerations(evidence, ranked)
    ranked = listed + [c for c in ranked if c not in listed]
    best = judged(evidence, ranked)
    if best is None:
        return abstain(evidence, evidence.hits[:1])
    # a follow-up the conversation anchors ("What did they discuss after that?") lists from there only
    pool = [c for c in ranked if c.type_ok and in_period(c, a.period) and (c.anchored or not best.anchored)]
    dated = bool(a.period and (a.period.start or a.period.end))
    across = across_collection(a)
    if dated and across:
        # "What happened in August 2025?": the dates decide, not how well generic words match
        if not pool:
            return abstain(evidence, (best.hit,))
    else:
        verdict = judge(best, a, evidence.corpus, ranked)
        if not verdict.answerable(settings.abstain_threshold):
            return abstain(evidence, (best.hit,), verdict.missing)
    if dated:
        # "What happened in February 2024?": items dated in the period by their own words first, and
        # within it, most narrowly ("on August 26": that day's sentences, not the two-week workshop's
        # lead); across the collection, the date is what makes an item relevant, so only the best-dated count
        pool.sort(key=lambda c: period_fit(c, a.period))
        if across and pool:
            fit = period_fit(pool[0], a.period)[:2]
            pool = [c for c in pool if period_fit(c, a.period)[:2] == fit]
            best = max(pool, key=lambda c: c.score)
    items: list[Candidate] = []
    names: set[str] = set()
    docs: set[str] = set()
    truncated = False
    # one item per article for a list across the collection ("Which cities hosted the events?"), but
    # every item of a period ("What happened in February 2024?" can be two things in one article)
    per_article = across and not dated
    # "List the conferences and meetings the articles cover": each article's event, as its lead tells it
    events = per_article and set(a.terms) <= _ANY_EVENT | _EVENT_KINDS
    named = None if events else named_pattern(a)
    # "Which awards ...?": once an item names an award, every item must name another one
    by_name = bool(named and any(named.search(c.text) for c in pool[:3]))
    typed = checkable(a) or events
    if events:  # ... and news tells its event in the lead, in the sentence dating it: what happened, where and when
        pool = sorted((c for c in pool if c.hit.key in leads), key=lambda c: (not c.dates, -c.score)) or pool
    # "Which countries did the Tianjin trainees come from?": only articles naming what the question names
    asked = question_names(a)
    pool = [c for c in pool if not asked or not lacks(evidence.corpus, c.hit.doc_id, asked)]
    for c in pool:
        # an article's lead stating a value of the type asked ("held in Changsha" for "Which cities
        # hosted the events?") is its item however few of the question's generic words it shares
        # (and an item dated in the period asked about, across the collection, by that date)
        new_names = named_things(c, a) - names
        # (an item naming another thing of the kind asked, "participants visited Concord Biotech" for
        # "Which companies ...?", is one however little else it shares with the question)
        if c.score < (NAME_ITEM_RATIO if new_names else ITEM_RATIO) * best.score \
                and not (per_article and typed and c.hit.key in leads) and not (dated and across):
            continue
        if c.hit.doc_id in docs and (per_article or not (new_names or dated)):
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
    if len(items) == 1 and len(docs) == 1 and not a.period and items[0] not in listed:
        return fact_answer(evidence, settings)  # one article holds it all: answer as a fact, with its joins
    if a.period and a.period.order:
        items.sort(key=when, reverse=a.period.order == "latest")
    last_hit = evidence.hits[-1].key
    partial = truncated or any(c.hit.key == last_hit for c in items)
    caveat = (f"This list may be incomplete: it draws on the {len(evidence.hits)} passages most related to the "
              "question.") if partial else ""
    return reply(with_items(((c.hit, c.text) for c in items), evidence.corpus), caveat=caveat)


# Words of a question about any event a news collection reports, with nothing said about which kind:
# "Which of the reported events took place first?", "the most recent meeting covered by the articles".
# (and the verbs of its being told or happening: "the earliest event described", "Which event came first?")
_ANY_EVENT = frozenset(terms("event events meeting meetings gathering one ones report reported reports story stories "
                             "article articles news item items happen happened took take place held cover covered "
                             "collection describe described mention mentioned feature featured came come occur occurred"))
# Words for kinds of event news reports: a list of them across the collection is one per article
_EVENT_KINDS = frozenset(terms("conference conferences congress symposium symposia workshop workshops forum forums "
                               "ceremony ceremonies summit seminar seminars course courses training trainings program "
                               "programs programme meetup across all every"))
LEADS_UP_TO = 100  # collections this small also offer every article's opening paragraphs as items
LEAD_PARAGRAPHS = 2  # a news lead: what happened, where and when


def extreme(evidence: Evidence, settings: Settings) -> Reply:
    """"Which event was the earliest?", "the most recent meeting": of the dated items one per
    article, the one with the extreme date (every article's lead among them, see with_leads); "Give a
    timeline of the events": all of them, in date order."""
    a = evidence.analysis
    hits, leads = with_leads(evidence)
    # "Which event came first?" asks about every article's event, however few words its lead shares
    # with the question; "Which award was the most recent?" only about those like it.
    if not set(a.terms) <= _ANY_EVENT:
        leads = set()
    ranked = [c for c in candidates(evidence, hits) if item_dates(c)]
    if not ranked:
        return abstain(evidence, evidence.hits[:1])
    best_per_doc: dict[str, Candidate] = {}
    # A sentence that states its date itself shows the reader why it comes first or last; one dated
    # only by its paragraph stands in when its article has none. For any event, the article's event
    # is the one its lead reports, not a day of its programme.
    for c in sorted(ranked, key=lambda c: (c.hit.key not in leads, not c.dates)):
        if c.score >= ITEM_RATIO * ranked[0].score or c.hit.key in leads:
            best_per_doc.setdefault(c.hit.doc_id, c)
    ordered = sorted(best_per_doc.values(), key=when, reverse=a.period.order == "latest")
    # "Put the events in chronological order": all of them, earliest first; else the one at the end asked
    picks = ordered if a.period.order == "chronological" else ordered[:1]
    return reply(with_items([(c.hit, c.text) for c in picks], evidence.corpus))
