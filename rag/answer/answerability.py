"""Does the evidence answer the question, or is it only about the same topic?

Similarity alone cannot tell: "Where will the next workshop be held?" retrieves the paragraph about
the workshop, which is close in every way but one. So the judge looks at what an answer needs:

    specific_missing  the question's names, acronyms, numbers and years that neither the best
                      sentence, its paragraph nor its article title contains (typos forgiven)
    focus_missing     the IDF weight of question terms absent from the best sentence's paragraph
                      and title, as a share of all: the detail asked about ("budget", "born", "hotel")
    type_ok           the sentence holds the kind of answer asked for (a date for "when" ...)
    period_ok         it falls in the question's period ("in 2019")
    cover, context    weighted term coverage by the sentence, and by sentence + paragraph + title
    dense, score      the sentence's similarity to the question, and its combined score

A logistic model turns them into a probability. Its weights (WEIGHTS below) are fitted by
`rag eval --calibrate` on the eval set's calib split plus synthetic negatives made from the corpus
itself (rag/answer/synthetic.py): answerable questions with one name, year or number swapped for one
the article does not pair with it. The features are shares and similarities, not words, so the
model carries over to other corpora.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..text import terms, words
from ..types import Analysis, Corpus, Evidence
from .sentences import Candidate, candidates, in_period

FEATURES = ("bias", "names_missing_article", "names_missing_paragraph", "slot", "focus_missing",
            "focus_missing_article", "cover", "dense")
# Fitted by `rag eval --calibrate` (calib split + synthetic negatives); see evals/README.md.
WEIGHTS = {"bias": -2.0, "names_missing_article": -6.0, "names_missing_paragraph": -1.0, "slot": 2.0,
           "focus_missing": -1.0, "focus_missing_article": -3.0, "cover": 2.0, "dense": 4.0}
THRESHOLD = 0.5


@dataclass(frozen=True)
class Verdict:
    probability: float
    features: dict[str, float]
    missing: tuple[str, ...]  # names of the question the evidence lacks

    def answerable(self, threshold: float = THRESHOLD) -> bool:
        return self.probability >= threshold


def present(term: str, haystack: str, vocabulary: set[str]) -> bool:
    """Is a question's term in the (lower-cased) text? Exact or, for longer words, within one or two
    edits of a word of the text: a typo in a name should not hide it ("Beijng" is "Beijing")."""
    t = term.lower()
    if re.search(rf"(?<!\w){re.escape(t)}(?!\w)", haystack) or (len(t) > 3 and t in haystack):
        return True
    if len(t) < 5 or not t.isalpha():
        return False
    budget = 1 if len(t) < 8 else 2
    return any(abs(len(w) - len(t)) <= budget and _within(t, w, budget) for w in vocabulary)


def _within(a: str, b: str, budget: int) -> bool:
    "Levenshtein distance of a and b is at most budget (banded dynamic programming)."
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if min(cur) > budget:
            return False
        prev = cur
    return prev[-1] <= budget


def article_text(corpus: Corpus, doc_id: str) -> str:
    "An article's title and every paragraph, as one text."
    info = corpus.document(doc_id)
    return "\n".join([info.title] + [corpus.paragraph(doc_id, n).text for n in range(1, info.paragraphs + 1)])


def _missing(names: Sequence[str], text: str) -> list[str]:
    haystack = text.lower()
    vocabulary = set(words(haystack))
    return [n for n in names if not present(n, haystack, vocabulary)]


def _focus_missing(qterms: Sequence[str], idf: Sequence[float], text: str) -> float:
    "IDF-weighted share of the question's terms absent from the text."
    have = set(terms(text))
    return sum(w for t, w in zip(qterms, idf, strict=True) if t not in have) / (sum(idf) or 1.0)


def features(best: Candidate, analysis: Analysis, corpus: Corpus) -> tuple[dict[str, float], tuple[str, ...]]:
    """The judge's inputs for the sentence an answer would rest on, and the question's names its
    article lacks. Names are looked for in the whole article (the article about the 2024 meeting
    does not answer a question about the 2019 one), the question's other words in the paragraph and
    in the article (a question about the venue is not answered by an article that never says venue)."""
    hit = best.hit
    article = article_text(corpus, hit.doc_id)
    paragraph = f"{hit.title}\n{hit.text}"
    names = [n for n in analysis.specific if not re.fullmatch(r"\d{1,2}", n)]  # a day of a month is no name
    gone = _missing(names, article)
    qterms = [t for t in dict.fromkeys(analysis.terms) if t not in {x.lower() for x in names}]
    idf = corpus.idf(qterms)
    x = {"bias": 1.0,
         "names_missing_article": len(gone) / len(names) if names else 0.0,
         "names_missing_paragraph": len(_missing(names, paragraph)) / len(names) if names else 0.0,
         "slot": float(best.type_ok),
         "focus_missing": _focus_missing(qterms, idf, paragraph) if qterms else 0.0,
         "focus_missing_article": _focus_missing(qterms, idf, article) if qterms else 0.0,
         "cover": best.cover,
         "dense": best.dense}
    return x, tuple(gone)


def probability(x: dict[str, float], weights: dict[str, float] = WEIGHTS) -> float:
    z = sum(weights[f] * x[f] for f in FEATURES)
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def judged(evidence: Evidence, ranked: Sequence[Candidate] | None = None) -> Candidate | None:
    """The sentence an answer would rest on: the best candidate, and for a list the best one that
    holds the kind of answer asked for in the question's period."""
    ranked = candidates(evidence) if ranked is None else ranked
    if evidence.analysis.kind == "list":
        ranked = [c for c in ranked if c.type_ok and in_period(c, evidence.analysis.period)]
    return ranked[0] if ranked else None


def judge(best: Candidate, analysis: Analysis, corpus: Corpus) -> Verdict:
    x, missing = features(best, analysis, corpus)
    return Verdict(probability(x), x, missing)


def fit(rows: Sequence[dict[str, float]], labels: Sequence[int], weights: Sequence[float] | None = None,
        l2: float = 1.0, steps: int = 50) -> dict[str, float]:
    """Weighted logistic regression by Newton's method with an L2 penalty (not on the bias): small,
    exact, and needs nothing beyond numpy. Used by `rag eval --calibrate`."""
    import numpy as np

    x = np.array([[r[f] for f in FEATURES] for r in rows], dtype=float)
    y = np.asarray(labels, dtype=float)
    sw = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    w = np.zeros(len(FEATURES))
    penalty = np.full(len(FEATURES), l2)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -50, 50)))
        grad = x.T @ (sw * (p - y)) + penalty * w
        hess = (x * (sw * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return {f: round(float(v), 4) for f, v in zip(FEATURES, w, strict=True)}


def covers_subject(evidence: Evidence, doc_id: str) -> bool:
    """For summaries and questions about an article: is this article about what the question names?
    Its names must appear in the article, or without names, most of the subject's words."""
    a = evidence.analysis
    article = article_text(evidence.corpus, doc_id)
    names = [n for n in a.specific if not re.fullmatch(r"\d{1,2}", n)]
    if names:
        return len(_missing(names, article)) < len(names) / 2 or not _missing(names[:1], article)
    subject = set(terms(a.subject))
    return not subject or len(subject & set(terms(article))) >= len(subject) / 2
