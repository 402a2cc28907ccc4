"""Candidate sentences: every sentence of the evidence's paragraphs, scored against the question.

A sentence's score combines
  - dense similarity of its vector (computed at index time) with the query vector;
  - coverage: the IDF-weighted share of the question's content terms it contains (half credit for
    terms found elsewhere in its paragraph or the article title, partial credit for a term it states
    only as a near-synonym by the word vectors of rag/lexicon.py), each term also weighted by how
    well it separates the candidates: the topic every candidate shares says little about which one
    answers, the focus much;
  - the paragraph's retrieval score, as a small prior;
  - the question's names it states, each weighted by how few candidates state it;
  - a bonus when it states exactly the kind of thing asked (a definition, a named award, members of
    the kind: "enterprises including ..."), or sits where the conversation points ("after that");
and is cut when the sentence lacks what the question asks for: its answer type (a date for "when",
a number for "how many", a person for "who" ...; has_slot), the question's period ("in 2025"), a
future statement for a question about the future, or repeats the last answer for "what else".

`Candidate` keeps the parts, so answerability (rag/answer/answerability.py) can judge the best one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..text import STOPWORDS, sentence_spans, terms, words
from ..types import Analysis, Corpus, Evidence, Hit, Period, Sentence
from . import dates
from .slots import (
    asks_future,
    definition_pattern,
    doers_pattern,
    has_slot,
    members_pattern,
    named_pattern,
    post_names,
    qualifiers,
    slot_values,
    states_future,
    title_pattern,
    venue_pattern,
)

if TYPE_CHECKING:
    from ..lexicon import Lexicon

W_DENSE, W_COVER, W_PARA = 0.5, 0.5, 0.1
# A question word the sentence states only as a near-synonym ("prize": "award" 0.79, "doctors":
# "physicians" 0.88, "dangers": "toxicities") counts this share of its weight times their cosine, from
# this cosine up (rag/lexicon.py). Chosen on the calib split and the project's tests: at 0.5 words of
# the same scene pass for each other ("attended": "held" 0.53), and a comparison's facet "who attended"
# took the meeting's dateline for its answer; at 0.6 "dangers" no longer finds "toxicities". Half
# weight, since a near-synonym may be a near miss.
SYNONYM_FLOOR, SYNONYM_WEIGHT = 0.55, 0.5
# A question naming someone or something is about the sentences that name it: the share of the
# question's names a sentence states itself ("Dr. Jing Zhao spoke ... What was the topic?" is answered
# by the sentence naming Jing Zhao, not by one naming another Zhao)
W_NAMES = 0.15
CONTEXT_WEIGHT = 0.5  # a question term found elsewhere in the paragraph (or the title) counts this much
TYPE_PENALTY = 0.6  # score factor when the sentence lacks the kind of answer asked for
PERIOD_PENALTY = 0.5  # ... or states only dates outside the question's period
BONUS = 0.1  # the sentence states exactly the kind of thing asked for (a definition, a named award)
TEMPLATE_PENALTY = 0.5  # ... of a sentence whose shape TEMPLATE_ARTICLES or more of the evidence's articles repeat
TEMPLATE_ARTICLES = 3
_MORE = re.compile(r"\b(?:also|as well as|in addition|not only|besides|moreover|furthermore)\b", re.I)
SAID_PENALTY = 0.4  # "What else ...?": score factor of a sentence the last answer already gave

_LIST_ITEM = re.compile(r"^(?:\d{1,2}[.)]|[•·▪●◦\-*–])\s")
# A sentence opening with a pronoun or a connective goes on about what the sentence before it names:
# "Prof. Huang has published 118 articles ... He holds 22 patents." answers "How many patents does
# Huang hold?" though it never says "Huang"
_CONTINUES = re.compile(r"^\W*(?:he|she|it|they|his|her|its|their|this|these|those|additionally|also|moreover|"
                        r"furthermore|besides|in addition|meanwhile|afterwards?|then|later|subsequently)\b", re.I)


_NAME_RUN = re.compile(r"[A-Z][\w’'&.-]*(?:\s+[A-Z][\w’'&.-]*)*")


def named_things(c: Candidate, a: Analysis) -> set[str]:
    """What a sentence names of the kind asked for, beyond what the question names: the people of a
    "who" question, the places of a "where", the named things of a "which awards". A further sentence
    adds to an answer when it names something new. (Not a "when" or "how many": those ask for one
    value, and another date or number is about something else.)"""
    named = named_pattern(a)
    found = set(named.findall(c.text)) if named else set()
    # ... and the names a sentence introduces as things of that kind: "enterprises including Union
    # Precision, Vcanbio and BGI" names three companies, none of which says "Company"
    members = members_pattern(a)
    if members and (m := members.search(c.text)):
        found |= set(_NAME_RUN.findall(c.text, m.end() - 1))
    if a.answer_type not in ("person", "place"):
        return found
    return found | {v for v in slot_values(a.answer_type, c.text) if v.lower() not in a.question.lower()}


def continues(c: Candidate, before: Candidate) -> bool:
    "Is c the sentence right after `before` in its paragraph, going on about it ('He ...', 'Afterward, ...')?"
    hit = c.hit
    return (hit.key == before.hit.key and c.sentence.start >= before.sentence.end and bool(_CONTINUES.match(c.text))
            and not hit.text[before.sentence.end - hit.start : c.sentence.start - hit.start].strip())


def is_list_item(sentence: str) -> bool:
    "A numbered or bulleted line: '1. Insufficient ...', '• Chair, ...'."
    return bool(_LIST_ITEM.match(sentence))


def is_table_row(sentence: str) -> bool:
    "A row of a table as the readers write it: 'Operation | Method name'."
    return " | " in sentence


def is_heading(sentence: str) -> bool:
    """A label, not a statement: no closing punctuation, short, not a list item, and no credit line
    ("PEP written and implemented by Paul Ganssle", "Photo by ...": it says who did something).

    >>> is_heading("New library modules"), is_heading("PEP written and implemented by Paul Ganssle")
    (True, False)
    """
    return (not sentence.rstrip("\"'”’)").endswith((".", "!", "?")) and len(sentence.split()) < 8
            and not is_list_item(sentence) and not _CREDITED.search(sentence))


_CREDITED = re.compile(r"\bby\s+(?:the\s+)?[A-Z]")
# A sentence sending the reader elsewhere ("See PEP 654 for more details.", "For full details, see the
# changelog.") states nothing itself: it shares the words of its topic, so it would be quoted as the
# answer. It answers only a question asking where to read more ("Which PEP has the full description?").
_POINTER = re.compile(r"(?:for\b[^.,;]{0,60},\s*)?see\s", re.I)
_ASKS_WHERE_TO_READ = re.compile(r"\b(?:describ\w*|description|details?|documented|documentation|read more|"
                                 r"more information|reference)\b", re.I)


@dataclass(frozen=True)
class Candidate:
    score: float
    hit: Hit  # the paragraph it is in
    sentence: Sentence
    text: str
    terms: frozenset[str]
    dense: float
    cover: float  # own coverage of the question's weighted terms, 0..1
    context: float  # coverage by the sentence, its paragraph and its article title together, 0..1
    type_ok: bool  # it states a value of the asked-for type that the question does not (has_slot)
    period_ok: bool
    anchored: bool  # where the conversation points: "what came next" is in or after the last answer's paragraphs
    year: str | None  # the year its year-less dates are in (paragraph, article or publication)
    dates: tuple[dates.Mention, ...]  # the dates the sentence states, years resolved
    vec: np.ndarray  # the sentence's vector
    day: Dateline | None = None  # the schedule day it is told under, for questions about dates
    setting: Dateline | None = None  # where the occasion it is dated within was held, for questions asking where

    @property
    def when(self) -> tuple[dates.Mention, ...]:
        "The dates it states, else its schedule day's."
        return self.dates or ((self.day.date,) if self.day else ())


@dataclass(frozen=True)
class Dateline:
    """A schedule's day heading ('August 28:') that a sentence below it is dated by; or the sentence
    saying when and where the occasion a sentence is dated within was held."""

    hit: Hit  # the paragraph holding the heading (sentence)
    text: str  # as written
    date: dates.Mention  # year resolved


INTRO_MIN_WORDS = 3  # a paragraph's last line ending in a colon introduces what follows ("August 28:" is a day)
CARRIED_WEIGHT = 0.5  # of a word the conversation carried into a follow-up's query, against the follow-up's own
LOOKBACK = 8  # paragraphs above a sentence searched for the day heading it is told under


def dateline(corpus: Corpus, hit: Hit, offset: int, year: str | None) -> Dateline | None:
    """The day heading a sentence (at char `offset` of the article) is told under: the last one above
    it in its paragraph, else in the paragraphs before, up to a heading without a date (a new
    section: "Program Implementation") or LOOKBACK paragraphs."""
    above = hit.text[: max(offset - hit.start, 0)]
    for n in range(hit.paragraph, max(hit.paragraph - LOOKBACK, 0), -1):
        para = hit if n == hit.paragraph else corpus.paragraph(hit.doc_id, n)
        text = above if n == hit.paragraph else para.text
        found = dates.dateline(text)
        if found:
            (date,) = dates.resolve([found[1]], year) or [found[1]]
            return Dateline(para, found[0], date)
        if n != hit.paragraph and is_heading(para.text.split("\n", 1)[0].strip()):
            return None
    return None


SETTING_AROUND = 2  # paragraphs either side of a dated sentence searched for where its occasion was held


def setting(corpus: Corpus, hit: Hit, when: Sequence[dates.Mention], analysis: Analysis, year: str | None) -> Dateline | None:
    """For "In which city did Huang receive the award?", asked of a sentence that dates the event but
    places it nowhere ("On February 23rd, the CIBMTR presented Huang with ..."): the nearest sentence
    of its article stating a place of the kind asked for and dates spanning the event's ("The 2024
    Tandem Meetings were held on February 21-24 in San Antonio"). News tells an event at a meeting that
    way: the meeting's when and where once, what happened there on its own day."""
    last = corpus.document(hit.doc_id).paragraphs
    near = range(max(1, hit.paragraph - SETTING_AROUND), min(last, hit.paragraph + SETTING_AROUND) + 1)
    for n in sorted(near, key=lambda n: abs(n - hit.paragraph)):
        para = hit if n == hit.paragraph else corpus.paragraph(hit.doc_id, n)
        for a, b in sentence_spans(para.text):
            text = para.text[a:b]
            if not has_slot(analysis, text):
                continue
            for span in dates.resolve(dates.mentions(text), dates.first_year(text), year):
                if span.start != span.end and all(dates.within_period(w, Period(span.start, span.end)) for w in when):
                    return Dateline(para, text, span)
    return None


