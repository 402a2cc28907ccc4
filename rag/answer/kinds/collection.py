"""Questions about the collection itself ("What are the articles about?", "Which article is the most
recent?", "Which article covers X?"), answered from the articles' records: title, publication date
and lead sentence, each cited to the article's paragraph it comes from.

A sentence here states the article's title and date, which the citation check accepts from the
cited paragraph's own record (rag.citations); the count of articles is the code's statement, not an
article's, and is shown as such (Reply.lead).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ...config import Settings
from ...generation import Reply
from ...text import terms
from ...types import DocInfo, Evidence, Hit
from .. import dates
from ..analysis import _DOCS
from ..answerability import covers_subject, lacks, question_names
from ..compose import abstain, lead, reply, with_items
from ..sentences import candidates
from .listing import LEAD_PARAGRAPHS
from .summary import essentials

# "Which of the articles report faster start-up?": a topic named after a verb of reporting, in the
# reader's words rather than as "the article about X"
_REPORTING = re.compile(rf"\b{_DOCS}\s+(?:\w+\s+)?(?:reports?|reported|mentions?|mentioned|discuss(?:es)?|describes?|"
                        rf"says?|covers?|talks? about|deals? with|features?|includes?|contains?|quotes?|focus(?:es)? on|"
                        # "Which of the articles is built around an interview?", "... is based on a speech"
                        rf"(?:is|are|was|were)\s+(?:built|based|centred|centered|focused|organi[sz]ed)\s+(?:around|on))\s+(.*\w.*)$", re.I)
# "Which Python versions do the articles cover?": the question ends at its verb, so what it names is
# the kind of thing asked for across the collection; when every article states the name (the
# collection's own domain), it picks out no articles and every article's record answers
_RANGE = re.compile(rf"\b(?:what|which)\s+(?:[\w.-]+\s+){{0,3}}(?:do|does)\s+(?:the|these|your|all the)\s+{_DOCS}"
                    rf"(?:\s+(?:in|of)\s+(?:this|the|your)\s+collection)?\s+(?:cover|discuss|report|contain|say)\s*\??\s*$", re.I)
_HOW_MANY = re.compile(r"\bhow many\b", re.I)
# a question about when the articles' events were or the articles appeared, not one about what they say of a time
_DATED_ASKED = re.compile(r"\b(?:came out|released|published|dated|appeared|took place|happened|were held|was held|held|from)\b", re.I)
MAX_LISTED = 10  # articles listed by an overview; more are summarised by count
DOMAIN_CHECKED = 100  # collections this small are checked for a name every article states
_WHAT_ABOUT = re.compile(r"\babout\b[^?]*\babout\b|\b(?:deals?|dealing) with\b|\bwhat does\b.*\b(?:cover|say|report)\b", re.I)
MATCH_RATIO = 0.7  # an article matches a topic when its best passage scores this share of the best one's


def dated(doc: DocInfo, evidence: Evidence) -> str:
    """An article's date: its publication date, else the first full date of its lead (a news lead
    says what happened, then where and when: "X has been honoured with ... The ceremony took place on
    October 5, 2023")."""
    leads = (evidence.corpus.paragraph(doc.doc_id, n).text for n in range(1, min(doc.paragraphs, LEAD_PARAGRAPHS) + 1))
    return doc.date or next((d for d in map(dates.lead_date, leads) if d), "")


def _record(doc: DocInfo, evidence: Evidence, sentence: tuple[Hit, str] | None = None) -> tuple[Hit, str]:
    hit, text = sentence or lead(evidence, doc.doc_id)
    when = dates.human(doc.date)
    return hit, f"“{doc.title}”{f' ({when})' if when else ''}: {text}"


def answer(evidence: Evidence, settings: Settings) -> Reply:
    a = evidence.analysis
    docs: Sequence[DocInfo] = evidence.corpus.documents()
    if not docs:
        return abstain(evidence, what="The collection has no articles yet.")
    if a.period and a.period.order:
        ordered = sorted((d for d in docs if dated(d, evidence)), key=lambda d: dated(d, evidence),
                         reverse=a.period.order == "latest")
        if not ordered:
            return abstain(evidence, what="The articles don't state their dates.")
        # "List the articles in chronological order": all of them; "Which is the most recent?": the one
        if a.period.order != "chronological":
            return reply([_record(ordered[0], evidence)])
        undated = len(docs) - len(ordered)
        return reply([_record(d, evidence) for d in ordered],
                     caveat=f"{undated} of the {len(docs)} articles state no date and are not listed." if undated else "")
    if a.period and (a.period.start or a.period.end) and _DATED_ASKED.search(a.question):
        # "Which of the articles are from October?", "Which releases came out in 2020?": the records
        # dated in the period
        when = {d.doc_id: dated(d, evidence) for d in docs}
        matching = sorted((d for d in docs if when[d.doc_id] and dates.overlaps(
            dates.Mention(when[d.doc_id], when[d.doc_id], (0, 0), True), a.period)), key=lambda d: when[d.doc_id])
        if not matching:
            return abstain(evidence, what=f"None of the articles is dated {a.period.text}.")
        return reply((_record(d, evidence) for d in matching),
                     lead=f"{len(matching)} of the {len(docs)} articles are dated {a.period.text}.")
    # "Which of the articles report faster start-up?" names a topic in its own words, as "the article
    # about X" does in a subject: the articles about it, not the whole list
    names = question_names(a)
    domain = bool(_RANGE.search(a.question)) and len(docs) <= DOMAIN_CHECKED \
        and all(not lacks(evidence.corpus, d.doc_id, names) for d in docs)
    if not domain and (a.subject or a.specific or ((m := _REPORTING.search(a.question)) and terms(m.group(1)))):
        return _about(evidence, len(docs))
    shown = sorted(docs, key=lambda d: dated(d, evidence), reverse=True)[:MAX_LISTED]
    more = f" The {MAX_LISTED} most recent are listed." if len(docs) > MAX_LISTED else ""
    count = f"The collection has {len(docs)} article{'s' if len(docs) != 1 else ''}.{more}"
    return reply((_record(d, evidence) for d in shown), lead=count)


def _about(evidence: Evidence, total: int) -> Reply:
    """The article(s) about a topic (of the `total` in the collection): title, date and the passage
    that shows it is about the topic."""
    ranked = candidates(evidence)
    if not ranked or not covers_subject(evidence, ranked[0].hit.doc_id):
        topic = evidence.analysis.subject or " ".join(evidence.analysis.specific)
        return abstain(evidence, evidence.hits[:1], what=f"None of the articles is about {topic}.")
    by_doc: dict[str, object] = {}
    for c in ranked:
        by_doc.setdefault(c.hit.doc_id, c)
    best = ranked[0].score
    items = []
    matched = 0
    for doc_id, c in by_doc.items():
        if c.score < MATCH_RATIO * best:
            break
        items.append(_record(evidence.corpus.document(doc_id), evidence, lead(evidence, doc_id)))
        matched += 1
        if c.hit.key != items[-1][0].key:
            items.append((c.hit, c.text))
    if matched == 1 and _WHAT_ABOUT.search(evidence.question):
        # "What is the article about the Haikou meeting about?": what its summary says, after its record
        have = {text for _, text in items}
        items += [(hit, text) for hit, text in essentials(evidence, items[0][0].doc_id) if not any(text in h for h in have)]
    # "How many of the articles are about X?" is answered by the count first
    count = f"{matched} of the {total} articles match." if _HOW_MANY.search(evidence.question) else ""
    return reply(with_items(items, evidence.corpus), lead=count)
