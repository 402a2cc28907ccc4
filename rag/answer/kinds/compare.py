"""Comparisons ("Compare the conference and the workshop"): the best facts of each side, side by side.

Each side was searched on its own (Evidence.sides), so neither crowds the other out. A side's
sentences are scored against the side together with the question's facets ("in length", "who took
part"), and must be about that side: its names (or, without names, most of its words) appear in the
sentence, its paragraph or its article title.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import numpy as np

from ...config import Settings
from ...generation import Reply
from ...text import terms, words
from ...types import Corpus, Evidence, Hit, Side
from ..analysis import ORDERING, analyse, answer_type, specific_terms
from ..answerability import lacks, present, question_names
from ..compose import abstain, repeats, reply, with_items
from ..dates import human
from ..sentences import Candidate, candidates, item_dates, precise
from ..slots import VENUE, is_name_of_person, slot_values
from . import fact

PER_SIDE = 3  # a comparison sets facts against facts: what, when, where, who of each side
FURTHER_RATIO = 0.6  # a side's further sentences must score this share of its first
LEAD_PARAGRAPHS = 3  # with no aspect named, a side is described by its article's opening, where news says what it is
# The words that make a question a comparison say nothing about either side.
_COMPARING = set(terms("compare comparison contrast differ different difference differences common similar "
                       "similarities versus each both side"))


def about(c: Candidate, side: Side, corpus: Corpus) -> bool:
    """Is the sentence about this side? Its article names the side's names (a later paragraph of the
    article on "the Changsha symposium" need not repeat "Changsha"), or, for a side without names,
    its paragraph and title hold most of the side's words."""
    names = specific_terms(side.text, phrase=True)
    if names:
        article = corpus.article(c.hit.doc_id)
        if not all(present(n, article.text.lower(), article.words) for n in names):
            return False
        # a person (a name of capitalised words heading no organisation or event: "Mohamad Mohty") is
        # one of many an article names: the sentence's paragraph must name them ("Prof. Mohty" will do)
        if is_name_of_person(side.text):
            paragraph = c.hit.text.lower()
            return any(present(n, paragraph, set(words(paragraph))) for n in names)
        return True
    own = set(terms(side.text))
    return len(own & set(terms(f"{c.hit.title}\n{c.hit.text}"))) >= max(1, len(own) // 2 + 1)


def answer(evidence: Evidence, settings: Settings) -> Reply:
    a = evidence.analysis
    if ORDERING.search(a.question):
        return order(evidence, settings)
    if not evidence.sides:
        return instances(evidence, settings)
    if days := _schedule_days(evidence, settings):
        return days
    side_terms = {t for s in evidence.sides for t in terms(s.text)}
    facets = tuple(t for t in a.terms if t not in side_terms and t not in _COMPARING)
    chosen: list[list[Candidate]] = []
    missing = []
    for side in evidence.sides:
        qvec = side.qvec + evidence.qvec
        qvec = qvec / (np.linalg.norm(qvec) or 1.0)
        # about() keeps the side's sentences; among them, the ones stating the facets asked about
        # ("coincided with a milestone") answer, not the side's lead that only names it again
        # (a side that is an article, "the IACH article", is picked out by its name, which about() checks;
        # its sentences are told apart by the facets, not by naming the IACH)
        named = () if _AN_ARTICLE.search(side.text) and facets else specific_terms(side.text, phrase=True)
        view = replace(a, terms=facets or tuple(terms(side.text)), specific=named, kind="fact")
        # the side's own search finds what it is; the question's search, what it did on the facets asked
        # ("each achieve in terms of international partnerships"): a side's sentences come from both
        own = {h.key for h in side.hits}
        hits = [*side.hits, *(h for h in evidence.hits if h.key not in own)] if facets else list(side.hits)
        ranked = [c for c in candidates(evidence, hits, view, qvec) if about(c, side, evidence.corpus)]
        # "Compare A and B": what each is, when and where, as the articles open with it (not a side
        # that names an aspect of its own: "the hospital's plans abroad" is told where the plans are)
        aspect = set(terms(side.text)) - set(terms(" ".join(specific_terms(side.text, phrase=True))))
        if not facets and len(aspect) <= 1:
            ranked = [c for c in ranked if c.hit.paragraph <= LEAD_PARAGRAPHS] or ranked
        picked = _asked(_pick(ranked, [x for side_items in chosen for x in side_items]), ranked, a.question)
        if not picked:
            missing.append(side.text)
        chosen.append(sorted(picked, key=lambda c: c.sentence.start))
    if absent := [side.text for side in evidence.sides if side.text in missing and _unknown(side, evidence.corpus)]:
        # a comparison needs both sides: "How does the Shanghai Protocol differ from the Beijing
        # Protocol?" is not answered when no article names one of them; what they say of the other
        # is shown as the closest passages (a side that is named but whose sentences were not found
        # is only said to be missing, below)
        found = [c.hit for side_items in chosen for c in side_items] or list(evidence.hits[:1])
        return abstain(evidence, list(dict.fromkeys(found)),
                       what=f"The articles don't say anything about {' or '.join(absent)}, so the two can't be compared.")
    if not any(chosen):
        return abstain(evidence, evidence.hits[:1], what=f"The articles don't say anything about {' or '.join(missing)}.")
    caveat = f"The articles say nothing about {' or '.join(missing)}." if missing else ""
    return reply(with_items(((c.hit, c.text) for side_items in chosen for c in side_items), evidence.corpus), caveat=caveat)


def _schedule_days(evidence: Evidence, settings: Settings) -> Reply | None:
    """"How did the opening day of the workshop differ from its closing day?": each side a day of the
    schedule the question's article gives (fact.schedule_day), told as that day's account; None when
    a side is no such day."""
    told: list[Candidate] = []
    for side in evidence.sides:
        one = replace(evidence, question=side.text, analysis=analyse(side.text))
        day = fact.schedule_day(one)
        got = fact.choose(day, settings) if day is not one else None
        if not isinstance(got, list):
            return None
        told += got
    return reply(with_items(((c.hit, c.text) for c in told), evidence.corpus))


def _unknown(side: Side, corpus: Corpus) -> bool:
    "A side with names that no article its own search found states: the articles never mention it."
    names = specific_terms(side.text, phrase=True)
    return bool(names) and all(lacks(corpus, d, names) for d in {h.doc_id for h in side.hits})


def _pick(ranked: list[Candidate], taken: list[Candidate]) -> list[Candidate]:
    "A side's best sentence and, scoring close to it in the same article, up to PER_SIDE in all; in reading order."
    picked: list[Candidate] = []
    for c in ranked:
        if len(picked) == PER_SIDE or (picked and c.score < FURTHER_RATIO * picked[0].score):
            break
        if picked and c.hit.doc_id != picked[0].hit.doc_id:
            continue  # one side, one article: another article is about something else
        if not repeats(c, picked + taken):
            picked.append(c)
    return sorted(picked, key=lambda c: c.sentence.start)


# "... who gave each one, and where was it presented?": a place and a date asked for by name, which
# each side's answer states (its best sentences may say what it is but not where)
_AN_ARTICLE = re.compile(r"\b(?:article|story|report|piece)\b", re.I)
# "How do the two articles each measure the impact?", "What number does each give?": a quantity asked for
_MEASURE = re.compile(r"\bhow (?:much|many)\b|\b(?:numbers?|figures?|statistics?|measures?|measured|quantif\w*)\b", re.I)
# "Where did each ceremony happen / take place / was it held?", "Who gave the two awards, and where?":
# the venue of an event (an award is given, and received, at one)
_HAPPENED = re.compile(r"\b(?:happen\w*|take place|took place|held|hosted|staged|presented|awarded|given|gave|"
                       r"receiv\w*|accept\w*|won)\b", re.I)
# (or by the aspect's noun: "How did the place and timing of A differ from B's?"; not "took place")
_ASPECT_PLACE = re.compile(r"\b(?<!take )(?<!took )(?<!takes )(?<!taking )(?:place|location|venue|setting)s?\b", re.I)
_ASKED_TYPES = (("place", re.compile(rf"\bwhere\b|\bin (?:what|which) (?:city|country|place)\b|{_ASPECT_PLACE.pattern}", re.I)),
                ("date", re.compile(r"\bwhen\b|\b(?:what|which) (?:date|day|year)\b|\b(?:timing|dates?)\b", re.I)),
                ("number", _MEASURE))


def _asked(picked: list[Candidate], ranked: list[Candidate], question: str) -> list[Candidate]:
    """A side's sentences, with its best one stating each place or date the question asks for that they
    lack; where an event was is where it was held ("held ... in San Antonio"), not any place a sentence
    names ("an incentive for HSCT in China")."""
    # (as is the place of a thing asked by that noun: "the place and timing of his award")
    venue = bool(_HAPPENED.search(question) or _ASPECT_PLACE.search(question))
    for kind, rx in _ASKED_TYPES:
        if rx.search(question) and picked and not any(_states(kind, c.text, venue) for c in picked):
            doc_id = picked[0].hit.doc_id
            if best := next((c for c in ranked if c.hit.doc_id == doc_id and _states(kind, c.text, venue)), None):
                picked = sorted([*picked, best], key=lambda c: (c.hit.paragraph, c.sentence.start))
    return picked


def _states(kind: str, text: str, venue: bool) -> bool:
    return bool(VENUE.search(text)) if kind == "place" and venue else bool(slot_values(kind, text))


def instances(evidence: Evidence, settings: Settings) -> Reply:
    """"Compare Huang's two awards", "at each of his two ceremonies": two of a kind the question does
    not name one by one; news gives each its own article, so the sides are the two best articles
    holding the question's names, each described by its sentences on the facets asked."""
    a = evidence.analysis
    docs = _instance_docs(evidence)
    if len(docs) < 2:
        return fact.answer(evidence, settings)  # one article holds both: answered as a fact
    named = {t for n in question_names(a) for t in terms(n)}
    facets = tuple(t for t in a.terms if t not in named and t not in _COMPARING and t != "two")
    # (of the type asked: "Who spoke at each of his two ceremonies?" is answered by a person on each side)
    view = replace(a, terms=facets or a.terms, kind="fact", answer_type=answer_type(a.question))
    chosen: list[Candidate] = []
    for doc_id in docs:
        ranked = candidates(evidence, _instance_hits(evidence, doc_id), view)
        if len(facets) <= 1:  # "Compare his two awards": what each is, as its article opens with it
            ranked = [c for c in ranked if c.hit.paragraph <= LEAD_PARAGRAPHS] or ranked
        chosen += _asked(_pick(ranked, chosen), ranked, a.question)
    return reply(with_items(((c.hit, c.text) for c in chosen), evidence.corpus))


def _instance_docs(evidence: Evidence) -> list[str]:
    "The two best-ranked articles holding the question's names: one for each of two things of a kind."
    names = question_names(evidence.analysis)
    weight: dict[str, float] = {}
    for h in evidence.hits:
        weight[h.doc_id] = weight.get(h.doc_id, 0.0) + h.score
    return [d for d in sorted(weight, key=lambda d: -weight[d]) if not lacks(evidence.corpus, d, names)][:2]


def _instance_hits(evidence: Evidence, doc_id: str) -> list[Hit]:
    "An article's retrieved paragraphs and its opening ones, where news says what, when and where."
    hits = [h for h in evidence.hits if h.doc_id == doc_id]
    have = {h.key for h in hits}
    return hits + [evidence.corpus.paragraph(doc_id, n) for n in range(1, LEAD_PARAGRAPHS + 1)
                   if (doc_id, n) not in have and n <= evidence.corpus.document(doc_id).paragraphs]


def order(evidence: Evidence, settings: Settings) -> Reply:
    """"Which came first, A or B?", "How long after A was B?": each side's best dated sentence, in
    the order of their dates, led by what the dates say (how far apart, which first)."""
    a = evidence.analysis
    dated: list[tuple[str, Candidate]] = []
    missing = []
    for side in evidence.sides:
        qvec = side.qvec + evidence.qvec
        qvec = qvec / (np.linalg.norm(qvec) or 1.0)
        view = replace(a, terms=tuple(terms(side.text)), specific=specific_terms(side.text, phrase=True), kind="fact",
                       answer_type="date", period=None)
        ranked = [c for c in candidates(evidence, side.hits, view, qvec) if about(c, side, evidence.corpus) and item_dates(c)]
        if not (best := _dated(ranked)):
            missing.append(side.text)
            continue
        dated.append(best)
    if not evidence.sides:
        # "In what order did he receive his two honours?": two of a kind, each its own article's
        view = replace(a, kind="fact", answer_type="date", period=None)
        dated = [best for d in _instance_docs(evidence)
                 if (best := _dated([c for c in candidates(evidence, _instance_hits(evidence, d), view) if item_dates(c)]))]
        if len(dated) < 2:
            return fact.answer(evidence, settings)
    if missing:
        return abstain(evidence, evidence.hits[:1], what=f"The articles don't say when {' or '.join(missing)} took place.")
    (first, c1), (second, c2) = sorted(dated, key=lambda dc: dc[0])
    if c1.text == c2.text:
        return reply([(c1.hit, c1.text)])
    lead = (f"By the dates the articles give, both were on {_said(first)}." if first == second else
            f"By the dates the articles give, {_said(first)} came first, {_apart(first, second)} before {_said(second)}.")
    return reply([(c1.hit, c1.text), (c2.hit, c2.text)], lead=lead)


def _dated(ranked: list[Candidate]) -> tuple[str, Candidate] | None:
    "The best dated candidate and its date; a sentence stating its date shows the reader the date, one dated by its paragraph stands in."
    ranked = sorted(ranked, key=lambda c: not c.type_ok)
    return (precise(item_dates(ranked[0]))[0].start, ranked[0]) if ranked else None


def _said(iso: str) -> str:
    return human(iso) if not iso.startswith("?") else human("2000" + iso[4:]).replace(", 2000", "")


def _apart(a: str, b: str) -> str:
    "How far apart two ISO days are, as a reader would say it."
    days = (dt.date.fromisoformat(b.replace("????", "2000")) - dt.date.fromisoformat(a.replace("????", "2000"))).days
    if days < 14:
        return f"{days} day{'s' if days != 1 else ''}"
    if days < 60:
        return f"about {round(days / 7)} weeks"
    if days < 730:
        return f"about {round(days / 30.44)} months"
    return f"about {round(days / 365.25)} years"