# A credit line ("(Contributed by Emily Morehouse in bpo-35224.)", "Patch by Tim Peters.") closes the
# section it credits, often several paragraphs below what it credits and naming none of it
CREDIT_LINE = re.compile(r"^\W{0,2}(?:contributed|written|implemented|designed|proposed|patch(?:ed)?|fixed|suggested|"
                         r"reported|developed|ported)\s+(?:and\s+\w+\s+)?by\s+[A-Z]", re.I)
SECTION = 20  # paragraphs a section runs to at most, for finding its heading or its credit lines
# a section's heading is words ("Assignment expressions", "New Features"), not a line of code
# ("discount = 0.0", "if (n := len(a)) > 10:") that is as short and unpunctuated
_HEADING_WORDS = re.compile(r"[A-Z][\w’'\-–,&/ ]*")


def _section_start(line: str) -> bool:
    return is_heading(line) and bool(_HEADING_WORDS.fullmatch(line))


def section_heading(corpus: Corpus, hit: Hit) -> str:
    """The heading of the section a paragraph is in: the last heading line of the nearest paragraph
    above (or this one) that has one, "" if none within SECTION paragraphs."""
    for n in range(hit.paragraph, max(hit.paragraph - SECTION, 0), -1):
        para = hit if n == hit.paragraph else corpus.paragraph(hit.doc_id, n)
        heads = [line.strip() for line in para.text.split("\n") if _section_start(line.strip())]
        if heads:
            return heads[-1]
    return ""


