"""Metric functions: pure, on plain strings and keys, so each is unit-tested on tiny hand-made cases.

Retrieval is scored on gold passages: a paragraph is relevant when one of the question's gold quotes
(whitespace- and quote-normalised) is a substring of its text. Answers are scored on key facts (any
alternative, case-insensitive, in the answer text), on citing a gold paragraph, and on ALCE-style
citation recall/precision with the same offline support judge the pipeline uses
(rag.citations.check_support).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..citations import check_support, split_claims

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'",
                         "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"'})
_SPACE = re.compile(r"\s+")
_ADJACENT_MARKERS = re.compile(r"\]\s*\[(?=\d)")  # "[1][2]" -> "[1, 2]"

Key = tuple[str, int]  # (doc_id, paragraph number)


def normalise(text: str) -> str:
    "Curly quotes and apostrophes made straight, runs of whitespace made one space."
    return _SPACE.sub(" ", text.translate(_QUOTES)).strip()


def contains_any(text: str, quotes: Iterable[str]) -> bool:
    "Does the text hold one of the quotes (verbatim up to whitespace and quote style)?"
    t = normalise(text)
    return any(normalise(q) in t for q in quotes if q.strip())


@dataclass(frozen=True)
class Gold:
    passages: frozenset[Key]  # paragraphs of the corpus that hold a gold quote
    unmatched: int = 0  # quotes found in no paragraph (their article is not indexed): relevant, unretrievable

    @property
    def total(self) -> int:
        return len(self.passages) + self.unmatched


def find_gold(quotes: Sequence[str], paragraphs: Mapping[Key, str]) -> Gold:
    "The gold passages of a question: every paragraph holding one of its quotes."
    passages: set[Key] = set()
    unmatched = 0
    for q in quotes:
        found = {key for key, text in paragraphs.items() if contains_any(text, [q])}
        passages |= found
        unmatched += not found
    return Gold(frozenset(passages), unmatched)


def recall_at_k(ranked: Sequence[Key], gold: Gold, k: int) -> float:
    "Share of the gold passages among the first k retrieved."
    return len(set(ranked[:k]) & gold.passages) / gold.total if gold.total else 0.0


def mrr_at_k(ranked: Sequence[Key], gold: Gold, k: int = 10) -> float:
    "1 / rank of the first gold passage in the first k; 0 when none is there."
    return next((1.0 / r for r, key in enumerate(ranked[:k], 1) if key in gold.passages), 0.0)


def ndcg_at_k(ranked: Sequence[Key], gold: Gold, k: int = 10) -> float:
    "Binary-relevance nDCG: the ideal ranking puts every gold passage first."
    dcg = sum(1.0 / math.log2(r + 1) for r, key in enumerate(ranked[:k], 1) if key in gold.passages)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(gold.total, k) + 1))
    return dcg / ideal if ideal else 0.0


def fact_found(text: str, alternatives: Sequence[str]) -> bool:
    t = normalise(text).casefold()
    return any(normalise(a).casefold() in t for a in alternatives if a.strip())


def key_fact_recall(text: str, key_facts: Sequence[Sequence[str]]) -> float:
    "Share of the key facts stated in the answer (a fact counts if any of its alternatives appears)."
    if not key_facts:
        return 0.0
    return sum(fact_found(text, alts) for alts in key_facts) / len(key_facts)


def gold_cited(cited_paragraphs: Iterable[str], quotes: Sequence[str]) -> bool:
    "Does some cited paragraph hold a gold quote?"
    return any(contains_any(p, quotes) for p in cited_paragraphs)


@dataclass(frozen=True)
class CitationScore:
    recall: float  # share of the answer's sentences supported by at least one of their citations
    precision: float  # share of (sentence, citation) pairs where the citation supports the sentence
    unsupported: tuple[str, ...]  # sentences no citation of theirs supports


def citation_score(text: str, sources: Mapping[int, str]) -> CitationScore | None:
    """ALCE-style citation recall and precision of an answer whose sentences cite sources as [n].
    A marker with no source counts as a citation that supports nothing. None for an answer
    without sentences (an abstention).

    Adjacent markers are merged first: the validated answer format "sentence. [1][2]" otherwise
    loses its second marker in rag.citations.split_claims."""
    claims = split_claims(_ADJACENT_MARKERS.sub(", ", text))
    if not claims:
        return None
    supported_claims, pairs, good_pairs, unsupported = 0, 0, 0, []
    for claim in claims:
        verdicts = [m in sources and check_support(claim.text, sources[m]).supported
                    for m in dict.fromkeys(claim.markers)]
        pairs += len(verdicts)
        good_pairs += sum(verdicts)
        if any(verdicts):
            supported_claims += 1
        else:
            unsupported.append(claim.text)
    return CitationScore(supported_claims / len(claims), good_pairs / pairs if pairs else 0.0, tuple(unsupported))


def percentile(values: Sequence[float], p: float) -> float | None:
    "Linear-interpolated percentile (p in 0..100); None for no values."
    if not values:
        return None
    xs = sorted(values)
    at = (len(xs) - 1) * p / 100
    lo, hi = math.floor(at), math.ceil(at)
    return xs[lo] + (xs[hi] - xs[lo]) * (at - lo)


def mean(values: Iterable[float | None]) -> float | None:
    "Mean of the values that apply (None entries skipped); None when none apply."
    xs = [v for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None
