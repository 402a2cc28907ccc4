"""The peer, side by side: LlamaIndex over the same paragraphs, embedder and questions.

    python -m benchmarks.peer --input FILE   (inside benchmarks/.peer-venv) index the paragraphs in
                                             FILE, retrieve the top 5 for every eval question

LlamaIndex is no project dependency: `ensure_venv` installs it into benchmarks/.peer-venv, torch's
CPU wheel first (the machine's pip config serves it; otherwise pip would pull GBs of CUDA). The peer
is a `VectorStoreIndex` of one `TextNode` per paragraph (title as metadata, which LlamaIndex embeds
with the text, as we embed title + paragraph), with `HuggingFaceEmbedding` on the packaged model's
folder, queried through `as_retriever(similarity_top_k=5)`. Should LlamaIndex fail offline, the
reason is reported and a plain brute-force numpy + rank_bm25 hybrid runs in its place.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from .common import REPO, emit, load_questions, peak_rss_mb, recall_at_k, stats_ms, time_calls

VENV = REPO / "benchmarks" / ".peer-venv"
TORCH = "torch==2.13.0"
REQUIREMENTS = ["llama-index-core==0.14.25", "llama-index-embeddings-huggingface==0.8.0",
                "sentence-transformers==6.2.0", "rank-bm25==0.2.2"]


def ensure_venv() -> tuple[Path | None, str]:
    "(the peer's python, '') once installed, or (None, why not)."
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    want = "\n".join([TORCH, *REQUIREMENTS])
    if python.exists() and stamp.exists() and stamp.read_text() == want:
        return python, ""
    steps = [[sys.executable, "-m", "venv", str(VENV)],
             [str(python), "-m", "pip", "install", "-q", TORCH],
             [str(python), "-m", "pip", "install", "-q", *REQUIREMENTS]]
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if proc.returncode:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
            return None, f"`{' '.join(cmd[2:])}` failed: {tail[:200]}"
    stamp.write_text(want)
    return python, ""


def write_input(path: Path, settings) -> Path:
    "The seed paragraphs exactly as our index holds them, and the model folder, for the peer."
    from rag.embedding import resolve_model
    from rag.index import current_snapshot, load_snapshot

    snap = load_snapshot(current_snapshot(settings))
    paragraphs = [{"id": f"{d.doc_id}:{p.number}", "title": d.title, "text": p.text(d.text)}
                  for d in snap.docs.values() for p in d.paragraphs]
    path.write_text(json.dumps({"model": str(resolve_model(settings.embedder)), "paragraphs": paragraphs}))
    return path


# --- inside the peer's virtualenv -----------------------------------------------------------------


def llamaindex(paragraphs: list[dict], model: str):
    "(retrieve function returning paragraph texts, build seconds, import seconds)."
    t = time.perf_counter()
    from llama_index.core import VectorStoreIndex
    from llama_index.core.schema import TextNode
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    imported = time.perf_counter() - t
    t = time.perf_counter()
    embed = HuggingFaceEmbedding(model_name=model, device="cpu")
    nodes = [TextNode(id_=p["id"], text=p["text"], metadata={"title": p["title"]}) for p in paragraphs]
    retriever = VectorStoreIndex(nodes, embed_model=embed).as_retriever(similarity_top_k=5)
    built = time.perf_counter() - t
    return (lambda q: [n.node.get_content() for n in retriever.retrieve(q)]), built, imported


def numpy_bm25(paragraphs: list[dict], model: str):
    "The fallback peer: brute-force numpy cosine + rank_bm25, fused by RRF (k=60)."
    t = time.perf_counter()
    import numpy as np
    from rank_bm25 import BM25Okapi
    from sentence_transformers import SentenceTransformer

    imported = time.perf_counter() - t
    t = time.perf_counter()
    st = SentenceTransformer(model, device="cpu")
    texts = [f"{p['title']}\n{p['text']}" for p in paragraphs]
    matrix = st.encode(texts, normalize_embeddings=True)
    bm25 = BM25Okapi([t.lower().split() for t in texts])
    built = time.perf_counter() - t

    def search(q: str) -> list[str]:
        dense = np.argsort(-(matrix @ st.encode([q], normalize_embeddings=True)[0]))[:50]
        sparse = np.argsort(-bm25.get_scores(q.lower().split()))[:50]
        fused: dict[int, float] = {}
        for ranked in (dense, sparse):
            for rank, i in enumerate(ranked.tolist(), 1):
                fused[i] = fused.get(i, 0.0) + 1 / (60 + rank)
        return [paragraphs[i]["text"] for i in sorted(fused, key=lambda i: -fused[i])[:5]]

    return search, built, imported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    data = json.loads(args.input.read_text())
    result: dict = {}
    try:
        search, built, imported = llamaindex(data["paragraphs"], data["model"])
        result["peer"] = "LlamaIndex VectorStoreIndex + HuggingFaceEmbedding"
    except Exception as e:  # report exactly why, then compare against the plain baseline
        result["llamaindex_error"] = f"{type(e).__name__}: {e}"[:300]
        search, built, imported = numpy_bm25(data["paragraphs"], data["model"])
        result["peer"] = "brute-force numpy + rank_bm25 (RRF)"
    rows = load_questions()
    questions = [r["question"] for r in rows]
    result |= {"import_s": round(imported, 2), "index_s": round(built, 2),
               "recall_at_5": recall_at_k(rows, [search(q) for q in questions], 5),
               "retrieve": stats_ms(time_calls(search, questions, rounds=args.rounds)),
               "peak_rss_mb": peak_rss_mb()}
    emit(result)


if __name__ == "__main__":
    main()