def credit_lines(corpus: Corpus, hit: Hit) -> list[Hit]:
    "The credit-line paragraphs that close the section a paragraph is in (up to the next heading)."
    out = []
    last = corpus.document(hit.doc_id).paragraphs
    for n in range(hit.paragraph + 1, min(hit.paragraph + SECTION, last) + 1):
        para = corpus.paragraph(hit.doc_id, n)
        first = para.text.strip().split("\n", 1)[0].strip()
        if _section_start(first):
            break
        if CREDIT_LINE.match(first):
            out.append(para)
    return out


def _synonyms(lexicon: Lexicon | None, analysis: Analysis, qweight: dict[str, float],
              texts: list[str]) -> list[dict[str, float]]:
    """For each sentence, the question terms it states only as a near-synonym, with the cosine: the
    question's words that are no part of a name (a name is matched as written), against the
    sentence's words, each as the lexicon knows it (its base form). Computed once for all sentences."""
    if lexicon is None:
        return [{} for _ in texts]
    named = {t for n in analysis.specific for t in terms(n)}
    asked: dict[str, str] = {}  # question term -> its word's known form
    for w in words(analysis.question):
        if len(w) >= 3 and w.isalpha() and w not in STOPWORDS and (t := terms(w)) and t[0] in qweight \
                and t[0] not in named and (form := lexicon.known(w)):
            asked.setdefault(t[0], form)
    if not asked:
        return [{} for _ in texts]
    said = [lexicon.forms(text) for text in texts]
    vocabulary = sorted(set().union(*said))
    column = {w: i for i, w in enumerate(vocabulary)}
    sims = lexicon.similarity(list(asked.values()), vocabulary)
    out = []
    for forms in said:
        best = sims[:, [column[f] for f in forms]].max(axis=1) if forms else np.zeros(len(asked))
        out.append({t: float(b) for t, b in zip(asked, best, strict=True) if b >= SYNONYM_FLOOR})
    return out


