"""`rag eval --calibrate`: fit the answerability judge (rag/answer/answerability.py) on the calib split.

For every calib question the harness records the judge's features for the sentence the answer would
rest on, labelled by whether the question is answerable. Synthetic negatives join them: each
answerable calib question with a name, year or number is asked again with that term swapped for one
its article does not contain (rag/answer/synthetic.py), so the judge learns that a missing name or
year means "not answered" on any corpus, not only on the hand-written unanswerable questions.

A logistic regression is fitted on those rows; the test split is held out and reports what to
expect. Nothing is written to rag/: the report prints the weights to paste into
`answerability.WEIGHTS`, as the README explains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..answer import answerability, synthetic
from ..answer.analysis import analyse, split_instructions
from ..answer.conversation import context, turns
from ..answer.sentences import candidates
from ..config import Settings
from ..pipeline import ask
from ..retrieval import Retriever, open_retriever
from .dataset import Question, load


@dataclass(frozen=True)
class Sample:
    id: str
    split: str
    kind: str
    answerable: bool
    features: dict[str, float] | None  # None: the judge does not decide (an instruction-only message,
    # a summary, comparison or collection question, which check their subject instead)


def observe(retriever: Retriever, q: Question, question: str | None = None, history=()) -> dict[str, float] | None:
    "The judge's features for a question, over the evidence `ask` would gather."
    text, injection = split_instructions(question or q.question)
    if not text:
        return None
    query, ctx = context(text, turns(history))
    analysis = analyse(query, injection)
    if analysis.kind not in ("fact", "list"):
        return None  # summaries, comparisons and collection questions check their subject instead
    evidence = retriever.evidence(text, query, analysis, max(retriever.settings.k, 8), ctx)
    ranked = candidates(evidence)
    best = answerability.judged(evidence, ranked)
    if best is None:
        return None
    verdict = answerability.judge(best, analysis, evidence.corpus, ranked)
    return verdict.features | {"ruled_out": float(verdict.ruled_out)}


def samples(retriever: Retriever, questions: list[Question]) -> list[Sample]:
    out = []
    for q in questions:
        history = []
        for earlier in q.history:
            history.append((earlier, ask(earlier, history, backend="extractive", retriever=retriever)))
        out.append(Sample(q.id, q.split, q.kind, q.answerable, observe(retriever, q, history=history)))
        if q.answerable and q.split == "calib" and not q.history:
            for i, variant in enumerate(synthetic.negatives(q.question, q.doc_ids, retriever.store)):
                out.append(Sample(f"{q.id}~{i}", "synthetic", "synthetic", False, observe(retriever, q, variant)))
    return out


def balance(rows: list[Sample]) -> list[float]:
    """Sample weights: the synthetic negatives together count as much as the hand-written ones, and
    answerable and unanswerable rows count equally, so neither the generator's volume nor the
    split's mix decides the threshold."""
    real_no = sum(1 for s in rows if not s.answerable and s.split != "synthetic") or 1
    synthetic = sum(1 for s in rows if s.split == "synthetic") or 1
    raw = [real_no / synthetic if s.split == "synthetic" else 1.0 for s in rows]
    yes = sum(w for w, s in zip(raw, rows, strict=True) if s.answerable) or 1.0
    no = sum(w for w, s in zip(raw, rows, strict=True) if not s.answerable) or 1.0
    return [w * (no / yes if s.answerable else 1.0) for w, s in zip(raw, rows, strict=True)]


def rates(rows: list[Sample], weights: dict[str, float], threshold: float) -> dict[str, float | None]:
    "Abstention accuracy on unanswerable and false abstention on answerable, as the judge predicts them."
    def abstains(s: Sample) -> bool:
        return bool(s.features["ruled_out"]) or answerability.probability(s.features, weights) < threshold
    no = [abstains(s) for s in rows if not s.answerable and s.features is not None]
    yes = [abstains(s) for s in rows if s.answerable and s.features is not None]
    return {"abstention_accuracy": sum(no) / len(no) if no else None,
            "false_abstention": sum(yes) / len(yes) if yes else None, "questions": len(rows)}


FALSE_ABSTENTION_COST = 1.5  # an answerable question refused costs more than an unanswerable one answered


def choose(rows: list[Sample], weights: dict[str, float]) -> float:
    """The probability threshold that maximises abstention accuracy minus 1.5 times the false-abstention
    rate on these rows: refusing a question the articles answer is the worse mistake for a reader."""
    def value(t: float) -> float:
        r = rates(rows, weights, t)
        return (r["abstention_accuracy"] or 0.0) - FALSE_ABSTENTION_COST * (r["false_abstention"] or 0.0)
    return max((round(0.2 + 0.05 * i, 2) for i in range(9)), key=value)


def main(settings: Settings, out: Path, questions_path: Path | None = None) -> int:
    questions = load("all", questions_path)
    calib = [q for q in questions if q.split == "calib"]
    if len({q.answerable for q in calib}) < 2:
        raise ValueError("--calibrate needs answerable and unanswerable questions in the calib split "
                         "(\"split\": \"calib\") to fit the answerability judge on")
    retriever = open_retriever(settings, progress=True)
    rows = samples(retriever, questions)
    # The model decides only what the rules leave open, so it is fitted on those rows.
    train = [s for s in rows if s.split in ("calib", "synthetic") and s.features is not None
             and not s.features["ruled_out"]]
    weights = answerability.fit([s.features for s in train], [int(s.answerable) for s in train], balance(train), l2=0.1)
    calib = [s for s in rows if s.split == "calib"]
    t = choose(calib, weights)
    report = {"weights": weights, "threshold": t, "current_threshold": settings.abstain_threshold,
              "current": {sp: rates([s for s in rows if s.split == sp], answerability.WEIGHTS, settings.abstain_threshold)
                          for sp in ("calib", "synthetic", "test")},
              "fitted": {sp: rates([s for s in rows if s.split == sp], weights, t) for sp in ("calib", "synthetic", "test")}}
    (out / "calibration.json").write_text(json.dumps(report | {"samples": [s.__dict__ for s in rows]}, indent=1),
                                          encoding="utf-8")
    lines = [f"# Answerability calibration (retriever {settings.retriever})", "",
             f"Fitted on {len(train)} rows: the calib split and its synthetic negatives; the test split is held out.",
             "", "| weights | split | abstention accuracy | false abstention | questions |", "|---|---|---|---|---|"]
    for name in ("current", "fitted"):
        for sp, r in report[name].items():
            f = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
            lines.append(f"| {name} | {sp} | {f(r['abstention_accuracy'])} | {f(r['false_abstention'])} | {r['questions']} |")
    lines += ["", f"Fitted weights and threshold (paste into rag/answer/answerability.py WEIGHTS and "
              f"Settings.abstain_threshold to use them; chosen threshold {t:g}):", "", f"WEIGHTS = {json.dumps(weights)}"]
    (out / "calibration.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"\nReport: {out}/calibration.md")
    return 0
