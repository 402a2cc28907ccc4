"""Warm query latency against the floor, and query latency under thread contention.

    python -m benchmarks.latency warm        retrieve and ask p50/p95 with the index loaded, the
                                             serving process's peak RSS, then the floor
    python -m benchmarks.latency contention  forward passes with 1 or 2 intra-op threads (2 also
                                             without spin-waiting), idle and with one busy process
                                             competing for the 2 cores

The floor is one bare onnxruntime forward pass of the embedder on a tokenised question (the cost no
pipeline can avoid), with the query embedder's own session options. Everything runs over the index
in $RAG_HOME; the questions are the eval set's, every one of them.
"""

from __future__ import annotations

import argparse
import inspect
import subprocess
import sys

from .common import NA, emit, load_questions, peak_rss_mb, recall_at_k, stats_ms, time_interleaved


def forward_fn(threads: int = 1, spinning: bool = True):
    """A bare forward pass on one question (tokenised beforehand, cached): with 1 thread and
    spinning, the query embedder's own session options (rag/embedding.py), i.e. the floor."""
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from rag.config import load_settings
    from rag.embedding import onnx_paths, resolve_model

    settings = load_settings()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(onnx_paths(settings.home, settings.embedder)[0]), options,
                                   providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(resolve_model(settings.embedder) / "tokenizer.json"))
    tokenizer.no_padding()  # tokenizer.json pads to 128; the query embedder pads to the longest only
    names = {i.name for i in session.get_inputs()}
    cache: dict[str, dict] = {}

    def feeds(text: str) -> dict:
        if text not in cache:
            ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
            f = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
            cache[text] = {k: v for k, v in f.items() if k in names}
        return cache[text]

    return lambda q: session.run(None, feeds(q))


def ask_fn():
    "rag.ask with the extractive back-end, or an error string while it does not exist."
    try:
        from rag import ask
    except ImportError as e:
        return f"{NA}: {e}"
    kwargs = {"backend": "extractive"} if "backend" in inspect.signature(ask).parameters else {}
    return lambda q: ask(q, **kwargs)


def warm(rounds: int) -> dict:
    from rag import retrieve

    rows = load_questions()
    questions = [r["question"] for r in rows]
    # rag keeps no query-vector cache (rag/retrieval.py): every call embeds its question anew.
    fns = {"retrieve": lambda q: retrieve(q, k=5), "retrieve_dense": lambda q: retrieve(q, k=5, mode="dense")}
    ask = ask_fn()
    if callable(ask):
        fns["ask"] = ask
    for q in questions:  # one untimed pass: every cache warm, and the serving process at its peak
        for fn in fns.values():
            fn(q)
    result = {f"recall_at_5{suffix}": recall_at_k(rows, [[h.text for h in fns[name](q)] for q in questions], 5)
              for name, suffix in (("retrieve", ""), ("retrieve_dense", "_dense"))}
    result["serving_peak_rss_mb"] = peak_rss_mb()  # before the floor's own ONNX session exists
    fns["floor"] = forward_fn()
    times = time_interleaved(fns, questions, rounds=rounds)
    result |= {name: stats_ms(t) for name, t in times.items()}
    if not callable(ask):
        result["ask"] = {"error": ask}
    return result


CONTENTION_VARIANTS = {"threads1": (1, True), "threads2": (2, True), "threads2_nospin": (2, False)}


def contention(rounds: int) -> dict:
    "Forward passes with each thread setting, idle and then beside one process spinning on a core."
    questions = [r["question"] for r in load_questions()]
    fns = {name: forward_fn(threads, spin) for name, (threads, spin) in CONTENTION_VARIANTS.items()}
    result = {}
    for load in ("idle", "busy"):
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load == "busy" else None
        try:
            times = time_interleaved(fns, questions, rounds=rounds, warmup=10)
        finally:
            if busy:
                busy.kill()
                busy.wait()
        result |= {f"{load}_{name}": stats_ms(t) for name, t in times.items()}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["warm", "contention"])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the eval questions")
    args = parser.parse_args()
    emit(warm(args.rounds) if args.what == "warm" else contention(args.rounds))


if __name__ == "__main__":
    main()
