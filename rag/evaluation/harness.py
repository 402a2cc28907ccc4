"""`rag eval`: run the question set on the offline default and gate the result against the baseline.

For every question: retrieve with bm25, dense and hybrid (top 10 each, for the side-by-side
retrieval metrics), then `ask` with the extractive back-end and the run's retriever. Latency is
timed warm (the first call, which loads models, is excluded) and with the query-vector cache
cleared before each timed call, so every timing includes embedding the question.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..config import Settings, load_settings
from ..errors import RagError
from ..pipeline import ask
from ..retrieval import get_retriever, retrieve
from . import calibrate, gate, report
from .dataset import SPLITS, Question, load
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
    started: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))

    @property
    def splits(self) -> tuple[str, ...]:
        "The splits this run has numbers for: all three when it ran every question."
        return SPLITS if self.split == "all" else (self.split,)

    def summary(self, split: str | None = None) -> dict:
        "Aggregate metrics over one split's questions (default: the run's split)."
        split = split or self.split
        return aggregate([r for r in self.records if split == "all" or r["split"] == split], self.retriever)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _forget_query_vectors(settings: Settings) -> None:
    "Empty the retriever's query-vector cache, so a timed call embeds its question like a new one."
    cache = getattr(get_retriever(settings), "_qcache", None)
    if cache is not None:
        cache.clear()


def evaluate(settings: Settings, questions: list[Question], split: str = "all") -> Run:
    "Run every question; return the per-question records, latency and run settings."
    retriever = get_retriever(settings, progress=True)  # builds or refreshes the index when needed
    docs = retriever.snapshot.docs
    paragraphs = {(d.doc_id, p.number): p.text(d.text) for d in docs.values() for p in d.paragraphs}
    corpus = sorted(docs)
    _log(f"eval: {len(questions)} questions ({split}) over {len(corpus)} articles; "
         f"retriever {settings.retriever}, k={settings.k}, abstain_threshold={settings.abstain_threshold}")
    times: dict[str, list[float]] = {"retrieve": [], "ask": []}
    records = []
    for q in questions:
        ranked = {}
        for mode in MODES:
            _forget_query_vectors(settings)
            t = time.perf_counter()
            hits = retrieve(q.question, DEPTH, mode=mode, settings=settings)
            if mode == settings.retriever:
                times["retrieve"].append(time.perf_counter() - t)
            ranked[mode] = [h.key for h in hits]
        _forget_query_vectors(settings)
        t = time.perf_counter()
        answer = ask(q.question, backend="extractive", settings=settings)
        times["ask"].append(time.perf_counter() - t)
        records.append(score_question(q, find_gold(q.gold, paragraphs), ranked, answer, settings.retriever, corpus))
    latency = {}
    for name, xs in times.items():
        warm = [x * 1000 for x in xs[1:]]
        latency[f"{name}_p50_ms"] = percentile(warm, 50)
        latency[f"{name}_p95_ms"] = percentile(warm, 95)
    return Run(split, settings.retriever, settings.k, settings.abstain_threshold, corpus, records, latency)


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


def main(args) -> int:
    """The `rag eval` command (arguments parsed by rag.cli). Exit 0 when the gate passes (or the
    baseline was updated, or calibration ran), 1 when it fails."""
    overrides = {"retriever": args.retriever} if args.retriever else {}
    if args.k is not None:
        if args.k < 1:
            raise ValueError("-k must be at least 1")
        overrides["k"] = args.k
    settings = load_settings(**overrides)
    tolerance = gate.DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
    if not 0 <= tolerance < 1:
        raise ValueError(f"--tolerance must be in [0, 1), not {tolerance}")
    if args.calibrate:
        return calibrate.main(settings, report_dir(args.out, settings))
    if args.update_baseline and args.split != "all":
        raise ValueError("--update-baseline needs --split all: the baseline holds every split's numbers")
    baseline_path = Path(args.baseline).expanduser().resolve() if args.baseline else gate.default_baseline()
    if baseline_path is None:
        raise RagError("no baseline: pass one with --baseline FILE (the project's own, evals/baseline.json, "
                       "is only in a checkout of the repository)")
    baseline = gate.load_baseline(baseline_path)
    if baseline is None and not args.update_baseline:
        raise RagError(f"no baseline at {baseline_path}; create one with: rag eval --update-baseline")

    run = evaluate(settings, load(args.split), args.split)
    verdict = gate.compare(run, baseline, tolerance)
    out = report_dir(args.out, settings)
    report.write(out, run, baseline, verdict)
    print(report.console(run, baseline, verdict, out))
    if args.update_baseline:
        gate.save_baseline(baseline_path, run)
        print(f"\nBaseline updated: {baseline_path} (commit it to accept these numbers).")
        return 0
    return 0 if verdict.ok else 1
