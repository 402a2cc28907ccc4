"""Shared helpers: timing statistics, the worker protocol, memory readings and the eval set.

Every measurement runs in a subprocess of its own (a worker: `python -m benchmarks.<name> ...`), so
the imports, caches and peak RSS of one never leak into another. A worker ends by printing one line
`RESULT {json}`; `run_worker` returns that dict, or {"error": "..."} when the worker failed.
Stdlib and numpy only: benchmarks/peer.py imports this module inside the peer's virtualenv.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "out"
LOGS = OUT / "logs"
QUESTIONS = REPO / "evals" / "questions.jsonl"
NA = "n/a (not available)"
LLM_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM_BASE_URL", "RAG_LLM_MODEL")


# --- timing ---------------------------------------------------------------------------------------


def stats_ms(seconds: list[float]) -> dict:
    "p50 and p95 in milliseconds of a list of durations in seconds."
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(p95, 2), "n": len(ms)}


def time_calls(fn: Callable, items: Iterable, *, rounds: int = 1, warmup: int = 3) -> list[float]:
    "Durations (s) of fn(item) for every item, `rounds` times, after `warmup` untimed calls."
    return time_interleaved({"fn": fn}, items, rounds=rounds, warmup=warmup)["fn"]


def time_interleaved(fns: dict[str, Callable], items: Iterable, *, rounds: int = 1,
                     warmup: int = 3) -> dict[str, list[float]]:
    """Durations (s) per function, the functions taking turns on each item, so that load from other
    processes on this shared machine weighs on all of them alike and their ratios stay fair."""
    items = list(items)
    for item in items[:warmup]:
        for fn in fns.values():
            fn(item)
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for item in items:
            for name, fn in fns.items():
                t = time.perf_counter()
                fn(item)
                out[name].append(time.perf_counter() - t)
    return out


# --- memory ---------------------------------------------------------------------------------------


def _status_mb(field: str, pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def peak_rss_mb(pid: int | str = "self") -> float:
    "Peak resident set size (VmHWM) of a process, in MB."
    return _status_mb("VmHWM", pid)


def rss_mb(pid: int | str = "self") -> float:
    return _status_mb("VmRSS", pid)


# --- workers --------------------------------------------------------------------------------------


def emit(result: dict) -> None:
    "A worker's last word: its result, as one JSON line on stdout."
    print("RESULT " + json.dumps(result), flush=True)


def bench_env(**extra: str) -> dict:
    "The environment for a worker: offline, no LLM endpoint (answers are extractive), plus `extra`."
    env = {k: v for k, v in os.environ.items() if k not in LLM_VARS}
    env |= {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONPATH", None)
    return env | {k: str(v) for k, v in extra.items()}


def run_worker(module: str, *args: str, env: dict | None = None, timeout: float = 3600,
               python: str = sys.executable, tag: str = "") -> dict:
    "Run `python -m benchmarks.<module> args...`; its log goes to benchmarks/out/logs/."
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{module}{'-' + tag if tag else ''}.log"
    cmd = [python, "-m", f"benchmarks.{module}", *args]
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=env or bench_env(), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        log.write_text(f"$ {' '.join(cmd)}\n(timed out after {timeout:.0f}s)\n{e.stdout or ''}{e.stderr or ''}")
        return {"error": f"timed out after {timeout:.0f}s"}
    log.write_text(f"$ {' '.join(cmd)}\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    last = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
    return {"error": f"{last[:200]} (log: {log.relative_to(REPO)})"}


# --- the eval set ---------------------------------------------------------------------------------


def load_questions(answerable_only: bool = False) -> list[dict]:
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    return [r for r in rows if r["answerable"] or not answerable_only]


def _norm(text: str) -> str:
    return " ".join(text.split())


def is_relevant(text: str, gold: list[str]) -> bool:
    "A retrieved paragraph is relevant when it holds one of the question's gold quotes verbatim."
    return any(_norm(g) in _norm(text) for g in gold)


def recall_at_k(questions: list[dict], ranked_texts: list[list[str]], k: int = 5) -> float:
    "Share of answerable questions with a relevant paragraph among the first k."
    pairs = [(q, texts) for q, texts in zip(questions, ranked_texts, strict=True) if q["answerable"]]
    hits = sum(any(is_relevant(t, q["gold"]) for t in texts[:k]) for q, texts in pairs)
    return round(hits / max(len(pairs), 1), 3)
