"""Candidate sentences: every sentence of the evidence's paragraphs, scored against the question.

A sentence's score combines
  - dense similarity of its vector (computed at index time) with the query vector;
  - coverage: the IDF-weighted share of the question's content terms it contains (half credit for
    terms found elsewhere in its paragraph or the article title), each term also weighted by how
    well it separates the candidates: the topic every candidate shares says little about which one
    answers, the focus much;
  - the paragraph's retrieval score, as a small prior;
and is cut when the sentence lacks what the question asks for: its answer type (a date for "when",
a number for "how many", a person for "who" ...), the question's period ("in 2025"), a future
statement for a question about the future.

`Candidate` keeps the parts, so answerability (rag/answer/answerability.py) can judge the best one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..text import STOPWORDS, terms
from ..types import Analysis, Corpus, Evidence, Hit, Sentence
from . import dates

W_DENSE, W_COVER, W_PARA = 0.5, 0.5, 0.1
CONTEXT_WEIGHT = 0.5  # a question term found elsewhere in the paragraph (or the title) counts this much
TYPE_PENALTY = 0.6  # score factor when the sentence lacks the kind of answer asked for
PERIOD_PENALTY = 0.5  # ... or states only dates outside the question's period
BONUS = 0.1  # the sentence states exactly the kind of thing asked for (a definition, a named award)

_COUNT = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                    r"hundred|thousand|million|billion|dozen|half|double|twofold|threefold|fourfold|tenfold|"
                    r"twentyfold|several|dozens|hundreds|thousands)\b", re.I)
# Words that head an organisation, event or thing rather than a person: "Peking University" is no
# one's name. General English, so it holds on any corpus of news.
_NOT_PERSON = re.compile(r"\b(?:University|Hospital|Institute|Institution|Society|Center|Centre|Academy|Committee|"
                         r"Association|Foundation|Ministry|Department|Conference|Congress|Meeting|Meetings|Award|"
                         r"Protocol|Laboratory|Lab|Bank|Company|Group|Council|Commission|Organization|"
                         r"Organisation|Agency|Office|Bureau|School|College|Forum|Symposium|Workshop|Program|"
                         r"Programme|Project|Team|Network|Journal|News|Day|Week|Year|Street|Road|City|Province|"
                         r"Republic|Union|Party|Corporation|Inc|Ltd|Hall|Park|Museum|Station|Airport)\b")
_HONORIFIC = r"(?:Prof\.?|Professor|Dr\.?|Mr\.?|Mrs\.?|Ms\.?|Sir|Dame|President|Director|Chair(?:man|woman)?|Dean|Minister|Secretary)"
_NAME = r"[A-Z][a-z]+(?:[-’'][A-Za-z]+)?"
_PERSON = re.compile(rf"(?:\b{_HONORIFIC}\s+)?\b({_NAME}(?:\s+[A-Z]\.)?(?:\s+{_NAME}){{1,2}})\b")
_TITLED = re.compile(rf"\b{_HONORIFIC}\s+[A-Z]")
_PLACE = re.compile(r"\b(?:in|at|to|from|near)\s+(?:the\s+)?(?:(?:city|town|province|state|capital)\s+of\s+)?[A-Z][a-z]+")
_FUTURE_Q = re.compile(r"\b(?:will|next|upcoming|future|plan(?:s|ned)? to|going to)\b", re.I)
_FUTURE_S = re.compile(r"\b(?:will|would|next|upcoming|future|plans?|planned|aims?|intends?|going to|forward|ahead|"
                       r"prospects?|to be held|shall|expects?|expected)\b", re.I)
_LIST_ITEM = re.compile(r"^(?:\d{1,2}[.)]|[•·▪●◦\-*–])\s")


def person_names(text: str) -> list[str]:
    """Names of people: runs of two or three capitalised words (after an honorific, if any) that do
    not name an organisation or event, and do not start with an ordinary word ("The", "In").

    >>> person_names("The award went to Professor Jun Ma of Peking University, said Michael Verneris.")
    ['Jun Ma', 'Michael Verneris']
    """
    out = []
    for m in _PERSON.finditer(text):
        words = m.group(1).split()
        while words and (words[0].lower() in STOPWORDS or words[0].lower() in dates.MONTHS):
            words = words[1:]
        name = " ".join(words)
        if len(words) >= 2 and not _NOT_PERSON.search(name):
            out.append(name)
    return out


def has_person(sentence: str) -> bool:
    return bool(_TITLED.search(sentence) or person_names(sentence))


def has_count(sentence: str) -> bool:
    "A count or amount: a number that is not part of a date."
    text = sentence
    for m in reversed(dates.mentions(sentence)):
        text = text[: m.span[0]] + " " + text[m.span[1] :]
    return bool(_COUNT.search(text))


def definition_pattern(analysis: Analysis) -> re.Pattern | None:
    """For "What is X?", a sentence that defines X: "X is ...", "... known as X", "X (...) refers to".

    >>> from rag.answer.analysis import analyse
    >>> bool(definition_pattern(analyse("What is the Beijing Protocol?")).search("a method known as the “Beijing Protocol.”"))
    True
    """
    m = re.match(r"\s*(?:what|who)\s+(?:is|are|was|were)\s+(?:the\s+|a\s+|an\s+)?(.{2,60}?)\s*\??\s*$", analysis.question, re.I)
    if not m:
        return None
    x = r"\W{0,3}\s*".join(map(re.escape, m.group(1).split()))
    q = r"[“\"‘'(]?"
    return re.compile(rf"\b(?:known as|called|named|termed|dubbed)\s+(?:the\s+)?{q}{x}"
                      rf"|\b{x}\W{{0,3}}\s+(?:\([^)]*\)\s+)?(?:is|are|was|were|refers to|means|,)\b", re.I)


def named_pattern(analysis: Analysis) -> re.Pattern | None:
    """For "which/what <noun>" questions, a proper name headed by that noun: "What awards..." ->
    "Distinguished Service Award", "Which university..." -> "Peking University"."""
    if not analysis.noun:
        return None
    return re.compile(rf"(?:[A-Z][\w’'&.-]*\s+){{1,6}}{analysis.noun.capitalize()}\w*\b")


def type_check(analysis: Analysis):
    "A function telling whether a sentence holds the kind of answer asked for (None: anything does)."
    kind = analysis.answer_type
    if kind == "date":
        return lambda s: bool(dates.mentions(s))
    if kind == "number":
        return has_count
    if kind == "person":
        return has_person
    if kind == "place":
        return lambda s: bool(_PLACE.search(s))
    return None


def is_heading(sentence: str) -> bool:
    "A label, not a statement: no closing punctuation, short, not a list item."
    return (not sentence.rstrip("\"'”’)").endswith((".", "!", "?")) and len(sentence.split()) < 8
            and not _LIST_ITEM.match(sentence))


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
    type_ok: bool
    period_ok: bool
    dates: tuple[dates.Mention, ...]  # the dates the sentence states, years resolved
    vec: np.ndarray  # the sentence's vector


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
    total = sum(qweight.values()) or 1.0
    dense = vectors @ qvec if len(vectors) else np.zeros(0)
    want = type_check(analysis)
    defines = definition_pattern(analysis) if analysis.answer_type == "definition" else None
    named = named_pattern(analysis)
    future = bool(_FUTURE_Q.search(analysis.question))
    top = max((h.score for h in hits), default=1.0) or 1.0
    out: list[Candidate] = []
    at = 0
    for hit, sents, ts in zip(hits, per_para, texts, strict=True):
        context_terms = set(terms(hit.text)) | set(terms(hit.title))
        context = sum(qweight[t] for t in qterms if t in context_terms)
        para = max(hit.score, 0.0) / top
        para_year = dates.first_year(hit.text)
        for j, (s, text) in enumerate(zip(sents, ts, strict=True)):
            d = float(dense[at + j])
            if is_heading(text):
                continue
            sterms = pool[at + j]
            own = sum(qweight[t] for t in qterms if t in sterms)
            cover = (own + CONTEXT_WEIGHT * (context - own)) / total
            score = W_DENSE * d + W_COVER * cover + W_PARA * para
            type_ok = want is None or want(text)
            if not type_ok or (future and not _FUTURE_S.search(text)):
                score *= TYPE_PENALTY
            found = tuple(dates.resolve(dates.mentions(text), dates.first_year(text), para_year, (hit.date or "")[:4]))
            period_ok = _in_period(found, analysis)
            if not period_ok:
                score *= PERIOD_PENALTY
            if (defines is not None and defines.search(text)) or (named is not None and named.search(text)):
                score += BONUS
            out.append(Candidate(score, hit, s, text, sterms, d, own / total, context / total, type_ok, period_ok,
                                 found, vectors[at + j]))
        at += len(sents)
    return sorted(out, key=lambda c: -c.score)


def _in_period(found: tuple[dates.Mention, ...], analysis: Analysis) -> bool:
    "A sentence fits a period when a date it states falls in it; one stating no date is not ruled out."
    p = analysis.period
    if p is None or (p.start is None and p.end is None) or not found:
        return True
    return any(dates.overlaps(m, p) for m in found)
