"""Distributed ingestion with Ray: `rag index --ray [ADDRESS]` (install with `pip install "rag-news[cluster]"`).

    article files --Ray Data: read, clean, chunk (small tasks)--> texts to embed
                  --one embedding actor per CPU slot (map_batches)--> vectors
                  --> Parquet shards under RAG_HOME/ray/<run>/ (text, float32 vector bytes)
                  --> merged into the embedding cache --> the usual build (snapshot) or load (RAG_STORE)

Embedding is the whole cost of ingestion (reading and chunking are milliseconds per article), so
that is what Ray spreads; the snapshot or database is then written by the ordinary single-process
code, which finds every vector cached. Output therefore matches a plain `rag index` by construction:
same texts, same model and back-end, same assembly.

The same code runs on a local Ray instance (no ADDRESS: started here, stopped after) and on a
cluster: `--ray auto` inside a KubeRay RayJob, or `--ray ray://head:10001`. On a cluster every
worker must see the article files (a shared volume) and RAG_HOME (for the shards).

Two traps measured on this machine kind: Ray runs workers at niceness 15, where they starve behind
any busy process (a local instance sets worker_niceness 0); and an actor pool holding every CPU
deadlocked the read tasks feeding it, so actors take a fraction of a CPU and reads a quarter.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Settings
from .errors import RagError

log = logging.getLogger(__name__)
ACTOR_CPUS = 0.75  # per embedding actor: leaves room for the read tasks that feed the actors
READ_CPUS = 0.25
BATCH = 64  # texts per actor call


@dataclass
class RayReport:
    articles: int
    texts: int
    actors: int
    seconds: float
    shards: Path


def _texts_of(row: dict, max_bytes: int, chunk_tokens: int, encoding: str) -> list[dict]:
    """What a build embeds for one article: its title-prefixed chunks, then its sentences (as
    rag.index does). An unreadable file yields nothing: the build that follows reports it."""
    from .chunking import chunk_document, embedding_text, split_sentences
    from .documents import read_document
    from .errors import DocumentError

    try:
        doc = read_document(Path(row["path"]), max_bytes=max_bytes)
    except (DocumentError, OSError):
        return []
    texts = [embedding_text(doc.title, c.text) for c in chunk_document(doc, chunk_tokens, encoding)]
    texts += [doc.text[s.start : s.end] for s in split_sentences(doc)]
    return [{"text": t} for t in texts]


class _Embed:
    "A Ray actor holding one copy of the model."

    def __init__(self, model: str, backend: str, home: str):
        from .embedding import get_embedder

        if backend == "torch":
            import torch

            torch.set_num_threads(1)  # one actor per CPU slot: threads would only fight each other
        self.embedder = get_embedder(model, backend, home=Path(home), threads=1)

    def __call__(self, batch: dict) -> dict:
        texts = [str(t) for t in batch["text"]]
        vectors = np.asarray(self.embedder.embed(texts), dtype="<f4")
        return {"text": np.array(texts, dtype=object), "vector": np.array([v.tobytes() for v in vectors], dtype=object)}


def _connect(address: str | None) -> None:
    try:
        import ray
    except ImportError as e:
        raise RagError('`rag index --ray` needs Ray: pip install "rag-news[cluster]"') from e
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}  # rag's own lines say what happened
    if address:
        try:
            ray.init(address=address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise RagError(f"cannot reach the Ray cluster at {address} ({e}); check the address "
                           "(ray://head:10001, or auto inside a Ray job)") from e
    else:
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, _system_config={"worker_niceness": 0}, **quiet)


def embed_on_ray(settings: Settings, paths: Sequence[Path] | None = None, address: str | None = None,
                 *, progress: bool = False) -> RayReport:
    """Embed every text of the collection (with `paths` added) on Ray, write Parquet shards, and merge
    them into the embedding cache so the build that follows embeds nothing."""
    t0 = time.perf_counter()
    files = [str(p) for p in collection_files(settings, paths or ())]
    if not files:
        raise RagError("No articles in the collection's sources: add some with `rag index PATH`.")
    if settings.build_backend != "torch":
        from .embedding import ensure_onnx

        ensure_onnx(settings.home, settings.embedder, int8=settings.build_backend == "onnx-int8")
    shards = settings.home / "ray" / time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    import ray

    _connect(address)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = progress
        # Ray Data configures its logger when first imported (just above): its per-stage INFO lines
        # would bury rag's own summary line.
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        slots = max(1, int(ray.cluster_resources().get("CPU", 1) // 1))
        ds = ray.data.from_items([{"path": f} for f in files], override_num_blocks=min(len(files), 4 * slots))
        ds = ds.flat_map(_texts_of, num_cpus=READ_CPUS,
                         fn_kwargs={"max_bytes": settings.max_file_bytes, "chunk_tokens": settings.chunk_tokens,
                                    "encoding": settings.token_encoding})
        ds = ds.map_batches(_Embed, batch_size=BATCH, compute=ray.data.ActorPoolStrategy(size=slots),
                            num_cpus=ACTOR_CPUS,
                            fn_constructor_kwargs={"model": settings.embedder, "backend": settings.build_backend,
                                                   "home": str(settings.home)})
        ds.write_parquet(str(shards))
    finally:
        ray.shutdown()
    texts = merge_shards(settings, shards)
    return RayReport(len(files), texts, slots, time.perf_counter() - t0, shards)


def collection_files(settings: Settings, add: Sequence[Path] = ()) -> list[Path]:
    """The article files the `rag index [PATH...]` that follows the Ray run reads: the collection's
    recorded sources (in the snapshot's manifest, or in the database with RAG_STORE), PATHs added."""
    from .collection import list_files, with_added

    if settings.store:
        from .store.pg_load import collection

        coll = collection(settings)
    else:
        from .index import collection_of

        coll = collection_of(settings)
    if add:
        coll, _ = with_added(coll, add, settings.home)
    return list_files(coll.sources, coll.excluded, settings.home).files


def read_shards(shards: Path) -> tuple[list[str], np.ndarray]:
    "Texts and their vectors from a run's Parquet shards."
    import pyarrow.parquet as pq

    table = pq.read_table(shards)
    texts = table.column("text").to_pylist()
    vectors = np.stack([np.frombuffer(b, dtype="<f4") for b in table.column("vector").to_pylist()]) \
        if texts else np.zeros((0, 0), np.float32)
    return texts, vectors


def merge_shards(settings: Settings, shards: Path) -> int:
    """Add a run's vectors to the embedding cache (rag.embedding_cache, as one checkpoint file that
    the next build reads), then drop the shards. Returns the number of texts."""
    from .embedding import model_key
    from .embedding_cache import EmbeddingCache, cache_key

    texts, vectors = read_shards(shards)
    tag = f"{model_key(settings.embedder)}-{settings.build_backend}"
    if texts:
        cache = EmbeddingCache(settings.home / "cache" / "embeddings", tag)
        cache.checkpoint([cache_key(tag, t) for t in texts], vectors)
    shutil.rmtree(shards, ignore_errors=True)
    return len(texts)
