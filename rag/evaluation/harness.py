"""`rag eval`: run a question set against the configured collection, report, and gate the result
against a baseline when there is one.

By default (in a checkout) it runs the project's regression set, evals/questions.jsonl, gated by
evals/baseline.json; `--questions FILE` runs any set in the format of rag.evaluation.dataset, gated
only when `--baseline FILE` is given too. `--export FILE` writes each answer for LLM judges
(rag.evaluation.export).

For every question: retrieve with bm25, dense and hybrid (top 10 each, for the side-by-side
retrieval metrics), then `ask` with the run's back-end (extractive unless --backend says otherwise:
the gate needs the deterministic offline answers) and the run's retriever. A follow-up question
first asks its conversation's earlier questions and passes their answers on as history. Latency is
timed warm (the first call, which loads models, is excluded); every timing includes embedding the
question (nothing is cached between calls).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..config import Settings, load_settings
from ..errors import RagError
from ..pipeline import ask
from ..retrieval import open_retriever
from ..types import Answer
from . import calibrate, export, gate, report
from .dataset import SPLITS, Question, default_questions, load
from .metrics import find_gold, percentile
from .scoring import DEPTH, MODES, aggregate, score_question


@dataclass
class Run:
    split: str
    retriever: str
    k: int
    abstain_threshold: float
    corpus: list[str]
    records: list[dict]
    latency: dict[str, float | None]
    backend: str = "extractive"
    # Each question with its answer, in record order: what --export writes.
    answers: list[tuple[Question, Answer]] = field(default_factory=list, repr=False)
    started: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))

    @property
    def splits(self) -> tuple[str, ...]:
        "The splits this run has numbers for: all three when it ran every question."
        return SPLITS if self.split == "all" else (self.split,)

    def summary(self, split: str | None = None) -> dict:
        "Aggregate metrics over one split's questions (default: the run's split)."
        split = split or self.split
        return aggregate([r for r in self.records if split == "all" or r["split"] == split], self.retriever)


log = logging.getLogger(__name__)


def evaluate(settings: Settings, questions: list[Question], split: str = "all", backend: str = "extractive") -> Run:
    "Run every question; return the per-question records, answers, latency and run settings."
    # Builds or refreshes the index when needed, with a progress bar when progress is being shown.
    retriever = open_retriever(settings, progress=log.isEnabledFor(logging.INFO))
    store = retriever.store
    paragraphs = {(d.doc_id, n): store.paragraph(d.doc_id, n).text for d in store.documents()
                  for n in range(1, d.paragraphs + 1)}
    corpus = sorted(d.doc_id for d in store.documents())
    log.info("eval: %d questions (%s) over %d articles; back-end %s, retriever %s, k=%d, abstain_threshold=%s",
             len(questions), split, len(corpus), backend, settings.retriever, settings.k, settings.abstain_threshold)
    times: dict[str, list[float]] = {"retrieve": [], "ask": []}
    records, answers = [], []
    for q in questions:
        history = []
        for earlier in q.history:  # a conversation: its earlier turns, answered by the system itself
            history.append((earlier, ask(earlier, history, backend=backend, settings=settings, retriever=retriever)))
        t = time.perf_counter()
        answer = ask(q.question, history, backend=backend, settings=settings, retriever=retriever)
        times["ask"].append(time.perf_counter() - t)
        ranked = {}
        for mode in MODES:  # what was searched: a follow-up is scored on its standalone query
            t = time.perf_counter()
            hits = retriever.search(answer.query or q.question, DEPTH, mode)
            if mode == settings.retriever:
                times["retrieve"].append(time.perf_counter() - t)
            ranked[mode] = [h.key for h in hits]
        records.append(score_question(q, find_gold(q.gold, paragraphs), ranked, answer, settings.retriever, corpus))
        answers.append((q, answer))
    latency = {}
    for name, xs in times.items():
        warm = [x * 1000 for x in xs[1:]]
        latency[f"{name}_p50_ms"] = percentile(warm, 50)
        latency[f"{name}_p95_ms"] = percentile(warm, 95)
    return Run(split, settings.retriever, settings.k, settings.abstain_threshold, corpus, records, latency,
               backend, answers)


def report_dir(out: str | None, settings: Settings) -> Path:
    "--out, or a new RAG_HOME/eval/<timestamp>/."
    if out:
        path = Path(out).expanduser().resolve()
    else:
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        path = settings.home / "eval" / stamp
        n = 1
        while path.exists():
            n += 1
            path = settings.home / "eval" / f"{stamp}-{n}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _baseline_path(args, own_questions: bool) -> Path | None:
    "--baseline; else the project's evals/baseline.json for the project's set; else none (no gate)."
    if args.baseline:
        return Path(args.baseline).expanduser().resolve()
    if own_questions:
        if args.update_baseline:
            raise ValueError("--update-baseline with --questions needs --baseline FILE: the file to write")
        return None
    return gate.default_baseline()


def main(args) -> int:
    """The `rag eval` command (arguments parsed by rag.cli). Exit 0 when the gate passes (or there is
    no baseline to gate against, or the baseline was updated, or calibration ran), 1 when it fails."""
    overrides = {"retriever": args.retriever} if args.retriever else {}
    if args.k is not None:
        if args.k < 1:
            raise ValueError("-k must be at least 1")
        overrides["k"] = args.k
    settings = load_settings(**overrides)
    tolerance = gate.DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
    if not 0 <= tolerance < 1:
        raise ValueError(f"--tolerance must be in [0, 1), not {tolerance}")
    if args.questions:
        questions_path = Path(args.questions).expanduser().resolve()
        if not questions_path.is_file():
            raise ValueError(f"--questions {args.questions}: no such file")
    else:
        questions_path = default_questions()  # the project's set, in a checkout
    export_path = export.check_path(Path(args.export).expanduser().resolve()) if args.export else None
    if args.calibrate:
        if export_path or args.backend != "extractive":
            raise ValueError("--calibrate tunes the extractive back-end's threshold: it takes no --export or --backend")
        return calibrate.main(settings, report_dir(args.out, settings), questions_path)
    if args.update_baseline and args.split != "all":
        raise ValueError("--update-baseline needs --split all: the baseline holds every split's numbers")
    baseline_path = _baseline_path(args, own_questions=bool(args.questions))
    baseline = gate.load_baseline(baseline_path) if baseline_path else None
    if baseline_path and baseline is None and not args.update_baseline:
        raise RagError(f"no baseline at {baseline_path}; create one with: rag eval --update-baseline"
                       + (f" --baseline {baseline_path}" if args.baseline else ""))

    run = evaluate(settings, load(args.split, questions_path), args.split, args.backend)
    verdict = gate.compare(run, baseline, tolerance)
    out = report_dir(args.out, settings)
    report.write(out, run, baseline, verdict)
    print(report.console(run, baseline, verdict, out))
    if export_path:
        n = export.write(export_path, run.answers)
        log.info("Exported %d records (RAGAS / DeepEval fields) to %s", n, export_path)
    if args.update_baseline:
        gate.save_baseline(baseline_path, run)
        print(f"\nBaseline updated: {baseline_path} (commit it to accept these numbers).")
        return 0
    return 0 if verdict.ok else 1
