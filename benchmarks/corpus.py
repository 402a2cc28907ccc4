"""Synthetic corpora that need no download.

    synthetic_paragraphs  real-looking text: two or three of the seed articles' own sentences,
                          recombined at random (the seeds average 2.5 sentences a paragraph), one
                          word in each swapped for another seed word so that sentences rarely repeat
    write_articles        those paragraphs as article files of 20 paragraphs, for `build_index`
    clustered_vectors     L2-normalised 384-d vectors, clustered in a 64-d subspace with Zipf-sized
                          clusters. Their neighbour structure resembles sentence embeddings (a query's
                          top-1 cosine is about 0.7, random pairs about 0), so ANN recall means
                          something; uniform random vectors have no near neighbours worth finding.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .common import REPO

PARAGRAPHS_PER_ARTICLE = 20


@lru_cache(maxsize=1)
def seed_sentences(seeds: Path = REPO / "seeds") -> tuple[str, ...]:
    "The seed articles' distinct prose sentences (four words or more, no bullets), in reading order."
    from rag.chunking import split_sentences
    from rag.documents import iter_article_paths, read_document

    out: dict[str, None] = {}
    for path in iter_article_paths([seeds]):
        doc = read_document(path)
        for s in split_sentences(doc):
            text = doc.text[s.start : s.end]
            if len(text.split()) >= 4 and text[0].isalnum():
                out[text] = None
    return tuple(out)


def synthetic_sentences(n: int, seed: int = 0) -> list[list[str]]:
    """The sentences of n paragraphs: two or three seed sentences each, with one inner word of each
    replaced by another seed word, so that sentences (and so their vectors) rarely repeat."""
    pool = [s.split() for s in seed_sentences()]
    vocab = sorted({w for s in pool for w in s if w.isalpha()})
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(pool), size=(n, 3)).tolist()
    lengths = rng.integers(2, 4, size=n).tolist()
    slots = rng.random((n, 3)).tolist()
    words = rng.integers(0, len(vocab), size=(n, 3)).tolist()
    out = []
    for row, m, slot, word in zip(picks, lengths, slots, words, strict=True):
        para = []
        for i, where, w in zip(row[:m], slot, word, strict=False):
            toks = list(pool[i])
            toks[1 + int(where * (len(toks) - 2))] = vocab[w]  # never the first or last word: boundaries stay
            para.append(" ".join(toks))
        out.append(para)
    return out


def synthetic_paragraphs(n: int, seed: int = 0) -> list[str]:
    return [" ".join(p) for p in synthetic_sentences(n, seed)]


def write_articles(folder: Path, paragraphs: list[str]) -> int:
    "Article files (a title line, then paragraphs separated by blank lines); returns how many."
    folder.mkdir(parents=True, exist_ok=True)
    per = PARAGRAPHS_PER_ARTICLE
    for a, start in enumerate(range(0, len(paragraphs), per)):
        body = "\n\n".join(paragraphs[start : start + per])
        (folder / f"synthetic_{a:06d}.txt").write_text(f"Synthetic report number {a}\n\n{body}\n", encoding="utf-8")
    return -(-len(paragraphs) // per)


def clustered_vectors(n: int, seed: int = 0, dim: int = 384, latent: int = 64, clusters: int = 1024) -> np.ndarray:
    """n vectors from one fixed mixture (the same for every seed, so queries from another seed
    fall among the corpus's clusters)."""
    fixed = np.random.default_rng(12345)
    basis = fixed.standard_normal((latent, dim), dtype=np.float32) / np.sqrt(latent)
    centers = fixed.standard_normal((clusters, latent), dtype=np.float32)
    cdf = np.cumsum(1.0 / np.arange(1, clusters + 1))
    cdf /= cdf[-1]
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        z = centers[np.searchsorted(cdf, rng.random(m))] + rng.standard_normal((m, latent), dtype=np.float32)
        out[start : start + m] = z @ basis + 0.15 * rng.standard_normal((m, dim), dtype=np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out
