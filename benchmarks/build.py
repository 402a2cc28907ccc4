"""Index build throughput, retrieval quality and peak RSS for one embedding back-end.

    python -m benchmarks.build --backend onnx-int8 --work DIR --models DIR [--synthetic N]

In one process, each build into a fresh RAG_HOME under DIR (empty embedding cache; the exported
ONNX models symlinked from --models, so no build pays for an export):
  1. the seed articles, cold: the first build in the process pays the back-end's imports and model load
  2. recall@5 (hybrid and dense) on the eval set, with the query embedder this index asks for
  3. the seeds again, warm: imports and the runtime already loaded
  4. N synthetic paragraphs (seed sentences recombined, see corpus.py), warm
Peak RSS is the process's high-water mark after the builds.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .common import REPO, emit, load_questions, peak_rss_mb, recall_at_k
from .corpus import synthetic_paragraphs, write_articles


def fresh_home(work: Path, name: str, models: Path) -> Path:
    home = work / name
    (home / "cache").mkdir(parents=True)
    os.symlink(models, home / "models")
    return home


def build(seeds: Path, home: Path, backend: str):
    from rag.config import load_settings
    from rag.index import build_index

    settings = load_settings(seeds=(seeds,), home=home, build_backend=backend, llm_base_url="", llm_model="")
    report = build_index(settings, progress=False, warn=lambda m: None)
    row = {"paragraphs": report.paragraphs, "texts_embedded": report.embedded, "seconds": round(report.seconds, 2),
           "paragraphs_per_s": round(report.paragraphs / report.seconds, 1),
           "texts_per_s": round(report.embedded / report.seconds, 1)}
    return settings, row


def quality(settings) -> dict:
    from rag.retrieval import open_retriever

    retriever = open_retriever(settings)
    rows = load_questions(answerable_only=True)
    out = {}
    for mode in ("hybrid", "dense"):
        ranked = [[h.text for h in retriever.search(r["question"], 5, mode)] for r in rows]
        out[f"recall_at_5_{mode}"] = recall_at_k(rows, ranked, 5)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", required=True, choices=["torch", "onnx", "onnx-int8"])
    parser.add_argument("--work", type=Path, required=True, help="an empty folder for the homes")
    parser.add_argument("--models", type=Path, required=True, help="RAG_HOME/models of a built home")
    parser.add_argument("--synthetic", type=int, default=1000, help="synthetic paragraphs to build (0: none)")
    args = parser.parse_args()
    seeds = REPO / "seeds"
    settings, cold = build(seeds, fresh_home(args.work, "seeds-cold", args.models), args.backend)
    result = {"seeds_cold": cold, **quality(settings)}
    result["seeds_warm"] = build(seeds, fresh_home(args.work, "seeds-warm", args.models), args.backend)[1]
    if args.synthetic:
        corpus = args.work / "synthetic"
        write_articles(corpus, synthetic_paragraphs(args.synthetic))
        result["synthetic"] = build(corpus, fresh_home(args.work, "synthetic", args.models), args.backend)[1]
    result["build_peak_rss_mb"] = peak_rss_mb()
    emit(result)


if __name__ == "__main__":
    main()
