"""FAISS indexes over normalised vectors (inner product = cosine).

    flat      exact search (IndexFlatIP): the default for small corpora
    hnsw      HNSW graph, 32 links: fast, no training, ~1.2x the raw vector memory, slow to build
    ivf       inverted lists over k-means cells, flat codes
    ivf-sq8   the same with 8-bit scalar-quantised codes (4x smaller)
    ivf-pq    the same with product-quantised codes (much smaller, lower recall)
    auto      flat up to AUTO_FLAT_MAX vectors, ivf-sq8 above

Defaults measured by benchmarks/ (`run.py --scale`, clustered 384-d vectors, 2 cores): exact search
costs about 1 ms per 20k vectors per query, so past that auto switches to ivf-sq8, which at 1M
vectors and nprobe 128 answers in a few ms at recall@10 ~0.97, opens memory-mapped in milliseconds
and needs a quarter of the memory of flat or hnsw (HNSW also takes many minutes to build at 1M).
Indexes open memory-mapped (IO_FLAG_MMAP_IFC): a snapshot is immutable, and pages load on use.
One query is searched on one OpenMP thread: with FAISS's default (all cores) a single-vector search
waits for a second thread, and on a busy 2-core machine that took 20-30 ms instead of under 1.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ConfigError, IndexCorruptError

INDEX_TYPES = ("auto", "flat", "hnsw", "ivf", "ivf-sq8", "ivf-pq")
AUTO_FLAT_MAX = 20_000
AUTO_ANN = "ivf-sq8"
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256
IVF_NPROBE = 128
IVF_TRAIN_MIN = 100_000  # training sample: at least this many vectors, and 40 per cell


def resolve_type(index_type: str, n: int) -> str:
    if index_type not in INDEX_TYPES:
        raise ConfigError(f"Unknown index type {index_type!r}. Valid types: {', '.join(INDEX_TYPES)}")
    if index_type == "auto":
        return "flat" if n <= AUTO_FLAT_MAX else AUTO_ANN
    return index_type


def build(vectors: np.ndarray, index_type: str):
    import faiss

    n, d = vectors.shape
    kind = resolve_type(index_type, n)
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    else:
        nlist = max(1, min(n // 39, int(4 * math.sqrt(n))))  # faiss wants >= 39 training points per cell
        quantizer = faiss.IndexFlatIP(d)
        if kind == "ivf":
            index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        elif kind == "ivf-sq8":
            index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit,
                                                  faiss.METRIC_INNER_PRODUCT)
        else:
            m = next(m for m in (48, 32, 24, 16, 12, 8, 6, 4, 3, 2, 1) if d % m == 0)
            index = faiss.IndexIVFPQ(quantizer, d, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
        size = max(IVF_TRAIN_MIN, 40 * nlist)
        sample = vectors if n <= size else vectors[np.random.default_rng(0).choice(n, size, replace=False)]
        index.train(sample)
    if n:
        index.add(vectors)
    tune(index)
    return index


def tune(index) -> None:
    "Search-time parameters (not stored by faiss for every type)."
    import faiss

    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif hasattr(index, "nprobe"):
        index.nprobe = IVF_NPROBE


def write(index, path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def read(path, mmap: bool = True):
    """Load an index; memory-mapped when the type allows, so large indexes open at once."""
    import faiss

    attempts = [faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY, faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY]
    attempts = [*(attempts if mmap else []), 0]
    for i, flags in enumerate(attempts):
        try:
            index = faiss.read_index(str(path), flags)
            break
        except RuntimeError as e:
            if i == len(attempts) - 1:
                raise IndexCorruptError(
                    f"{path} is not a readable FAISS index ({str(e).splitlines()[-1][:120]})"
                ) from e
    tune(index)
    return index


def search(index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    "(scores, ids) for one query vector, on one OpenMP thread; ids of -1 (fewer than k vectors) are dropped."
    import faiss

    q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if q.shape[1] != index.d:  # faiss would raise a bare AssertionError
        raise IndexCorruptError(
            f"Query vectors have {q.shape[1]} dimensions but the index has {index.d}; rebuild with `rag index`"
        )
    threads = faiss.omp_get_max_threads()  # per calling thread: other threads' builds keep theirs
    faiss.omp_set_num_threads(1)
    try:
        scores, ids = index.search(q, min(k, max(index.ntotal, 1)))
    finally:
        faiss.omp_set_num_threads(threads)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]