def _discrimination(term: str, pool: list[frozenset[str]]) -> float:
    """How well a question term tells the candidate sentences apart, in (0, 1]: a term in every
    candidate (the topic) says little about which one answers; a term in few (the focus) says much."""
    n = len(pool)
    df = sum(term in p for p in pool)
    return math.log((n + 1) / (df + 0.5)) / math.log((n + 1) / 0.5) if n else 1.0


def candidates(evidence: Evidence, hits: Sequence[Hit] | None = None, analysis: Analysis | None = None,
               qvec: np.ndarray | None = None) -> list[Candidate]:
    """Every non-heading sentence of the hits (default: the evidence's), best first. `analysis` and
    `qvec` default to the evidence's; a comparison scores each side against its own."""
    hits = list(evidence.hits if hits is None else hits)
    analysis = analysis or evidence.analysis
    # a follow-up's answer is close to the query with its subject carried, or to the follow-up's own words
    # with it: "Where did the experts at it come from?" is nearer its answer than the subject's lead is,
    # "How long did it last?" (no words of its own but the asking) is not
    own = None
    if qvec is None and evidence.own is not None and analysis is evidence.analysis:
        own = evidence.qvec + evidence.own
        own /= np.linalg.norm(own) or 1.0
    qvec = evidence.qvec if qvec is None else qvec
    corpus: Corpus = evidence.corpus
    if not hits:
        return []
    per_para, vectors = corpus.sentences([h.key for h in hits])
    texts = [[h.text[s.start - h.start : s.end - h.start] for s in sents] for h, sents in zip(hits, per_para, strict=True)]
    pool = [frozenset(terms(t)) for ts in texts for t in ts]
    qterms = list(dict.fromkeys(analysis.terms))
    weights = dict(zip(qterms, corpus.idf(qterms), strict=True))
    qweight = {t: weights[t] * _discrimination(t, pool) for t in qterms}
    # "What award was presented there? (2024 Tandem Meetings)": the words carried from the
    # conversation say where to look; the follow-up's own words say which sentence answers
    carried = (set(terms(evidence.context.carried)) - set(terms(evidence.question))
               if evidence.context.carried and analysis is evidence.analysis else set())
    qweight = {t: CARRIED_WEIGHT * w if t in carried else w for t, w in qweight.items()}
    total = sum(qweight.values()) or 1.0
    dense = vectors @ qvec if len(vectors) else np.zeros(0)
    # (for ranking only: the judge weighs a sentence's similarity to the question as searched, since
    # the follow-up's own words alone are generic, "How many patients were enrolled?" is close to
    # any count of people)
    ranking = np.maximum(dense, vectors @ own) if own is not None and len(vectors) else dense
    defines = definition_pattern(analysis) if analysis.answer_type == "definition" else None
    named = named_pattern(analysis)
    members = members_pattern(analysis)
    doers = doers_pattern(analysis)
    venue = venue_pattern(analysis)
    title = title_pattern(analysis)
    qualified_by = [q.lower() for q in qualifiers(analysis)]
    posts = post_names(analysis)
    future = asks_future(analysis)
    wants_pointer = bool(_ASKS_WHERE_TO_READ.search(analysis.question))
    top = max((h.score for h in hits), default=1.0) or 1.0
    said = _plain(evidence.context.said)
    # what the question sets aside, by its words (a name set aside, "besides Huang", leaves the
    # sentences naming him: the answer names someone else, which the answer type checks)
    names = {t for n in analysis.specific for t in terms(n)}
    aside = set(terms(analysis.excluded)) - names
    lowered = [t.lower() for ts in texts for t in ts]
    # A sentence every article repeats with other numbers ("This article explains the new features in
    # Python 3.9, compared to 3.8.") is the collection's template, not news: it matches a question's
    # names in every article and tells nothing about any
    shape = [_shape(t) for ts in texts for t in ts]
    doc_of = [h.doc_id for h, ts in zip(hits, texts, strict=True) for _ in ts]
    shapes: dict[str, set[str]] = {}
    for sh, doc_id in zip(shape, doc_of, strict=True):
        shapes.setdefault(sh, set()).add(doc_id)
    # a name most candidates state ("Huang" in questions about Huang) tells them apart no better than the topic
    # (names the conversation carried say where to look, as their words do above: every sentence of the
    # meeting's lead names the meeting, and the answer to "Where did the experts at it come from?" need not)
    qnames = {n: math.log((len(lowered) + 1) / (sum(n in t for t in lowered) + 0.5)) / math.log((len(lowered) + 1) / 0.5)
              for n in (x.lower() for x in analysis.specific if not x.isdigit() and not (carried and set(terms(x)) <= carried))}
    near = set(evidence.context.near)
    dated = analysis.answer_type == "date" or analysis.period is not None  # schedule days matter
    # (a year the conversation carried names its subject, "(2025 CSCO conference)": the follow-up asks no period)
    dated_in = analysis.period is not None and (analysis.period.start or analysis.period.end) is not None \
        and not (carried and set(terms(analysis.period.text)) <= carried)
    synonyms = _synonyms(evidence.lexicon, analysis, qweight, [t for ts in texts for t in ts])
    out: list[Candidate] = []
    at = 0
    for hit, sents, ts in zip(hits, per_para, texts, strict=True):
        context_terms = set(terms(hit.text)) | set(terms(hit.title))
        # (the answer to "Which Hong Kong experts ...?" is in a paragraph naming Hong Kong)
        qualified = all(q in f"{hit.title}\n{hit.text}".lower() for q in qualified_by) and all(
            n in hit.text or n in corpus.paragraph(hit.doc_id, 1).text for n in posts)
        context = sum(qweight[t] for t in qterms if t in context_terms)
        para = max(hit.score, 0.0) / top
        # the year a year-less date ("August 26: ...", "On February 23rd") is in: its paragraph's first
        # year, else the publication's, else its article's (a schedule states the year once, in the lead)
        year = dates.first_year(hit.text) or (hit.date or "")[:4] or dates.first_year(corpus.article(hit.doc_id).text) or None
        paragraph_day = dateline(corpus, hit, hit.end, year) if dated else None
        intro: frozenset[str] = frozenset()
        for j, (s, text) in enumerate(zip(sents, ts, strict=True)):
            d = float(dense[at + j])
            # "However, challenges remain: 1. Insufficient drugs ... 2. ...": an item says what it is
            # an instance of only through the sentence introducing the list, so it shares its words
            item = is_list_item(text)
            if not item:
                intro = pool[at + j] if text.rstrip().endswith(":") else frozenset()
            # a label is no answer, but a label introducing a list ("New library modules:" over its
            # bulleted lines, "The new magic method names are:" over the table that follows its
            # paragraph) is the list's statement of what its items are: answering it brings the items
            introduces = text.rstrip().endswith(":") and (
                is_list_item(ts[j + 1]) or is_table_row(ts[j + 1]) if j + 1 < len(ts)
                else len(text.split()) >= INTRO_MIN_WORDS)
            if is_heading(text) and not introduces or _POINTER.match(text) and not wants_pointer:
                continue
            found = tuple(dates.resolve(dates.mentions(text), dates.first_year(text), year))
            # a sentence of a schedule is dated by its day's heading: "On which day did X lecture?" is
            # answered by "In the morning, X presented ..." under "August 28:", and "What did they do
            # on August 20?" by the sentences under "August 20:" (whose words they share). Not a
            # question about the future: a schedule tells what was done.
            day = (paragraph_day if paragraph_day is None or paragraph_day.hit.key != hit.key
                   else dateline(corpus, hit, s.start, year)) if dated and not found and not future else None
            sterms = pool[at + j] | intro if item else pool[at + j]
            if j == 0 and CREDIT_LINE.match(text):  # a credit line credits its section: it has its heading's words
                sterms |= frozenset(terms(section_heading(corpus, hit)))
            if day is not None:
                sterms |= frozenset(terms(day.text))
            own = sum(qweight[t] for t in qterms if t in sterms)
            own += SYNONYM_WEIGHT * sum(qweight[t] * sim for t, sim in synonyms[at + j].items() if t not in sterms)
            cover = (own + CONTEXT_WEIGHT * (context - own)) / total
            score = W_DENSE * float(ranking[at + j]) + W_COVER * cover + W_PARA * para
            if qnames:
                low = lowered[at + j]
                if j and _CONTINUES.match(text):
                    low = f"{lowered[at + j - 1]} {low}"
                score += W_NAMES * sum(w for n, w in qnames.items() if n in low) / len(qnames)
            slot = has_slot(analysis, text) or (day is not None and analysis.answer_type == "date"
                                                and has_slot(analysis, f"{day.text} {text}"))
            # (not for a list: "In which cities were the events held?" lists the sentences stating them)
            held = setting(corpus, hit, found, analysis, year) if (
                analysis.answer_type == "place" and analysis.kind != "list" and found and not slot) else None
            slot = slot or held is not None
            # a question about what will happen is answered only by a sentence about the future
            type_ok = slot and qualified and (not future or states_future(text))
            if not type_ok:
                score *= TYPE_PENALTY
            when = found or ((day.date,) if day else ())  # as Candidate.when
            period_ok = _in_period(when, analysis)
            if not period_ok:
                score *= PERIOD_PENALTY
            elif dated_in and any(dates.within_period(m, analysis.period) for m in when):
                # "What happened on August 22?": a sentence dated that day says; an undated one, or one
                # spanning more ("from August 15 to 29"), may not be about it
                score += BONUS
            if any(p is not None and p.search(text) for p in (defines, named, members, venue, doers, title)):
                score += BONUS
            if hit.key in near:
                score += BONUS  # "What did they do next?": the last answer's paragraphs and those after
            # a sentence the last answer gave, unless it gives the other title asked for itself ("What
            # other post does he hold? (Tao Cheng)": "Prof. Tao Cheng, also Director of the National Key
            # Laboratory ..., delivered the first keynote lecture" told who lectured, and it says this too)
            if said and _plain(text) in said and not (title and title.search(text) and _MORE.search(text)):
                score *= SAID_PENALTY
            # a sentence stating what is set aside, unless it goes on to more ("not only an affirmation
            # of his team, but also an incentive", "Tao Cheng, also Director of ...")
            if aside and 2 * len(aside & sterms) >= len(aside) and not _MORE.search(text):
                score *= SAID_PENALTY
            # (one stating a date is each article's record of it: "Python 3.9 was released on October 5, 2020.";
            # a label introducing a list is the same in every article of a series, "New syntax features:",
            # but its items are not: it tells what they are)
            if not found and not introduces and len(shapes[shape[at + j]]) >= TEMPLATE_ARTICLES:
                score *= TEMPLATE_PENALTY
            out.append(Candidate(score, hit, s, text, sterms, d, own / total, context / total, type_ok, period_ok,
                                 hit.key in near, year, found, vectors[at + j], day, held))
        at += len(sents)
    return sorted(out, key=lambda c: -c.score)


