"""Per-question scores and pass/fail flags, the aggregate metrics, and what each metric means.

A question's record is plain JSON. Its `passed` flags are the per-question form of the metrics:

    recall@5            every gold passage is in the top 5 of the run's retriever      (answerable)
    key_facts           every key fact is in the answer                                (answerable)
    gold_citation       some cited paragraph holds a gold quote                        (answerable)
    cited_gold_share    every citation points at a paragraph holding a gold quote      (answered answerable)
    abstention          abstained on an unanswerable question / answered an answerable one

`cited_gold_share` is the independent check of citations: each (sentence, citation) pair is judged
against the question's gold quotes, written by hand. The pipeline's own support judge
(rag.citations.check_support) is reported too, as `selfcheck_support`, named for what it is: it
cannot disagree with the pipeline that used it to drop sentences, so it is never a target.
Every metric is also reported per question kind (Question.kind).

A question passes when all its flags do. The gate compares flags with the baseline's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import metrics as m
from .dataset import Question

MODES = ("bm25", "dense", "hybrid")
DEPTH = 10  # retrieved per mode: enough for MRR@10 and nDCG@10


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    target: float | None = None
    higher_is_better: bool = True

    def met(self, value: float | None) -> bool | None:
        if self.target is None or value is None:
            return None
        return value >= self.target if self.higher_is_better else value <= self.target

    def drop(self, value: float | None, base: float | None) -> float:
        "How much worse than the baseline (positive = worse)."
        if value is None or base is None:
            return 0.0
        return base - value if self.higher_is_better else value - base

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "-"
        return f"{'≥' if self.higher_is_better else '≤'} {self.target:g}"


RETRIEVAL = (
    Metric("recall@1", "retrieval recall@1"),
    Metric("recall@5", "retrieval recall@5", 0.95),
    Metric("mrr@10", "retrieval MRR@10"),
    Metric("ndcg@10", "retrieval nDCG@10"),
)
ANSWER = (
    Metric("key_fact_recall", "key-fact recall", 0.93),
    Metric("gold_citation", "gold paragraph cited", 0.95),
    Metric("cited_gold_share", "citations that point at gold (independent)"),
    Metric("selfcheck_support", "self-check: citations the pipeline's own judge accepts"),
    Metric("abstention_accuracy", "abstention accuracy (unanswerable)", 0.85),
    Metric("false_abstention", "false-abstention rate (answerable)", 0.05, higher_is_better=False),
)
PER_KIND = ("key_fact_recall", "gold_citation", "abstention_accuracy", "false_abstention")
METRICS = {x.name: x for x in (*RETRIEVAL, *ANSWER)}


def key(k: tuple[str, int]) -> str:
    return f"{k[0]}:{k[1]}"


def retrieval_scores(ranked: Sequence[tuple[str, int]], gold: m.Gold) -> dict[str, float]:
    return {"recall@1": m.recall_at_k(ranked, gold, 1), "recall@5": m.recall_at_k(ranked, gold, 5),
            "mrr@10": m.mrr_at_k(ranked, gold, DEPTH), "ndcg@10": m.ndcg_at_k(ranked, gold, DEPTH)}


def score_question(q: Question, gold: m.Gold, ranked: dict[str, list[tuple[str, int]]], answer,
                   mode: str, corpus: Sequence[str]) -> dict:
    """The JSON record of one question: what was retrieved (per mode) and answered, its metric
    values and pass/fail flags. `answer` is a rag.Answer; `corpus` the indexed doc ids."""
    sources = {c.marker: c.text for c in answer.citations}
    cites = m.citation_score(answer.text, sources) if not answer.abstained else None
    gold_share = (sum(m.contains_any(c.text, q.gold) for c in answer.citations) / len(answer.citations)
                  if q.answerable and q.gold and not answer.abstained and answer.citations else None)
    values: dict[str, float | None] = {"abstained": float(answer.abstained)}
    passed: dict[str, bool] = {"abstention": answer.abstained != q.answerable}
    # A question is scored on what it is labelled with: gold quotes score retrieval and gold citations,
    # key facts score the answer text (a user's own set may carry either, both or neither).
    retrieval = {md: retrieval_scores(r, gold) for md, r in ranked.items()} if q.answerable and q.gold else {}
    if retrieval:
        values |= retrieval[mode]
        values["gold_citation"] = float(m.gold_cited(sources.values(), q.gold))
        passed |= {"recall@5": values["recall@5"] == 1.0, "gold_citation": bool(values["gold_citation"])}
    if q.answerable and q.key_facts:
        values["key_fact_recall"] = 0.0 if answer.abstained else m.key_fact_recall(answer.text, q.key_facts)
        passed["key_facts"] = values["key_fact_recall"] == 1.0
    if gold_share is not None:
        values["cited_gold_share"] = gold_share
        passed["cited_gold_share"] = gold_share > 0
    if cites is not None:
        values["selfcheck_support"] = cites.precision
    return {
        "id": q.id, "question": q.question, "history": list(q.history), "kind": q.kind, "split": q.split,
        "answerable": q.answerable, "query": answer.query,
        "critical": q.critical, "tags": list(q.tags), "doc_ids": list(q.doc_ids),
        "missing_docs": [d for d in q.doc_ids if d not in corpus],
        "gold_passages": sorted(key(k) for k in gold.passages),
        "retrieved": {md: [key(k) for k in r] for md, r in ranked.items()},
        "retrieval": retrieval,
        "answer": {
            "text": answer.text, "abstained": answer.abstained,
            "hits": [key(h.key) for h in answer.hits],  # the paragraphs the back-end answered from
            "citations": [{"marker": c.marker, "doc_id": c.doc_id, "paragraph": c.paragraph,
                           "supported": c.supported, "gold": m.contains_any(c.text, q.gold)}
                          for c in answer.citations],
        },
        "unsupported_sentences": list(cites.unsupported) if cites else [],
        "values": values,
        "passed": passed,
        "pass": all(passed.values()),
    }


def aggregate(records: Sequence[dict], mode: str) -> dict:
    """The headline metrics (retrieval for the run's retriever, answers) and retrieval per mode.

    Retrieval, key facts, gold citations and false abstention are averaged over answerable
    questions (retrieval and gold citations over those with gold quotes, key facts over those with
    key facts); citation shares over answers given; abstention accuracy over unanswerable."""
    answerable = [r for r in records if r["answerable"]]
    answered = [r for r in records if not r["answer"]["abstained"]]
    unanswerable = [r for r in records if not r["answerable"]]
    by_mode = {md: {x.name: m.mean(r["retrieval"][md][x.name] for r in answerable if md in r["retrieval"])
                    for x in RETRIEVAL} for md in MODES}
    values = {x.name: by_mode[mode][x.name] for x in RETRIEVAL} | {
        "key_fact_recall": m.mean(r["values"].get("key_fact_recall") for r in answerable),
        "gold_citation": m.mean(r["values"].get("gold_citation") for r in answerable),
        "cited_gold_share": m.mean(r["values"].get("cited_gold_share") for r in answered),
        "selfcheck_support": m.mean(r["values"].get("selfcheck_support") for r in answered),
        "abstention_accuracy": m.mean(r["values"]["abstained"] for r in unanswerable),
        "false_abstention": m.mean(r["values"]["abstained"] for r in answerable),
    }
    return {"metrics": values, "retrieval_by_mode": by_mode, "by_kind": by_kind(records),
            "counts": {"questions": len(records), "answerable": len(answerable),
                       "unanswerable": len(unanswerable), "answered": len(answered)}}


def by_kind(records: Sequence[dict]) -> dict[str, dict]:
    "Answer metrics per question kind, with the number of questions of each kind."
    out = {}
    for kind in dict.fromkeys(r.get("kind", "fact") for r in records):
        rs = [r for r in records if r.get("kind", "fact") == kind]
        yes = [r for r in rs if r["answerable"]]
        no = [r for r in rs if not r["answerable"]]
        out[kind] = {"questions": len(rs),
                     "key_fact_recall": m.mean(r["values"].get("key_fact_recall") for r in yes),
                     "gold_citation": m.mean(r["values"].get("gold_citation") for r in yes),
                     "abstention_accuracy": m.mean(r["values"]["abstained"] for r in no),
                     "false_abstention": m.mean(r["values"]["abstained"] for r in yes)}
    return out
