"""Scale: FAISS index types, BM25 and a whole 1M-paragraph snapshot (run.py --scale).

    python -m benchmarks.scale ann --n N --work DIR        build every rag.ann index type over N
                                                           clustered vectors; probe each in a fresh
                                                           process
    python -m benchmarks.scale ann-probe --index F --truth F
                                                           open F (memory-mapped, rag.ann.read),
                                                           p50 of single-query searches, recall@10
                                                           against exact search, RSS
    python -m benchmarks.scale bm25 --n N --work DIR       bm25s over N recombined seed paragraphs,
                                                           tokenised as rag/index.py does
    python -m benchmarks.scale bm25-probe --index DIR      open with mmap, query p50, RSS
    python -m benchmarks.scale snapshot --n N --work DIR --models DIR
                                                           a real rag snapshot of N paragraphs, written
                                                           by rag.index with synthetic vectors in place
                                                           of embeddings (embedding 1M paragraphs takes
                                                           hours here)
    python -m benchmarks.scale snapshot-probe --home DIR   open it and serve the eval questions through
                                                           rag.retrieval.Retriever: open time, retrieve
                                                           p50/p95, serving peak RSS; then
                                                           benchmarks/stores.py's probe on it: hybrid
                                                           p50/p95 and recall@10 against exact

Every probe runs in a fresh process, so its RSS is the serving cost alone.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import time
from pathlib import Path

import numpy as np

from . import corpus
from .common import emit, load_questions, peak_rss_mb, rss_mb, run_worker, stats_ms, time_calls

ANN_TYPES = ("flat", "hnsw", "ivf", "ivf-sq8", "ivf-pq")
QUERIES = 200


# --- FAISS ----------------------------------------------------------------------------------------


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    "Ground truth: exact inner-product top-k ids, by blocks of the corpus."
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(vectors), 200_000):
        s = queries @ vectors[start : start + 200_000].T
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        cand_s = np.concatenate([best_s, np.take_along_axis(s, top, 1)], 1)
        cand_i = np.concatenate([best_i, top + start], 1)
        order = np.argsort(-cand_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(cand_s, order, 1), np.take_along_axis(cand_i, order, 1)
    return best_i


def ann(n: int, work: Path, types: tuple[str, ...]) -> dict:
    from rag import ann as rag_ann

    work.mkdir(parents=True, exist_ok=True)
    vectors = corpus.clustered_vectors(n, seed=0)
    queries = corpus.clustered_vectors(QUERIES, seed=1)
    truth = work / "truth.npz"
    np.savez(truth, queries=queries, ids=exact_top(vectors, queries))
    out = {}
    for kind in types:
        t = time.perf_counter()
        index = rag_ann.build(vectors, kind)
        built = time.perf_counter() - t
        path = work / f"{kind}.faiss"
        rag_ann.write(index, path)
        del index
        row = {"build_s": round(built, 2), "file_mb": round(path.stat().st_size / 2**20, 1)}
        row |= run_worker("scale", "ann-probe", "--index", str(path), "--truth", str(truth), tag=f"{kind}-{n}")
        out[kind] = row
        path.unlink()
    return out


def ann_probe(index_file: Path, truth_file: Path) -> dict:
    from rag import ann as rag_ann

    with np.load(truth_file) as z:
        queries, truth = z["queries"], z["ids"]
    base = rss_mb()
    t = time.perf_counter()
    index = rag_ann.read(index_file)
    opened = time.perf_counter() - t
    found = [rag_ann.search(index, q, 10)[1] for q in queries]  # untimed pass: pages in, as when serving
    recall = np.mean([len(set(f.tolist()) & set(g.tolist())) / 10 for f, g in zip(found, truth, strict=True)])
    lat = stats_ms(time_calls(lambda q: rag_ann.search(index, q, 10), queries, rounds=2))
    return {"type": type(index).__name__, "open_s": round(opened, 3), "recall_at_10": round(float(recall), 3),
            "search": lat, "rss_mb": round(rss_mb() - base, 1)}


# --- BM25 -----------------------------------------------------------------------------------------


def bm25(n: int, work: Path) -> dict:
    import bm25s

    from rag.text import terms as bm25_terms  # the analyzer rag.index indexes with

    texts = corpus.synthetic_paragraphs(n, seed=2)
    t = time.perf_counter()
    tokens = [bm25_terms(x) for x in texts]
    tokenised = time.perf_counter() - t
    t = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    indexed = time.perf_counter() - t
    folder = work / "bm25"
    retriever.save(str(folder))
    del retriever, tokens
    row = {"tokenise_s": round(tokenised, 1), "index_s": round(indexed, 1),
           "build_s": round(tokenised + indexed, 1),
           "disk_mb": round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)}
    row |= run_worker("scale", "bm25-probe", "--index", str(folder), tag=f"bm25-{n}")
    shutil.rmtree(folder)
    return row


def bm25_probe(folder: Path) -> dict:
    "Scores for every eval question, then the top 100 as rag/retrieval.py takes them, against a full argsort."
    import bm25s

    from rag.store.snapshot import top_scored
    from rag.text import terms as bm25_terms

    base = rss_mb()
    t = time.perf_counter()
    index = bm25s.BM25.load(str(folder), mmap=True)
    opened = time.perf_counter() - t
    after_open = rss_mb() - base
    vocab = index.vocab_dict
    queries = [[w for w in bm25_terms(r["question"]) if w in vocab] for r in load_questions()]
    queries = [q for q in queries if q]
    scores = index.get_scores
    return {"open_s": round(opened, 3), "scores": stats_ms(time_calls(scores, queries)),
            "scores_argsort": stats_ms(time_calls(lambda q: np.argsort(-scores(q))[:100], queries)),
            "scores_top_scored": stats_ms(time_calls(lambda q: top_scored(scores(q), 100), queries)),
            "rss_after_open_mb": round(after_open, 1), "rss_mb": round(rss_mb() - base, 1)}


# --- a whole snapshot -----------------------------------------------------------------------------


def synthetic_snapshot_parts(n: int):
    "Documents, chunks (one per paragraph), sentences and vectors of n synthetic paragraphs."
    from rag.chunking import Sentence
    from rag.types import Chunk, Document, Paragraph

    paragraphs = corpus.synthetic_sentences(n, seed=3)
    docs, chunks, sentences, sentence_para = [], [], [], []
    per = corpus.PARAGRAPHS_PER_ARTICLE
    for a, first in enumerate(range(0, n, per)):
        doc_id, title = f"syn{a:07d}", f"Synthetic report number {a}"
        text, paras, spans = title, [], []
        for p in range(first, min(first + per, n)):
            text += "\n\n"
            start = len(text)
            for j, sentence in enumerate(paragraphs[p]):
                text += (" " if j else "") + sentence
                spans.append((len(paras) + 1, len(text) - len(sentence), len(text), p))
            paras.append(Paragraph(len(paras) + 1, start, len(text)))
        docs.append(Document(doc_id, f"/synthetic/{doc_id}.txt", title, None,
                             hashlib.sha256(text.encode()).hexdigest(), text, tuple(paras)))
        chunks += [Chunk(f"{doc_id}:{q.number}", doc_id, q.number, q.start, q.end, text[q.start : q.end])
                   for q in paras]
        sentences += [Sentence(doc_id, num, s, e) for num, s, e, _ in spans]
        sentence_para += [p for *_, p in spans]
    chunk_vecs = corpus.clustered_vectors(n, seed=0)
    noise = np.random.default_rng(4)
    sent_vecs = np.empty((len(sentences), chunk_vecs.shape[1]), dtype=np.float32)
    for start in range(0, len(sentences), 500_000):
        rows = np.asarray(sentence_para[start : start + 500_000])
        v = chunk_vecs[rows] + 0.05 * noise.standard_normal((len(rows), chunk_vecs.shape[1]), dtype=np.float32)
        sent_vecs[start : start + len(rows)] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return docs, chunks, sentences, chunk_vecs, sent_vecs


def snapshot(n: int, work: Path, models: Path) -> dict:
    "Write the snapshot (ONNX query models symlinked from `models`), then probe it in a fresh process."
    from rag import ann as rag_ann
    from rag import index as rag_index
    from rag.config import load_settings

    home = work / "home"
    home.mkdir(parents=True)
    os.symlink(models, home / "models")
    settings = load_settings(seeds=(work / "none",), home=home)
    docs, chunks, sentences, chunk_vecs, sent_vecs = synthetic_snapshot_parts(n)
    manifest = {
        "format": rag_index.FORMAT_VERSION,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": rag_index.fingerprint(settings),
        "dim": int(chunk_vecs.shape[1]),
        "index_type": rag_ann.resolve_type(settings.index_type, len(chunks)),
        "counts": {"documents": len(docs), "paragraphs": len(chunks), "chunks": len(chunks),
                   "sentences": len(sentences)},
        "sources": {},
    }
    t = time.perf_counter()
    snap = rag_index._write_snapshot(settings, manifest, docs, chunks, chunk_vecs, sentences, sent_vecs)
    written = time.perf_counter() - t
    del docs, chunks, sentences, chunk_vecs, sent_vecs
    row = {"paragraphs": n, "index_type": manifest["index_type"], "write_s": round(written, 1),
           "write_peak_rss_mb": peak_rss_mb(),
           "disk_mb": round(sum(p.stat().st_size for p in snap.rglob("*") if p.is_file()) / 2**20)}
    row |= run_worker("scale", "snapshot-probe", "--home", str(home), tag=f"snapshot-{n}")
    # benchmarks/stores.py's probe on the same snapshot: store.search hybrid p50/p95 with in-distribution
    # query vectors, and recall@10 against the same search over an exact (flat) index.
    row["store"] = run_worker("stores", "probe", "--store", "snapshot", "--home", str(home), "--dsn", "",
                              tag=f"snapshot-store-{n}")
    shutil.rmtree(home)
    return row


def snapshot_probe(home: Path) -> dict:
    """Serve from the snapshot as rag does (bypassing only the source-file freshness check): open
    time (load_snapshot + SnapshotStore; importing faiss and bm25s and loading the query model are
    timed apart), retrieve p50/p95 of the eval questions through rag.retrieval.Retriever (query
    embedding included), and the serving process's RSS."""
    from rag import ann as rag_ann
    from rag.config import load_settings
    from rag.embedding import get_embedder
    from rag.index import current_snapshot, load_snapshot
    from rag.retrieval import Retriever
    from rag.store.snapshot import SnapshotStore
    from rag.text import terms

    settings = load_settings(home=home)
    snap_dir = current_snapshot(settings)
    t = time.perf_counter()
    import bm25s  # noqa: F401 - the libraries a server imports at start-up, timed apart from the open
    import faiss  # noqa: F401

    imports = time.perf_counter() - t
    t = time.perf_counter()
    embedder = get_embedder(settings.embedder, "onnx", home=settings.home)
    embedder.embed_batch(["warm up"])
    model_s = time.perf_counter() - t
    t = time.perf_counter()
    rag_ann.read(snap_dir / "dense.faiss")  # FAISS alone, for comparison (dropped again)
    dense_open = time.perf_counter() - t
    base = rss_mb()
    t = time.perf_counter()
    store = SnapshotStore(load_snapshot(snap_dir), settings)
    opened = time.perf_counter() - t
    tables = rss_mb() - base
    retriever = Retriever(store, settings, embedder)
    questions = [r["question"] for r in load_questions()]
    qvecs = {q: retriever.embed(q) for q in questions}
    n = settings.candidates
    result = {"dense_open_s": round(dense_open, 3), "snapshot_open_s": round(opened, 3), "model_load_s": round(model_s, 2),
              "imports_s": round(imports, 2),
              "rss_after_open_mb": round(tables), "retrieve": stats_ms(time_calls(lambda q: retriever.search(q, 5), questions)),
              "dense": stats_ms(time_calls(lambda q: store._dense(qvecs[q], n), questions)),
              "bm25": stats_ms(time_calls(lambda q: store._bm25(terms(q), n), questions))}
    result["serving_peak_rss_mb"] = peak_rss_mb()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["ann", "ann-probe", "bm25", "bm25-probe", "snapshot", "snapshot-probe"])
    parser.add_argument("--n", type=int)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--types", default=",".join(ANN_TYPES))
    parser.add_argument("--index", type=Path)
    parser.add_argument("--truth", type=Path)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--models", type=Path, help="RAG_HOME/models with the exported ONNX query model")
    args = parser.parse_args()
    jobs = {
        "ann": lambda: ann(args.n, args.work, tuple(args.types.split(","))),
        "ann-probe": lambda: ann_probe(args.index, args.truth),
        "bm25": lambda: bm25(args.n, args.work),
        "bm25-probe": lambda: bm25_probe(args.index),
        "snapshot": lambda: snapshot(args.n, args.work, args.models),
        "snapshot-probe": lambda: snapshot_probe(args.home),
    }
    emit(jobs[args.what]())


if __name__ == "__main__":
    main()
