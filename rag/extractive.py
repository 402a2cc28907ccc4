"""The offline default back-end: answers with the retrieved paragraphs' own sentences.

Each sentence of the retrieved paragraphs is scored against the question by
  - dense similarity: its sentence vector (computed at index time) against the query vector;
  - coverage: the IDF-weighted share of the question's content words it contains;
  - answer type: a "when" question wants a date in the sentence, "how many" a number, ...;
  - the paragraph's retrieval rank, as a small prior.
The best sentence answers; up to two more join when they score close to it and add something (a
question word not yet covered, or another article - so "What two awards did Huang receive?" can
combine two articles). If even the best sentence is weak, the back-end abstains: the threshold
`Settings.abstain_threshold` is calibrated on the eval set's calib split (`rag eval --calibrate`).

Deterministic, and needs no model call beyond the query's vector (cached by the retriever).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .generation import CANNOT_ANSWER, Generator, History
from .text import terms, words
from .types import Hit

W_DENSE, W_COVER, W_RANK = 0.55, 0.45, 0.04
TYPE_PENALTY = 0.75  # score factor when the sentence lacks the kind of answer asked for
JOIN_RATIO = 0.8  # a further sentence must score at least this share of the best
MIN_WORDS = 4

_DATE = re.compile(
    r"\b(\d{4}|January|February|March|April|May|June|July|August|September|October|November|December)\b"
)
_NUMBERISH = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twenty|hundred|thousand|dozen)\b",
                        re.IGNORECASE)


@dataclass(frozen=True)
class Scored:
    score: float
    hit: int  # index into hits
    sentence: int  # index into the snapshot's sentence table
    terms: frozenset[str]


def answer_type(question: str) -> re.Pattern | None:
    "The kind of token an answer must contain, from the question's wh-phrase."
    q = " ".join(words(question)[:6])
    if re.search(r"\b(when|what year|which year|what date|which date|what day|which day|what month)\b", q):
        return _DATE
    if re.search(r"\b(how many|how much|how long|how old|what percentage|what share|what number|how often)\b", q):
        return _NUMBERISH
    return None


class ExtractiveGenerator(Generator):
    name = "extractive"

    @cached_property
    def retriever(self):
        from .retrieval import get_retriever

        return get_retriever(self.settings)

    @cached_property
    def _idf(self) -> tuple[dict[str, int], np.ndarray]:
        "IDF per term, from the BM25 index's document frequencies (no second pass over the corpus)."
        bm25 = self.retriever.snapshot.bm25
        indptr = np.asarray(bm25.scores["indptr"])
        df = np.diff(indptr)
        n = bm25.scores["num_docs"]
        return bm25.vocab_dict, np.log((n - df + 0.5) / (df + 0.5) + 1.0)

    def idf(self, term: str) -> float:
        vocab, idf = self._idf
        tid = vocab.get(term)
        return float(idf[tid]) if tid is not None else float(idf.max())

    def score(self, question: str, hits: Sequence[Hit]) -> list[Scored]:
        "Every sentence of the hits, best first."
        snap = self.retriever.snapshot
        qvec = self.retriever.embed_query(question)
        qterms = set(terms(question))
        qweight = {t: self.idf(t) for t in qterms}
        total = sum(qweight.values()) or 1.0
        want = answer_type(question)
        out = []
        for h_i, hit in enumerate(hits):
            rows = snap.para_sentences.get((hit.doc_id, hit.paragraph), range(0))
            if not len(rows):
                continue
            dense = np.asarray(snap.sentence_vectors[rows.start : rows.stop]) @ qvec
            text = snap.docs[hit.doc_id].text
            for j, row in enumerate(rows):
                s = snap.sentences[row]
                sentence = text[s.start : s.end]
                if len(sentence.split()) < MIN_WORDS:
                    continue
                sterms = frozenset(terms(sentence))
                cover = sum(qweight[t] for t in qterms & sterms) / total
                score = W_DENSE * float(dense[j]) + W_COVER * cover + W_RANK / (1 + h_i)
                if want is not None and not want.search(sentence):
                    score *= TYPE_PENALTY
                out.append(Scored(score, h_i, row, sterms))
        return sorted(out, key=lambda s: -s.score)

    def select(self, question: str, hits: Sequence[Hit]) -> list[Scored]:
        "The answer's sentences (in reading order per article), or [] to abstain."
        ranked = self.score(question, hits)
        if not ranked or ranked[0].score < self.settings.abstain_threshold:
            return []
        best = ranked[0]
        qterms = set(terms(question))
        chosen, covered = [best], set(best.terms) & qterms
        docs = {hits[best.hit].doc_id}
        snap = self.retriever.snapshot
        for cand in ranked[1:]:
            if len(chosen) >= self.settings.max_answer_sentences or cand.score < JOIN_RATIO * best.score:
                break
            adds_terms = bool((cand.terms & qterms) - covered)
            new_doc = hits[cand.hit].doc_id not in docs
            if not (adds_terms or new_doc):
                continue
            vecs = np.asarray(snap.sentence_vectors[[c.sentence for c in chosen]])
            if float((vecs @ np.asarray(snap.sentence_vectors[cand.sentence])).max()) > 0.92:
                continue  # a near-repeat of a chosen sentence
            chosen.append(cand)
            covered |= cand.terms & qterms
            docs.add(hits[cand.hit].doc_id)
        return sorted(chosen, key=lambda c: (c.hit, c.sentence))

    def stream(self, question: str, hits: Sequence[Hit], history: History = ()) -> Iterator[str]:
        chosen = self.select(question, hits)
        if not chosen:
            yield CANNOT_ANSWER
            return
        snap = self.retriever.snapshot
        parts = []
        for c in chosen:
            s = snap.sentences[c.sentence]
            parts.append(f"{snap.docs[s.doc_id].text[s.start : s.end]} [{c.hit + 1}]")
        for i, part in enumerate(parts):
            yield part if i == 0 else " " + part
