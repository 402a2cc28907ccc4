"""Per-question scores and pass/fail flags, the aggregate metrics, and what each metric means.

A question's record is plain JSON. Its `passed` flags are the per-question form of the metrics:

    recall@5            every gold passage is in the top 5 of the run's retriever      (answerable)
    key_facts           every key fact is in the answer                                (answerable)
    gold_citation       some cited paragraph holds a gold quote                        (answerable)
    citation_recall     every answer sentence is supported by one of its citations     (answered)
    citation_precision  every citation supports the sentence citing it                 (answered)
    abstention          abstained on an unanswerable question / answered an answerable one

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
    Metric("key_fact_recall", "key-fact recall", 0.9),
    Metric("gold_citation", "gold-citation rate", 0.9),
    Metric("citation_recall", "citation recall (ALCE)"),
    Metric("citation_precision", "citation precision (ALCE)", 0.9),
    Metric("abstention_accuracy", "abstention accuracy (unanswerable)", 0.9),
    Metric("false_abstention", "false-abstention rate (answerable)", 0.05, higher_is_better=False),
)
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
    values: dict[str, float | None] = {"abstained": float(answer.abstained)}
    passed: dict[str, bool] = {"abstention": answer.abstained != q.answerable}
    retrieval = {md: retrieval_scores(r, gold) for md, r in ranked.items()} if q.answerable else {}
    if q.answerable:
        values |= retrieval[mode]
        values["key_fact_recall"] = 0.0 if answer.abstained else m.key_fact_recall(answer.text, q.key_facts)
        values["gold_citation"] = float(m.gold_cited(sources.values(), q.gold))
        passed |= {"recall@5": values["recall@5"] == 1.0, "key_facts": values["key_fact_recall"] == 1.0,
                   "gold_citation": bool(values["gold_citation"])}
    if cites is not None:
        values |= {"citation_recall": cites.recall, "citation_precision": cites.precision}
        passed |= {"citation_recall": cites.recall == 1.0, "citation_precision": cites.precision == 1.0}
    return {
        "id": q.id, "question": q.question, "split": q.split, "answerable": q.answerable,
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
    questions; citation recall/precision over answers given; abstention accuracy over unanswerable."""
    answerable = [r for r in records if r["answerable"]]
    answered = [r for r in records if not r["answer"]["abstained"]]
    unanswerable = [r for r in records if not r["answerable"]]
    by_mode = {md: {x.name: m.mean(r["retrieval"][md][x.name] for r in answerable if md in r["retrieval"])
                    for x in RETRIEVAL} for md in MODES}
    values = {x.name: by_mode[mode][x.name] for x in RETRIEVAL} | {
        "key_fact_recall": m.mean(r["values"]["key_fact_recall"] for r in answerable),
        "gold_citation": m.mean(r["values"]["gold_citation"] for r in answerable),
        "citation_recall": m.mean(r["values"]["citation_recall"] for r in answered),
        "citation_precision": m.mean(r["values"]["citation_precision"] for r in answered),
        "abstention_accuracy": m.mean(r["values"]["abstained"] for r in unanswerable),
        "false_abstention": m.mean(r["values"]["abstained"] for r in answerable),
    }
    return {"metrics": values, "retrieval_by_mode": by_mode,
            "counts": {"questions": len(records), "answerable": len(answerable),
                       "unanswerable": len(unanswerable), "answered": len(answered)}}
