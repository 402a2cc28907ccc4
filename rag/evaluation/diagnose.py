"""Why a target is missed: the failing questions of each metric, grouped by cause, with what would
close the gap. Causes are read off the records (where the gold ranked, what was cited, whether the
answer abstained), so the explanation follows the numbers as the back-end changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .scoring import METRICS, MODES

FIXES = {
    "not indexed": "index the missing article (RAG_SEEDS).",
    "other mode": "the gold is found by another retriever: re-weight the fusion toward it (Settings.rrf_k, "
                  "candidates) or answer with that retriever.",
    "no mode": "no retriever ranks the gold in the top 5 (the question's wording differs from the "
               "article's): query expansion, a stronger embedder, or a cross-encoder re-ranking the top 20.",
    "abstained": "the best sentence scored under Settings.abstain_threshold: re-calibrate it "
                 "(rag eval --calibrate) or score the answering sentence higher.",
    "not offered": "the gold paragraph was not among the paragraphs answered from: better retrieval or a "
                   "larger answer pool (Settings.k).",
    "other paragraph": "the answer was built from another paragraph: the sentence scorer should prefer "
                       "sentences with the asked-for answer type (a date, a number, a name) and more of the "
                       "question's words.",
    "fact missing": "the gold paragraph was cited but the chosen sentence(s) lack the fact: choose the "
                    "sentence holding the answer type, or join more sentences (max_answer_sentences) when a "
                    "question asks for several things.",
    "unsupported citation": "a citation fails the support judge (overlap ≥ 0.6 and every name and number "
                            "present): each sentence should cite only the paragraph it was taken from.",
    "out-of-domain": "an off-topic question still found a sentence over the threshold: raise "
                     "Settings.abstain_threshold (rag eval --calibrate).",
    "close-but-absent": "the topic matches but the detail asked for is absent: check that the best sentence "
                        "holds the asked-for answer type (an amount, a year, a count) before answering.",
    "injection": "an instruction, not a question about the articles: refuse instruction-like messages "
                 "before retrieval.",
}


@dataclass(frozen=True)
class Shortfall:
    metric: str
    value: float
    causes: dict[str, list[str]]  # cause -> question ids

    def markdown(self) -> str:
        m = METRICS[self.metric]
        lines = [f"- **{m.label}: {self.value:.3f}, target {m.target_text}.** "
                 f"Failing questions by cause:"]
        for cause, ids in self.causes.items():
            lines.append(f"  - *{cause}* ({len(ids)}: {', '.join(ids)}) — {FIXES.get(cause, '')}")
        return "\n".join(lines)


def _offered(r: dict) -> bool:
    return bool(set(r["answer"]["hits"]) & set(r["gold_passages"]))


def _retrieval_cause(r: dict, retriever: str) -> str:
    if r["missing_docs"]:
        return "not indexed"
    others = [md for md in MODES if md != retriever and r["retrieval"][md]["recall@5"] == 1.0]
    return "other mode" if others else "no mode"


def _answer_cause(r: dict) -> str:
    if r["answer"]["abstained"]:
        return "abstained"
    if "gold_citation" not in r["values"]:  # no gold quotes to tell where the answer should come from
        return "fact missing"
    if not _offered(r):
        return "not offered"
    if not r["values"]["gold_citation"]:
        return "other paragraph"
    return "fact missing"


def _unanswerable_cause(r: dict) -> str:
    return r.get("kind") or "answered"


def causes(metric: str, records: list[dict], retriever: str) -> dict[str, list[str]]:
    "The questions failing a metric, grouped by cause."
    answerable = [r for r in records if r["answerable"]]
    if metric == "recall@5":
        rows = [(r, _retrieval_cause(r, retriever)) for r in answerable if r["passed"].get("recall@5") is False]
    elif metric in ("key_fact_recall", "gold_citation"):
        flag = "key_facts" if metric == "key_fact_recall" else "gold_citation"
        rows = [(r, _answer_cause(r)) for r in answerable if r["passed"].get(flag) is False]
    elif metric == "abstention_accuracy":
        rows = [(r, _unanswerable_cause(r)) for r in records if not r["answerable"] and not r["passed"]["abstention"]]
    elif metric == "false_abstention":
        rows = [(r, "abstained") for r in answerable if r["answer"]["abstained"]]
    else:
        rows = []
    out: dict[str, list[str]] = {}
    for r, cause in rows:
        out.setdefault(cause, []).append(r["id"])
    return out


def shortfalls(summary: dict, records: list[dict], retriever: str) -> list[Shortfall]:
    "Every metric with a target it misses, explained."
    out = []
    for name, value in summary["metrics"].items():
        if METRICS[name].met(value) is False:
            out.append(Shortfall(name, value, causes(name, records, retriever)))
    return out
