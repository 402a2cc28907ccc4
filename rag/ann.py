"""FAISS indexes over normalised vectors (inner product = cosine).

    flat      exact search (IndexFlatIP): the default for small corpora
    hnsw      HNSW graph, 32 links: fast, no training, ~4x the raw vector memory
    ivf       inverted lists over k-means cells, flat codes
    ivf-sq8   the same with 8-bit scalar-quantised codes (4x smaller)
    ivf-pq    the same with product-quantised codes (much smaller, lower recall)
    auto      flat below AUTO_FLAT_MAX vectors, hnsw above
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ConfigError, IndexCorruptError

INDEX_TYPES = ("auto", "flat", "hnsw", "ivf", "ivf-sq8", "ivf-pq")
AUTO_FLAT_MAX = 50_000
HNSW_M = 32
HNSW_EF_SEARCH = 64
IVF_NPROBE = 16


def resolve_type(index_type: str, n: int) -> str:
    if index_type not in INDEX_TYPES:
        raise ConfigError(f"Unknown index type {index_type!r}. Valid types: {', '.join(INDEX_TYPES)}")
    if index_type == "auto":
        return "flat" if n <= AUTO_FLAT_MAX else "hnsw"
    return index_type


def build(vectors: np.ndarray, index_type: str):
    import faiss

    n, d = vectors.shape
    kind = resolve_type(index_type, n)
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
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
        sample = vectors if n <= 100_000 else vectors[np.random.default_rng(0).choice(n, 100_000, replace=False)]
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

    try:
        if mmap:
            try:
                index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
            except RuntimeError:
                index = faiss.read_index(str(path))
        else:
            index = faiss.read_index(str(path))
    except RuntimeError as e:
        raise IndexCorruptError(f"{path} is not a readable FAISS index ({str(e).splitlines()[-1][:120]})") from e
    tune(index)
    return index


def search(index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    "(scores, ids) for one query vector; ids of -1 (fewer than k vectors) are dropped."
    q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if q.shape[1] != index.d:  # faiss would raise a bare AssertionError
        raise IndexCorruptError(
            f"Query vectors have {q.shape[1]} dimensions but the index has {index.d}; rebuild with `rag index`"
        )
    scores, ids = index.search(q, min(k, max(index.ntotal, 1)))
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]
