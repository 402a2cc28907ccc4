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
from ..types import Analysis, Corpus
from .sentences import Candidate

FEATURES = ("bias", "specific_missing", "focus_missing", "type_ok", "period_ok", "cover", "context", "dense", "score")
# Fitted by `rag eval --calibrate` (calib split + synthetic negatives); see evals/README.md.
WEIGHTS = {"bias": -6.0, "specific_missing": -4.0, "focus_missing": -3.0, "type_ok": 1.5, "period_ok": 2.0,
           "cover": 2.0, "context": 2.0, "dense": 6.0, "score": 3.0}
THRESHOLD = 0.5


@dataclass(frozen=True)
class Verdict:
    probability: float
    features: dict[str, float]
    missing: tuple[str, ...]  # specific terms the evidence lacks

    def answerable(self, threshold: float = THRESHOLD) -> bool:
        return self.probability >= threshold


def present(term: str, haystack: str, vocabulary: set[str]) -> bool:
    """Is a question's term in the text? Exact (case-insensitive) or, for longer words, within one
    or two edits of a word of the text: a typo in a name should not hide it ("Beijng" is "Beijing")."""
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


def features(best: Candidate, analysis: Analysis, corpus: Corpus) -> tuple[dict[str, float], tuple[str, ...]]:
    "The judge's inputs for the best candidate sentence, and the specific terms it misses."
    hit = best.hit
    haystack = f"{hit.title}\n{hit.text}".lower()
    vocabulary = set(words(haystack))
    missing = tuple(t for t in analysis.specific if not present(t, haystack, vocabulary))
    specific_missing = len(missing) / len(analysis.specific) if analysis.specific else 0.0
    qterms = list(dict.fromkeys(analysis.terms))
    if qterms:
        have = set(terms(haystack))
        idf = corpus.idf(qterms)
        focus_missing = sum(w for t, w in zip(qterms, idf, strict=True) if t not in have) / (sum(idf) or 1.0)
    else:
        focus_missing = 0.0
    x = {"bias": 1.0, "specific_missing": specific_missing, "focus_missing": focus_missing,
         "type_ok": float(best.type_ok), "period_ok": float(best.period_ok), "cover": best.cover,
         "context": best.context, "dense": best.dense, "score": best.score}
    return x, missing


def probability(x: dict[str, float], weights: dict[str, float] = WEIGHTS) -> float:
    z = sum(weights[f] * x[f] for f in FEATURES)
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def judge(best: Candidate, analysis: Analysis, corpus: Corpus) -> Verdict:
    x, missing = features(best, analysis, corpus)
    return Verdict(probability(x), x, missing)


def fit(rows: Sequence[dict[str, float]], labels: Sequence[int], l2: float = 1.0, steps: int = 50) -> dict[str, float]:
    """Logistic regression by Newton's method with an L2 penalty (not on the bias): small, exact,
    and needs nothing beyond numpy. Used by `rag eval --calibrate`."""
    import numpy as np

    x = np.array([[r[f] for f in FEATURES] for r in rows], dtype=float)
    y = np.asarray(labels, dtype=float)
    w = np.zeros(len(FEATURES))
    penalty = np.full(len(FEATURES), l2)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -50, 50)))
        grad = x.T @ (p - y) + penalty * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return {f: round(float(v), 4) for f, v in zip(FEATURES, w, strict=True)}