def _shape(sentence: str) -> str:
    "A sentence with its numbers and dates blanked: the same shape in many articles is a template."
    return re.sub(r"\d[\d.,:/-]*", "#", _plain(sentence))


def _plain(sentence: str) -> str:
    return " ".join(sentence.split()).rstrip(".").lower()


def _in_period(found: tuple[dates.Mention, ...], analysis: Analysis) -> bool:
    "A sentence fits a period when a date it states falls in it; one stating no date is not ruled out."
    p = analysis.period
    if p is None or (p.start is None and p.end is None) or not found:
        return True
    return any(dates.overlaps(m, p) for m in found)


def in_period(c: Candidate, period) -> bool:
    """A list item fits a period when its sentence states a date in it, or, stating none, its
    paragraph does ("Which events took place in 2025?")."""
    if period is None or (period.start is None and period.end is None):
        return True
    return any(dates.overlaps(m, period) for m in precise(item_dates(c)))


def precise(found: Sequence[dates.Mention]) -> list[dates.Mention]:
    """The dates to place an item by: a bare year ("the 2025 CSCO Conference") only when nothing more
    precise is stated ("From January 17 to 19, 2025, the 2025 CSCO Conference" is in January)."""
    exact = [m for m in found if not (m.start.endswith("-01-01") and m.end.endswith("-12-31"))]
    return exact or list(found)


def period_fit(c: Candidate, period) -> tuple[bool, bool, int]:
    """How exactly an item is dated in a period, best first: by its own sentence rather than its
    paragraph, by a date inside the period rather than one overlapping it ("on August 26" is not
    answered by "from August 15 to 29"), and by the narrowest date."""
    own = [m for m in precise(c.dates) if dates.overlaps(m, period)]
    found = own or [m for m in precise(item_dates(c)) if dates.overlaps(m, period)]
    inside = [m for m in found if dates.within_period(m, period)]
    return (not own, not inside, min((dates.days(m) for m in inside or found), default=10**6))


def item_dates(c: Candidate) -> tuple[dates.Mention, ...]:
    """The dates a sentence states, else its schedule day's, else its paragraph's, else its article's
    publication date."""
    found = c.when or tuple(dates.resolve(dates.mentions(c.hit.text), c.year))
    if not found and c.hit.date and re.fullmatch(r"\d{4}-\d\d-\d\d", c.hit.date):
        found = (dates.Mention(c.hit.date, c.hit.date, (0, 0), True),)
    return found
