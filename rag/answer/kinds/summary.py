"""Summaries ("Summarize the article about X", "Give me an overview of X"): 3-6 cited sentences chosen
for coverage, in reading order.

The article is the one whose passages rank best for the question. Its sentences are scored by
centrality (similarity to the article's mean sentence vector), relevance to the question, and
position (news puts the essentials first), then picked by maximal marginal relevance so each new
sentence adds what the chosen ones do not say. A question that names no article and whose passages
spread over several articles gets a topic summary over those passages instead.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from ...config import Settings
from ...generation import Reply
from ...text import terms
from ...types import Evidence, Hit
from ..answerability import covers_subject, lacks, name_runs, question_names
from ..compose import abstain, lead, reading_order, reply
from ..sentences import candidates, is_heading, is_list_item
from ..slots import is_name_of_person
from .fact import answer as fact_answer
from .fact import schedule_day

W_CENTRAL, W_RELEVANT, W_POSITION, W_INFO = 0.5, 0.3, 0.2, 0.3
W_TOPIC = 1.0  # relevance weight when the question asks about a part of the article
PART_SHARE = 0.5  # of the most relevant sentence's relevance, for a sentence to be about the part asked for
NAMED_PART_SHARE = 0.9  # ... outside the paragraphs that name the part in the question's words
PARAGRAPH_SHARE = 0.6  # of its paragraph's most relevant sentence's, a sentence of a part's summary has at least
TOPIC_TERMS = 2  # question terms beyond the article's title and lead that make it ask about a part
# a credit line, not a statement of the article: "Source: ...", "Photo: ...", "Editor: ..."
_CREDIT = re.compile(r"^\s*(?:(?:source|photo|image|editor|reporter|statement|by|credit|written by)s?\s*[:：]"
                     r"|\(?\s*(?:contributed|written|reported|edited|translated) by\b)", re.I)
LEADS = 2  # articles whose leads open a summary across articles
MMR_LAMBDA = 0.6  # weight of a sentence's own score against its similarity to those already chosen
# A sentence this close (cosine) to one chosen says it again: a news story restates its lead in the body
# ("X and Y signed the memorandum ..." twice, 0.91), and a summary that says a thing twice says less.
RESTATES = 0.85
MAX_PARAGRAPHS = 80  # an article longer than this is summarised from its beginning
MIN_WORDS = 6  # shorter sentences are captions or labels, not statements
# one article named as such ("the report on ...", "the story about ..."); "What do the articles tell us
# about X?" asks across them
ARTICLE_WORDS = re.compile(r"\b(?:article|story|report|piece|item|document|text|file|paper)\b", re.I)
ARTICLES = re.compile(r"\b(?:articles|stories|reports|pieces|items|documents)\b", re.I)
# the words for the telling ("the report on X", "what the article says about Y"), which name no part of it
_TELLING = frozenset(terms("article articles story stories report reports reported piece pieces item items document "
                           "text file paper collection say says said tell tells told write writes wrote mention mentions"))
# "Summarize what the article says about X": the part of the article about X, not the whole article
_PART = re.compile(r"\bwhat\b.{0,40}\b(?:says?|said|tells?|told|reports?|reported|writes?|wrote|mentions?)\s+(?:about|on|of)\b", re.I)


# A summary grows with its article, to six sentences: a long report (a ten-day programme, a profile
# with a record of awards) states more that a reader asks of its summary than five sentences hold.
def size(n_sentences: int) -> int:
    """Sentences in the summary of an article of n_sentences statements.

    >>> [size(n) for n in (5, 10, 20, 60)]
    [3, 4, 5, 6]
    """
    return 3 if n_sentences <= 5 else 4 if n_sentences <= 10 else 5 if n_sentences <= 20 else 6


# What a reader of a summary wants to learn: who, when, where, how many. Sentences stating dates,
# numbers and names carry them; a sentence of general praise carries none.
_SPECIFIC = re.compile(r"\b\d[\d,.]*\b|\b[A-Z][a-z’'\-]+(?:\s+[A-Z][a-z’'\-]+)+")


def informative(text: str) -> float:
    "Share of a sentence's words that state specifics (numbers, dates, multi-word names), 0..1."
    words = len(text.split()) or 1
    return min(1.0, sum(len(m.group().split()) for m in _SPECIFIC.finditer(text)) / words)


def mmr(scores: np.ndarray, vectors: np.ndarray, k: int) -> list[int]:
    """Up to k indexes, each the best score less its closeness to those chosen; never one scored -inf,
    nor one restating a chosen one.

    >>> mmr(np.array([0.9, -np.inf, 0.5]), np.eye(3), 3)
    [0, 2]
    >>> mmr(np.array([0.9, 0.8, 0.5]), np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0]]), 3)
    [0, 2]
    """
    chosen: list[int] = []
    while len(chosen) < min(k, len(scores)):
        sim = (vectors @ vectors[chosen].T).max(axis=1) if chosen else np.zeros(len(scores))
        value = MMR_LAMBDA * scores - (1 - MMR_LAMBDA) * sim
        value[chosen] = -np.inf
        value[sim >= RESTATES] = -np.inf
        best = int(np.argmax(value))
        if value[best] == -np.inf:  # none left to choose (a part's summary rules sentences out)
            break
        chosen.append(best)
    return chosen


def answer(evidence: Evidence, settings: Settings) -> Reply:
    day = schedule_day(evidence)
    if day is not evidence:
        # "Walk me through the first day of the workshop": that day's account, from its day heading on
        return fact_answer(day, settings)
    weight: dict[str, float] = {}
    for h in evidence.hits:
        weight[h.doc_id] = weight.get(h.doc_id, 0.0) + h.score
    ranked = sorted(weight.items(), key=lambda kv: -kv[1])
    # the best-ranked article about what the question names: "the report on X's CIBMTR honour" is
    # the one naming the CIBMTR, though an article about X alone may rank first
    top = [kv for kv in ranked if covers_subject(evidence, kv[0])]
    # ... and of those, the one naming most of what the question names ("the article about Huang
    # Xiaojun and CIBMTR" is the one naming both, not one about Huang alone that ranks higher)
    names = question_names(evidence.analysis)
    top.sort(key=lambda kv: len(lacks(evidence.corpus, kv[0], names)) if names else 0)
    if not top:
        topic = evidence.analysis.subject or "that"
        return abstain(evidence, evidence.hits[:1], what=f"None of the articles is about {topic}.")
    names_article = bool(ARTICLE_WORDS.search(evidence.question))
    person = any(is_name_of_person(run) for run in name_runs(evidence.question, names))
    # "What do the articles say about Huang?" asks about him across every article naming him, however
    # much one of them dominates (a topic one article covers is that article's part about it, below)
    across = person and bool(ARTICLES.search(evidence.question))
    if names_article or len(top) == 1 or top[0][1] >= 1.5 * top[1][1] and not across:
        return _article(evidence, top[0][0])
    # from the articles about the subject (not another's "Dr. Jun Shi" for Jun Ma), statements only
    # (a label introducing a list, "He serves as:", says nothing without the list)
    about = {d for d, _ in top}
    pool = [c for c in candidates(evidence) if c.hit.doc_id in about and not is_heading(c.text)][:15]
    # about a person, each article's lead first ("What do the articles tell us about Huang?": the two
    # awards they report, news about him), then the passages most about him, for coverage
    leads = [lead(evidence, d) for d, _ in top[:LEADS]] if person else []
    pool = [c for c in pool if c.text not in {text for _, text in leads}]
    picked = mmr(np.array([c.score for c in pool]), np.stack([c.vec for c in pool]), 4 - len(leads)) if pool else []
    return reply([*leads, *((c.hit, c.text) for c in reading_order(pool[i] for i in picked))])


def _article(evidence: Evidence, doc_id: str) -> Reply:
    said = essentials(evidence, doc_id)
    return reply(said) if said else abstain(evidence, [evidence.corpus.paragraph(doc_id, 1)])


def essentials(evidence: Evidence, doc_id: str) -> list[tuple[Hit, str]]:
    "An article's summary: 3-6 of its statements, chosen for coverage (or, for a part asked about, that part's)."
    corpus = evidence.corpus
    info = corpus.document(doc_id)
    hits: list[Hit] = [corpus.paragraph(doc_id, n) for n in range(1, min(info.paragraphs, MAX_PARAGRAPHS) + 1)]
    per_para, vectors = corpus.sentences([h.key for h in hits])
    # "Summarize the article about X" wants the article's essentials; "Sum up what Jun Ma said about
    # where the field should go" names more than the article's opening does: that part of the article
    lead_terms = set(terms(f"{hits[0].title}\n{hits[0].text}"))
    # (the words for the telling, "the report on X", "what the article says", name no part)
    part = [t for t in dict.fromkeys(evidence.analysis.terms) if t not in lead_terms and t not in _TELLING]
    # ... and so does one naming what the opening does not ("Tell me about CNCT19", a product one
    # paragraph of the workshop's report names): the sentences about it
    unnamed = set(part) & set(terms(" ".join(question_names(evidence.analysis))))
    topical = len(part) >= TOPIC_TERMS or bool(unnamed) or bool(_PART.search(evidence.question))
    rows, keep = [], []
    seen: set[str] = set()  # a sentence the article states twice (a standfirst repeated in the body) is said once
    at = 0
    for hit, sents in zip(hits, per_para, strict=True):
        for s in sents:
            text = hit.text[s.start - hit.start : s.end - hit.start]
            plain = " ".join(text.split())
            # statements only: not a heading, a bulleted label ("• Vice Chair, ..."), a "Source: ..." line
            # (an item of a list is one for a part: "challenges remain: 1. Insufficient development of ...")
            if not is_heading(text) and len(text.split()) >= MIN_WORDS and (topical or not is_list_item(text)) \
                    and text.rstrip("\"'”’)»").endswith((".", "!", "?")) and not _CREDIT.match(text) \
                    and plain not in seen:
                rows.append((hit, text, s.start))
                keep.append(at)
                seen.add(plain)
            at += 1
    if not rows:
        return []
    v = vectors[keep]
    centroid = v.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    position = 1.0 - np.arange(len(rows)) / len(rows)
    info = np.array([informative(r[1]) for r in rows])
    # relevance as answering scores it (similarity, the question's words and names), so "Sum up what
    # Jun Ma said about where the field should go" leans to those sentences of the article; for a
    # part, by the words that name the part: those naming the article ("the Tianjin workshop's
    # closing day") are in every sentence's article and tell none apart
    view = replace(evidence.analysis, terms=tuple(part), specific=()) if topical and part else None
    scored = {(c.hit.key, c.sentence.start): c.score for c in candidates(evidence, hits, view)}
    relevant = np.array([scored.get((r[0].key, r[2]), 0.0) for r in rows])
    relevant /= relevant.max() or 1.0
    if topical:
        # a paragraph is about what its best sentence is about: "The program achieved significant results
        # in international cooperation. During the training, the institute ... reached agreements."
        best_in = {}
        for r, x in zip(rows, relevant, strict=True):
            best_in[r[0].key] = max(best_in.get(r[0].key, 0.0), float(x))
        relevant = np.maximum(relevant, PARAGRAPH_SHARE * np.array([best_in[r[0].key] for r in rows]))
        # ... and where the article names the part in its own words ("However, challenges remain: 1.
        # Insufficient development of innovative drugs ..." for "the challenges ahead"), even in a label
        # that is no statement, the paragraphs naming it are the part; the others only by a sentence
        # as relevant as the best
        # (by its common words, not names: "the Xinhua report" names its source, which a credit line states)
        names = set(terms(" ".join(evidence.analysis.specific)))
        told = [t for t in part if t not in names]
        idf = dict(zip(told, corpus.idf(told), strict=True))
        stated = {h.key: set(terms(h.text)) for h in hits}
        named = {k: sum(w for t, w in idf.items() if t in ws) for k, ws in stated.items()}
        if (most := max(named.values(), default=0.0)) > 0:
            share = np.array([named[r[0].key] / most for r in rows])
            relevant = np.where(share >= PART_SHARE, np.maximum(relevant, PARAGRAPH_SHARE * share),
                                np.where(relevant < NAMED_PART_SHARE, 0.0, relevant))
    w_relevant = W_TOPIC if topical else W_RELEVANT
    scores = W_CENTRAL * (v @ centroid) + w_relevant * relevant + W_POSITION * position + W_INFO * info
    if topical:  # a part's summary is made of the sentences about that part, however central the others
        scores[relevant < PART_SHARE] = -np.inf
    picked = mmr(scores, v, size(len(rows)))
    if not topical:  # the lead states what happened, when and where: an article's summary starts from it
        picked = sorted({0, *picked})[: size(len(rows))]
    return [(rows[i][0], rows[i][1]) for i in sorted(picked)]
