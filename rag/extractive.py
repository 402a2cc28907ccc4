"""The offline default back-end: answers with the retrieved paragraphs' own sentences.

Each sentence of the retrieved paragraphs is scored against the question by
  - dense similarity: its sentence vector (computed at index time) against the query vector;
  - coverage: the share of the question's content words it contains (half credit for words found
    elsewhere in its paragraph), each word weighted by IDF and by how well it separates the
    candidate sentences (the topic shared by all candidates counts little, the focus much);
  - answer type: a "when" question wants a date in the sentence, "how many" a count, "who" a
    person, "what does X stand for" the expansion, "which award" a named award, "what is X" a
    definition; a question about the future is not answered by a past-only sentence;
  - the paragraph's retrieval score, as a small prior.
The best sentence answers; up to two more join when they score close to it and add something (a
question word not yet covered, or another article - so "What two awards did Huang receive?" can
combine two articles). If even the best sentence is weak, the back-end abstains: the threshold
`Settings.abstain_threshold` is calibrated on the eval set's calib split (`rag eval --calibrate`).

Deterministic, and needs no model call beyond the query's vector (cached by the retriever).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .generation import CANNOT_ANSWER, Generator, History
from .text import terms, words
from .types import Hit

W_DENSE, W_COVER, W_PARA = 0.5, 0.5, 0.1
CONTEXT_WEIGHT = 0.5  # a question word found elsewhere in the sentence's paragraph counts this much
TYPE_PENALTY = 0.6  # score factor when the sentence lacks the kind of answer asked for
NAME_BONUS = 0.1  # the sentence names a thing of the kind asked for ("which award" -> "... Award")
JOIN_RATIO = 0.75  # a further sentence must score at least this share of the best
LIST_JOIN_RATIO = 0.6  # ... or this share, when it names another thing of the kind asked for
ANSWER_POOL = 8  # paragraphs whose sentences compete for the answer

_MONTH = r"January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(rf"\b(1[89]\d\d|20\d\d|{_MONTH})\b")
_DATE_EXPR = re.compile(rf"\b(?:{_MONTH})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:\s*(?:-|–|to)\s*\d{{1,2}})?|\b(?:1[89]|20)\d\d\b")
_COUNT = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|hundred|"
                    r"thousand|million|dozen|twofold|threefold|tenfold|twentyfold)\b", re.IGNORECASE)
_PERSON = re.compile(r"\b(Prof\.?|Professor|Dr\.?|Mr\.|Ms\.|Academician|President|Director|Chair)\s+[A-Z]"
                     r"|\b[A-Z][a-z]+ [A-Z][a-z]+\b")
_LIST_ITEM = re.compile(r"^(\d{1,2}[.)]|[•·▪●◦\-*–])\s")


class _Count:
    "A count or amount: a number that is not part of a date."

    @staticmethod
    def search(sentence: str):
        return _COUNT.search(_DATE_EXPR.sub(" ", sentence))


@dataclass(frozen=True)
class Scored:
    score: float
    hit: int  # index into hits
    sentence: int  # index into the snapshot's sentence table
    terms: frozenset[str]


class _Pattern:
    "An answer type built from the question itself, e.g. the expansion of an abbreviation it names."

    def __init__(self, pattern: str):
        self.regex = re.compile(pattern)

    def search(self, sentence: str):
        return self.regex.search(sentence)


def answer_type(question: str):
    "What an answer must contain, from the question's wh-phrase (None: anything)."
    abbreviation = re.search(r"\b([A-Z]{2,})\b.{0,20}\b(stand for|stands for|short for|abbreviation)|"
                             r"\b(abbreviation|acronym|full name)\b.{0,20}\b([A-Z]{2,})\b", question)
    if abbreviation:
        abbr = abbreviation.group(1) or abbreviation.group(4)
        return _Pattern(rf"\(\s*{abbr}\s*\)|\b{abbr}\s*\(")
    q = " ".join(words(question)[:6])
    if re.search(r"\b(when|what year|which year|what date|which date|what day|which day|what month)\b", q):
        return _DATE
    if re.search(r"\b(how many|how much|how long|how old|what percentage|what share|what number|how often)\b", q) \
            or re.search(r"\b(what|which) (was|is|were|are) the (\w+ )?(fee|cost|price|budget|salary|amount|age)s?\b", q):
        return _Count
    if re.search(r"^(who|whom)\b|\b(which|what) (professor|doctor|speaker|person|scientist|expert)\b", q):
        return _PERSON
    return None


def named_kind(question: str) -> re.Pattern | None:
    """For "which/what (two) <noun>" questions, a proper name headed by that noun: "What awards..."
    -> "Distinguished Service Award", "Which university..." -> "Peking University".

    >>> bool(named_kind("What two awards did Huang receive?").search("the Distinguished Service Award"))
    True
    """
    m = re.search(r"\b(?:which|what)\s+(?:\w+\s+){0,2}?(?:two|three|four|several)?\s*([a-z]{4,}?)(?:ies|es|s)?\b"
                  r"\s+(?:did|does|do|was|were|is|are|has|have|had|will|can)\b", question, re.IGNORECASE)
    if not m or m.group(1).lower() in _NOT_KINDS:
        return None
    noun = m.group(1).lower()
    return re.compile(rf"(?:[A-Z][\w’'&.-]*\s+){{1,6}}{noun.capitalize()}\w*\b")


_NOT_KINDS = {"year", "date", "month", "time", "kind", "type", "role", "part", "thing", "ways", "area", "aspect"}


def definition(question: str) -> re.Pattern | None:
    """For "What is X?", a sentence that defines X: "X is ...", "... known as X", "... called X".

    >>> bool(definition("What is the Beijing Protocol?").search("a technique known as the “Beijing Protocol.”"))
    True
    """
    m = re.match(r"\s*what\s+(?:is|are|was|were)\s+(?:the\s+|a\s+|an\s+)?(.{2,60}?)\s*\??\s*$", question, re.I)
    if not m:
        return None
    x = r"\W{0,3}\s*".join(map(re.escape, m.group(1).split()))
    q = r"[“\"‘'(]?"
    return re.compile(rf"\b(known as|called|named|termed|dubbed)\s+(the\s+)?{q}{x}"
                      rf"|\b{x}\W{{0,3}}\s+(\([^)]*\)\s+)?(is|are|was|were|refers to|means)\b", re.I)


_FUTURE_Q = re.compile(r"\b(will|next|upcoming|future|plan(?:s|ned)? to|going to)\b", re.IGNORECASE)
_FUTURE_S = re.compile(r"\b(will|would|next|upcoming|future|plans?|planned|aims?|intends?|going to|forward|"
                       r"ahead|prospects?|to be held|shall)\b", re.IGNORECASE)


def tense_mismatch(question: str, sentence: str) -> bool:
    "A question about the future answered by a sentence that only reports the past."
    return bool(_FUTURE_Q.search(question)) and not _FUTURE_S.search(sentence)


def is_heading(sentence: str) -> bool:
    "A label, not a statement: no closing punctuation, short, not a list item."
    return (not sentence.rstrip("\"'”’)").endswith((".", "!", "?")) and len(sentence.split()) < 8
            and not _LIST_ITEM.match(sentence))


def _discrimination(term: str, pool: list[frozenset[str]]) -> float:
    """How well a question word tells the candidate sentences apart: a word in every candidate (the
    topic, e.g. "CSCO" when all candidates are about CSCO) says little about which one answers;
    a word in few (the focus, e.g. "chaired") says much. In (0, 1]."""
    n = len(pool)
    df = sum(term in p for p in pool)
    return math.log((n + 1) / (df + 0.5)) / math.log((n + 1) / 0.5) if n else 1.0


class ExtractiveGenerator(Generator):
    name = "extractive"

    @cached_property
    def retriever(self):
        from .retrieval import get_retriever

        return get_retriever(self.settings)

    def text(self, scored: Scored) -> str:
        s = self.retriever.snapshot.sentences[scored.sentence]
        return self.retriever.snapshot.docs[s.doc_id].text[s.start : s.end]

    def idf(self, term: str) -> float:
        vocab, idf = self.retriever.idf
        tid = vocab.get(term)
        return float(idf[tid]) if tid is not None else float(idf.max())

    def score(self, question: str, hits: Sequence[Hit]) -> list[Scored]:
        "Every sentence of the hits, best first."
        snap = self.retriever.snapshot
        qvec = self.retriever.embed_query(question)
        qterms = set(terms(question))
        pool = [frozenset(terms(snap.docs[s.doc_id].text[s.start : s.end]))
                for h in hits for s in map(snap.sentences.__getitem__, snap.para_sentences.get(h.key, ()))]
        qweight = {t: self.idf(t) * _discrimination(t, pool) for t in qterms}
        total = sum(qweight.values()) or 1.0
        want = answer_type(question)
        kind = named_kind(question)
        defines = definition(question)
        qnumbers = set(re.findall(r"\d+", question))
        top = hits[0].score if hits and hits[0].score > 0 else 1.0
        out, offset = [], 0
        for h_i, hit in enumerate(hits):
            rows = snap.para_sentences.get(hit.key, range(0))
            at = offset
            offset += len(rows)
            if not len(rows):
                continue
            dense = np.asarray(snap.sentence_vectors[rows.start : rows.stop]) @ qvec
            text = snap.docs[hit.doc_id].text
            pterms = set(terms(hit.text))
            context = sum(qweight[t] for t in qterms & pterms)
            para = max(hit.score, 0.0) / top
            # a number the question names ("in 2021") must be in the article that answers it
            factor = TYPE_PENALTY if qnumbers - set(re.findall(r"\d+", text)) else 1.0
            for j, row in enumerate(rows):
                s = snap.sentences[row]
                sentence = text[s.start : s.end]
                if is_heading(sentence):
                    continue
                sterms = pool[at + j]
                own = sum(qweight[t] for t in qterms & sterms)
                cover = (own + CONTEXT_WEIGHT * (context - own)) / total
                score = W_DENSE * float(dense[j]) + W_COVER * cover + W_PARA * para
                if (want is not None and not want.search(sentence)) or tense_mismatch(question, sentence):
                    score *= TYPE_PENALTY
                elif isinstance(want, _Pattern):
                    score += NAME_BONUS  # it states exactly what was asked, e.g. "... (CSCO)"
                if kind is not None and kind.search(sentence):
                    score += NAME_BONUS
                if defines is not None and defines.search(sentence):
                    score += NAME_BONUS
                out.append(Scored(score * factor, h_i, row, sterms))
        return sorted(out, key=lambda s: -s.score)

    def select(self, question: str, hits: Sequence[Hit]) -> list[Scored]:
        """The answer's sentences (in reading order per article), or [] to abstain.

        After the best sentence, others join when they score close to it and add a question word or
        another article. When the question asks for named things of a kind ("What two awards..."),
        and the best sentence names one, only sentences naming another join, at a lower bar: such
        lists are often spread over articles."""
        ranked = self.score(question, hits)
        if not ranked or ranked[0].score < self.settings.abstain_threshold:
            return []
        best = ranked[0]
        qterms = set(terms(question))
        kind = named_kind(question)
        snap = self.retriever.snapshot
        names = set(kind.findall(self.text(best))) if kind else set()
        chosen, covered = [best], set(best.terms) & qterms
        docs = {hits[best.hit].doc_id}
        for cand in ranked[1:]:
            if len(chosen) >= self.settings.max_answer_sentences:
                break
            new_names = set(kind.findall(self.text(cand))) - names if kind else set()
            bar = LIST_JOIN_RATIO if new_names else JOIN_RATIO
            if cand.score < bar * best.score:
                continue
            adds_terms = bool((cand.terms & qterms) - covered)
            new_doc = hits[cand.hit].doc_id not in docs
            if names and not new_names:
                continue  # a list answer: only another named item adds to it
            if not (adds_terms or new_doc or new_names):
                continue
            vecs = np.asarray(snap.sentence_vectors[[c.sentence for c in chosen]])
            if float((vecs @ np.asarray(snap.sentence_vectors[cand.sentence])).max()) > 0.92:
                continue  # a near-repeat of a chosen sentence
            chosen.append(cand)
            covered |= cand.terms & qterms
            docs.add(hits[cand.hit].doc_id)
            names |= new_names
        return sorted(chosen, key=lambda c: (c.hit, c.sentence))

    def stream(self, question: str, hits: Sequence[Hit], history: History = ()) -> Iterator[str]:
        chosen = self.select(question, hits)
        if not chosen:
            yield CANNOT_ANSWER
            return
        parts = [f"{self.text(c)} [{c.hit + 1}]" for c in chosen]
        for i, part in enumerate(parts):
            yield part if i == 0 else " " + part
