"""Ray ingestion against the single-process build, on the same synthetic articles.

    python -m benchmarks.ray_ingest --paragraphs 1000

Writes the articles (recombined seed sentences, benchmarks/corpus.py), then builds a snapshot of
them twice, each in a fresh RAG_HOME with no embedding cache: `rag index` (one process, torch on
every core) and `rag index --ray` (a local Ray instance, one embedding actor per CPU). Reports wall
time and paragraphs/s of each (Ray's includes starting Ray and loading a model per actor), and
whether both snapshots give the same top 5 for the eval questions. Results: benchmarks/out/ray.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

from . import corpus
from .common import OUT, REPO, bench_env

SEARCH = """
import json, sys
from rag.config import load_settings
from rag.retrieval import open_retriever
r = open_retriever(load_settings())
qs = [json.loads(l)["question"] for l in open(sys.argv[1]) if l.strip()][:40]
print(json.dumps([[list(h.key) for h in r.search(q, 5)] for q in qs]))
"""


def build(home, seeds, ray: bool) -> dict:
    home.mkdir(parents=True)
    os.symlink(OUT / "home" / "models", home / "models")
    env = bench_env(RAG_HOME=home, RAG_SEEDS=seeds)
    cmd = [sys.executable, "-m", "rag.cli", "index", "-q"] + (["--ray"] if ray else [])
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    ranked = subprocess.run([sys.executable, "-c", SEARCH, str(REPO / "evals" / "questions.jsonl")], cwd=REPO,
                            env=env, capture_output=True, text=True, check=True).stdout
    return {"seconds": round(seconds, 1), "ranked": json.loads(ranked.strip().splitlines()[-1])}


def compare(paragraphs: int) -> dict:
    "Both builds over `paragraphs` synthetic paragraphs; the result also goes to benchmarks/out/ray.json."
    work = OUT / "ray-work"
    shutil.rmtree(work, ignore_errors=True)
    seeds = work / "articles"
    corpus.write_articles(seeds, corpus.synthetic_paragraphs(paragraphs, seed=11))
    from rag.config import load_settings
    from rag.embedding import ensure_onnx

    ensure_onnx(OUT / "home", load_settings().embedder)  # the ONNX query model both homes share
    plain = build(work / "plain", seeds, ray=False)
    ray = build(work / "ray", seeds, ray=True)
    shutil.rmtree(work, ignore_errors=True)
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "paragraphs": paragraphs,
              "cores": os.cpu_count()}
    for name, r in (("single process", plain), ("ray", ray)):
        result[name] = r if "error" in r else {"seconds": r["seconds"],
                                               "paragraphs_per_s": round(paragraphs / r["seconds"], 1)}
    if "error" not in plain and "error" not in ray:
        result["same_top5"] = f"{sum(a == b for a, b in zip(plain['ranked'], ray['ranked'], strict=True))}/{len(plain['ranked'])}"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ray.json").write_text(json.dumps(result, indent=1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paragraphs", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps(compare(args.paragraphs), indent=1))


if __name__ == "__main__":
    main()
