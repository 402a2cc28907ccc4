"""The embedding cache: vectors of texts already embedded, kept across builds, collections and crashes.

    RAG_HOME/cache/embeddings/<model>-<back-end>/
        vectors.npz       keys (sha1 of tag + text), vectors, and when each vector was last used
        journal-*.npz     checkpoints a build writes while it embeds; merged into vectors.npz when
                          the build ends, read back by the next build if this one was killed

A text is embedded once per model: a refresh re-embeds only new or changed paragraphs, and a
build that was killed resumes from its last checkpoint instead of from zero. Vectors of other
builds (another collection in another RAG_HOME sharing this cache, or articles removed and added
back) are kept until the cache exceeds its size bound; then the vectors unused for longest go
first, never the ones the current build uses. Writes are atomic (temporary file, then rename);
a damaged file costs only time: it is named, removed, and its texts are embedded again.
Only builds write here, and builds hold the RAG_HOME writer lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MAX_BYTES = 1 << 30  # ~680k vectors of 384 dimensions
CHECKPOINT_TEXTS = 256  # a killed build loses at most this many embedded texts (a few seconds of work)
REFRESH_AGE = 24 * 3600  # last-use times are rewritten at most daily when nothing else changed
# The journal is merged into vectors.npz when it holds this many files, or a quarter of the cache:
# a refresh that embeds a few new paragraphs then writes a small file, not the whole cache again.
MAX_JOURNAL_FILES = 16


def cache_key(tag: str, text: str) -> bytes:
    return hashlib.sha1(f"{tag}\0{text}".encode()).hexdigest().encode()


def atomic_savez(path: Path, **arrays) -> None:
    "Write an .npz next to its final name and rename it into place; no partial file survives an error."
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class EmbeddingCache:
    def __init__(self, root: Path, tag: str, *, warn: Callable[[str], None] = log.warning,
                 max_bytes: int = MAX_BYTES):
        self.dir = root / tag
        self.tag = tag
        self.warn = warn
        self.max_bytes = max_bytes
        self.vectors: dict[bytes, np.ndarray] = {}
        self.used: dict[bytes, int] = {}  # unix time of last use
        self._journal: list[Path] = []
        self._journal_vectors = 0
        self._main_vectors = 0
        self._load()

    def _load(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        for tmp in self.dir.glob(".*.tmp"):  # a write that a kill or a full disk interrupted
            tmp.unlink(missing_ok=True)
        legacy = self.dir.parent / f"{self.tag}.npz"  # the single-file cache of earlier versions
        if legacy.exists():
            os.replace(legacy, self.dir / "journal-legacy.npz")
        main = self.dir / "vectors.npz"
        if main.exists():
            self._main_vectors = self._read(main, main=True)
        for shard in sorted(self.dir.glob("journal-*.npz")):
            if n := self._read(shard, main=False):
                self._journal.append(shard)
                self._journal_vectors += n

    def _read(self, path: Path, main: bool) -> int:
        "Load one file's vectors; returns how many (0 for a damaged file, which is removed)."
        try:
            with np.load(path, allow_pickle=False) as z:
                keys, vecs = z["keys"], z["vectors"]
                # A checkpoint's vectors were last used when it was written.
                used = z["used"] if main else np.full(len(keys), int(path.stat().st_mtime), dtype=np.int64)
                if keys.dtype.kind == "U":  # hex keys stored as text by earlier versions
                    keys = keys.astype("S40")
                if vecs.ndim != 2 or len(keys) != len(vecs) or len(used) != len(keys):
                    raise ValueError("keys, vectors and use times differ in length")
                if self.vectors and vecs.shape[1] != len(next(iter(self.vectors.values()))):
                    raise ValueError(f"vectors of {vecs.shape[1]} dimensions")
                vecs = np.asarray(vecs, dtype=np.float32)
        except Exception as e:  # BadZipFile, truncated data, a missing array: all mean damaged
            self.warn(f"embedding cache file {path.name} is damaged ({type(e).__name__}: {e}); removed it, "
                      "its texts will be embedded again")
            path.unlink(missing_ok=True)
            return 0
        for k, v, u in zip(keys.tolist(), vecs, used.tolist(), strict=True):
            self.vectors[k] = v
            self.used[k] = max(u, self.used.get(k, 0))
        return len(keys)

    def __contains__(self, key: bytes) -> bool:
        return key in self.vectors

    def get(self, keys: list[bytes]) -> np.ndarray:
        return np.stack([self.vectors[k] for k in keys]).astype(np.float32)

    def checkpoint(self, keys: list[bytes], vectors: np.ndarray) -> None:
        "Keep freshly embedded vectors, on disk at once, so a killed build does not lose them."
        shard = self.dir / f"journal-{time.strftime('%Y%m%dT%H%M%S')}-{os.urandom(3).hex()}.npz"
        atomic_savez(shard, keys=np.array(keys, dtype="S40"), vectors=vectors.astype(np.float32))
        self._journal.append(shard)
        self._journal_vectors += len(keys)
        now = int(time.time())
        for k, v in zip(keys, vectors, strict=True):
            self.vectors[k] = v
            self.used[k] = now

    def commit(self, used: list[bytes]) -> None:
        """Mark `used` as used now and evict the longest-unused vectors over the size bound; merge
        the journal into vectors.npz when it has grown (see MAX_JOURNAL_FILES) or anything changed
        that only vectors.npz records (evictions, use times older than REFRESH_AGE)."""
        now = int(time.time())
        stale = any(now - self.used.get(k, 0) > REFRESH_AGE for k in used)
        for k in used:
            self.used[k] = now
        keep = set(used)
        dim = len(next(iter(self.vectors.values()))) if self.vectors else 0
        per = dim * 4 + 40 + 8
        over = len(self.vectors) * per - self.max_bytes
        evicted = False
        if over > 0:
            victims = sorted((k for k in self.vectors if k not in keep), key=self.used.__getitem__)
            for k in victims[: -(-over // per)]:
                del self.vectors[k], self.used[k]
                evicted = True
        grown = len(self._journal) > MAX_JOURNAL_FILES or self._journal_vectors > self._main_vectors // 4
        if not (evicted or stale or grown):
            return
        keys = list(self.vectors)
        atomic_savez(self.dir / "vectors.npz", keys=np.array(keys, dtype="S40"),
                     vectors=np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, dim), np.float32),
                     used=np.array([self.used[k] for k in keys], dtype=np.int64))
        for shard in self._journal:
            with contextlib.suppress(FileNotFoundError):
                shard.unlink()
        self._journal.clear()
        self._journal_vectors = 0
        self._main_vectors = len(keys)
