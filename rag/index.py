"""The on-disk index: immutable snapshot folders and an atomic CURRENT pointer.

    RAG_HOME/index/CURRENT              name of the snapshot in use (switched with os.replace)
    RAG_HOME/index/snap-<time>-<id>/    manifest.json, docs.jsonl, chunks.jsonl, dense.faiss,
                                        bm25/, sentences.npy, sentence_vectors.npy
    RAG_HOME/cache/embeddings/          vectors keyed by sha1(model + back-end + text)

A build writes a new snapshot into a temporary folder, verifies it, renames it into place and only
then switches CURRENT, so a crash mid-write never leaves a half index in use. The manifest records
the format version, embedder, chunker settings, a hash per source file and a sha256 per index file;
a load checks them, so a flipped byte or a changed setting is caught, never served silently.
No pickle anywhere: JSON, .npy (allow_pickle=False), FAISS and bm25s's own JSON/.npy format.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import ann
from .chunking import CHUNKER_VERSION, Sentence, chunk_document, embedding_text, split_sentences
from .config import Settings
from .documents import Skipped, iter_article_paths, read_document
from .errors import DocumentError, IndexCorruptError, RagError
from .types import Chunk, Document, Paragraph

FORMAT_VERSION = 1
FULL_VERIFY_MAX_BYTES = 256 * 1024 * 1024  # above this, loads check sizes; `rag index --verify` checks all
KEEP_SNAPSHOTS = 2


@dataclass(frozen=True)
class Status:
    state: str  # "fresh", "missing", "stale" or "corrupt"
    reason: str = ""


@dataclass
class BuildReport:
    snapshot: Path
    documents: int
    paragraphs: int
    chunks: int
    sentences: int
    embedded: int  # texts that went through the model
    cached: int  # texts whose vectors came from the cache
    seconds: float
    skipped: list[Skipped] = field(default_factory=list)


@dataclass
class Snapshot:
    "A loaded, read-only index. Safe to share between threads."

    path: Path
    manifest: dict
    docs: dict[str, Document]
    chunks: list[Chunk]
    dense: object  # faiss index over chunk vectors
    bm25: object  # bm25s.BM25 over chunk terms
    sentences: list[Sentence]
    sentence_vectors: np.ndarray
    para_sentences: dict[tuple[str, int], range]


def index_dir(settings: Settings) -> Path:
    return settings.home / "index"


def fingerprint(settings: Settings) -> dict:
    "Everything that, when changed, makes the index stale."
    from .embedding import model_key

    return {
        "format": FORMAT_VERSION,
        "embedder": settings.embedder,
        "embedder_key": model_key(settings.embedder),
        "build_backend": settings.build_backend,
        "chunker": {"version": CHUNKER_VERSION, "max_tokens": settings.chunk_tokens,
                    "encoding": settings.token_encoding},
        "index_type": settings.index_type,
    }


# --- status ---------------------------------------------------------------------------------------


def current_snapshot(settings: Settings) -> Path | None:
    pointer = index_dir(settings) / "CURRENT"
    try:
        name = pointer.read_text().strip()
    except FileNotFoundError:
        return None
    return index_dir(settings) / name if name else None


def read_manifest(snapshot: Path) -> dict:
    try:
        return json.loads((snapshot / "manifest.json").read_text())
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"{snapshot.name}: manifest.json is missing or unreadable ({e})") from e


def index_status(settings: Settings) -> Status:
    snap = current_snapshot(settings)
    if snap is None:
        return Status("missing", "no index has been built yet")
    try:
        manifest = read_manifest(snap)
    except IndexCorruptError as e:
        return Status("corrupt", str(e))
    want = fingerprint(settings)
    for key, value in want.items():
        if manifest.get("settings", {}).get(key) != value:
            return Status("stale", f"setting {key!r} changed ({manifest.get('settings', {}).get(key)!r} -> {value!r})")
    known = manifest.get("sources", {})
    files = {str(p): p for p in iter_article_paths(settings.sources)}
    for path in sorted(set(known) - set(files)):
        return Status("stale", f"{Path(path).name} was removed")
    for path, p in files.items():
        entry = known.get(path)
        if entry is None:
            return Status("stale", f"{p.name} is new")
        st = p.stat()
        if (st.st_size, st.st_mtime_ns) != (entry["size"], entry["mtime_ns"]) and _sha256(p) != entry["sha256"]:
            return Status("stale", f"{p.name} changed")
    return Status("fresh")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --- build ----------------------------------------------------------------------------------------


@contextmanager
def _writer_lock(settings: Settings):
    "One writer at a time per RAG_HOME; a second build waits for the first."
    d = index_dir(settings)
    d.mkdir(parents=True, exist_ok=True)
    with open(d / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_corpus(paths: Iterable[Path], max_bytes: int,
                warn: Callable[[str], None] = print) -> tuple[list[Document], dict, list[Skipped]]:
    "Documents, a manifest entry per file, and the files skipped with their reasons."
    docs: list[Document] = []
    sources: dict[str, dict] = {}
    skipped: list[Skipped] = []
    by_hash: dict[str, str] = {}
    ids: set[str] = set()
    for path in paths:
        st = path.stat()
        entry = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
        try:
            doc = read_document(path, max_bytes=max_bytes)
        except DocumentError as e:
            entry |= {"sha256": _sha256(path), "skipped": str(e)}
            skipped.append(Skipped(str(path), str(e)))
            warn(f"skipped {e}")
        else:
            entry["sha256"] = doc.sha256
            if doc.sha256 in by_hash:
                reason = f"{path.name}: same content as {Path(by_hash[doc.sha256]).name}, indexed once"
                entry["skipped"] = reason
                skipped.append(Skipped(str(path), reason))
                warn(f"skipped {reason}")
            else:
                doc_id = doc.doc_id if doc.doc_id not in ids else f"{doc.doc_id}-{doc.sha256[:6]}"
                if doc_id != doc.doc_id:
                    doc = Document(doc_id, doc.path, doc.title, doc.date, doc.sha256, doc.text, doc.paragraphs)
                ids.add(doc_id)
                by_hash[doc.sha256] = str(path)
                docs.append(doc)
                entry["doc_id"] = doc_id
        sources[str(path)] = entry
    return docs, sources, skipped


def build_index(settings: Settings, paths: Iterable[Path] | None = None, *, progress: bool = True,
                warn: Callable[[str], None] = print) -> BuildReport:
    """Build a new snapshot from `paths` (default: settings.sources) and make it current.
    Texts whose vectors are cached (same text, same model) are not embedded again."""
    t0 = time.perf_counter()
    with _writer_lock(settings):
        files = iter_article_paths(paths if paths is not None else settings.sources)
        docs, sources, skipped = read_corpus(files, settings.max_file_bytes, warn)
        if not docs:
            raise RagError(
                f"No readable articles in {', '.join(map(str, paths or settings.sources))}. "
                "Point RAG_SEEDS at a folder of .txt, .md or .html articles, or index files with `rag index PATH`."
            )
        titles = {d.doc_id: d.title for d in docs}
        chunks = [c for d in docs for c in chunk_document(d, settings.chunk_tokens, settings.token_encoding)]
        sentences = [s for d in docs for s in split_sentences(d)]
        doc_text = {d.doc_id: d.text for d in docs}
        texts = [embedding_text(titles[c.doc_id], c.text) for c in chunks]
        texts += [doc_text[s.doc_id][s.start : s.end] for s in sentences]
        vectors, embedded = _embed_cached(settings, texts, progress)
        chunk_vecs, sent_vecs = vectors[: len(chunks)], vectors[len(chunks) :]
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "settings": fingerprint(settings),
            "dim": int(vectors.shape[1]),
            "index_type": ann.resolve_type(settings.index_type, len(chunks)),
            "counts": {"documents": len(docs), "paragraphs": sum(len(d.paragraphs) for d in docs),
                       "chunks": len(chunks), "sentences": len(sentences)},
            "sources": sources,
        }
        snap = _write_snapshot(settings, manifest, docs, chunks, chunk_vecs, sentences, sent_vecs)
        if settings.build_backend == "torch":
            from .embedding import ensure_onnx

            ensure_onnx(settings.home, settings.embedder)  # torch is loaded now; queries then need none
    return BuildReport(snap, len(docs), manifest["counts"]["paragraphs"], len(chunks), len(sentences),
                       embedded, len(texts) - embedded, time.perf_counter() - t0, skipped)


def _embed_cached(settings: Settings, texts: list[str], progress: bool) -> tuple[np.ndarray, int]:
    from .embedding import get_embedder, model_key

    tag = f"{model_key(settings.embedder)}-{settings.build_backend}"
    cache_file = settings.home / "cache" / "embeddings" / f"{tag}.npz"
    cache: dict[str, np.ndarray] = {}
    if cache_file.exists():
        try:
            with np.load(cache_file, allow_pickle=False) as z:
                cache = dict(zip(z["keys"].tolist(), z["vectors"], strict=True))
        except (OSError, ValueError, KeyError):
            cache = {}  # a damaged cache only costs time: everything is embedded again
    keys = [hashlib.sha1(f"{tag}\0{t}".encode()).hexdigest() for t in texts]
    todo = sorted({k: i for i, k in reversed(list(enumerate(keys))) if k not in cache}.values())
    if todo:
        embedder = get_embedder(settings.embedder, settings.build_backend, home=settings.home, threads=2)
        bar = _progress_bar(len(todo), "Embedding", progress)
        new = embedder.embed([texts[i] for i in todo], progress=bar.update)
        bar.close()
        cache.update({keys[i]: v for i, v in zip(todo, new, strict=True)})
    vectors = np.stack([cache[k] for k in keys]).astype(np.float32)
    if todo:
        used = dict.fromkeys(keys)
        _atomic_savez(cache_file, keys=np.array(list(used)), vectors=np.stack([cache[k] for k in used]))
    return vectors, len(todo)


def _progress_bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="text", disable=not enabled, leave=False)


def _atomic_savez(path: Path, **arrays) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _write_snapshot(settings, manifest, docs, chunks, chunk_vecs, sentences, sent_vecs) -> Path:
    import bm25s

    from .text import terms

    root = index_dir(settings)
    name = f"snap-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{os.urandom(3).hex()}"
    tmp = root / f".tmp-{name}"
    tmp.mkdir(parents=True)
    try:
        with open(tmp / "docs.jsonl", "w", encoding="utf-8") as f:
            for d in docs:
                f.write(json.dumps({"doc_id": d.doc_id, "path": d.path, "title": d.title, "date": d.date,
                                    "sha256": d.sha256, "text": d.text,
                                    "paragraphs": [[p.start, p.end] for p in d.paragraphs]},
                                   ensure_ascii=False) + "\n")
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in chunks:
                f.write(json.dumps([c.chunk_id, c.doc_id, c.paragraph, c.start, c.end]) + "\n")
        ann.write(ann.build(chunk_vecs, settings.index_type), tmp / "dense.faiss")
        titles = {d.doc_id: d.title for d in docs}
        retriever = bm25s.BM25()
        retriever.index([terms(embedding_text(titles[c.doc_id], c.text)) for c in chunks], show_progress=False)
        retriever.save(str(tmp / "bm25"))
        doc_index = {d.doc_id: i for i, d in enumerate(docs)}
        table = np.array([[doc_index[s.doc_id], s.paragraph, s.start, s.end] for s in sentences], dtype=np.int64)
        np.save(tmp / "sentences.npy", table.reshape(-1, 4), allow_pickle=False)
        np.save(tmp / "sentence_vectors.npy", sent_vecs.astype(np.float32), allow_pickle=False)
        manifest["files"] = {
            p.relative_to(tmp).as_posix(): {"sha256": _sha256(p), "size": p.stat().st_size}
            for p in sorted(tmp.rglob("*")) if p.is_file()
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
        _fsync_tree(tmp)
        final = root / name
        os.replace(tmp, final)
        load_snapshot(final, verify="full")  # never point CURRENT at something that does not load
        _switch_current(root, name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _collect_garbage(root, keep=name)
    return final


def _fsync_tree(path: Path) -> None:
    for p in path.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())


def _switch_current(root: Path, name: str) -> None:
    tmp = root / f".CURRENT.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, root / "CURRENT")
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _collect_garbage(root: Path, keep: str) -> None:
    "Keep the current snapshot and the one before it (readers may still hold it); drop leftovers."
    snaps = sorted((p for p in root.glob("snap-*") if p.is_dir()), key=lambda p: p.name)
    for old in [p for p in snaps if p.name != keep][: -(KEEP_SNAPSHOTS - 1) or None]:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in root.glob(".tmp-snap-*"):
        if time.time() - tmp.stat().st_mtime > 3600:  # a crashed build's leftovers
            shutil.rmtree(tmp, ignore_errors=True)


# --- load -----------------------------------------------------------------------------------------


def verify_files(snapshot: Path, manifest: dict, mode: str = "auto") -> None:
    """Check every index file against the manifest. mode: "full" (sha256), "size", or "auto" (full
    below FULL_VERIFY_MAX_BYTES, so a multi-GB index still opens at once)."""
    files = manifest.get("files")
    if not files:
        raise IndexCorruptError(f"{snapshot.name}: manifest lists no files")
    total = sum(f["size"] for f in files.values())
    full = mode == "full" or (mode == "auto" and total <= FULL_VERIFY_MAX_BYTES)
    for rel, want in files.items():
        p = snapshot / rel
        if not p.is_file():
            raise IndexCorruptError(f"{snapshot.name}: {rel} is missing")
        if p.stat().st_size != want["size"] or (full and _sha256(p) != want["sha256"]):
            raise IndexCorruptError(f"{snapshot.name}: {rel} does not match its checksum")


def load_snapshot(path: Path, verify: str = "auto") -> Snapshot:
    import bm25s

    manifest = read_manifest(path)
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexCorruptError(f"{path.name}: index format {manifest.get('format')}, expected {FORMAT_VERSION}")
    verify_files(path, manifest, verify)
    try:
        docs = {}
        with open(path / "docs.jsonl", encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                paras = tuple(Paragraph(i, s, e) for i, (s, e) in enumerate(d["paragraphs"], 1))
                docs[d["doc_id"]] = Document(d["doc_id"], d["path"], d["title"], d["date"], d["sha256"],
                                             d["text"], paras)
        chunks = []
        with open(path / "chunks.jsonl", encoding="utf-8") as f:
            for line in f:
                cid, doc_id, para, s, e = json.loads(line)
                chunks.append(Chunk(cid, doc_id, para, s, e, docs[doc_id].text[s:e]))
        dense = ann.read(path / "dense.faiss")
        bm25 = bm25s.BM25.load(str(path / "bm25"), mmap=True)
        order = list(docs)
        table = np.load(path / "sentences.npy", allow_pickle=False)
        sentences = [Sentence(order[di], int(p), int(s), int(e)) for di, p, s, e in table]
        sent_vecs = np.load(path / "sentence_vectors.npy", allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError, KeyError, IndexError) as e:
        raise IndexCorruptError(f"{path.name}: index files are unreadable ({e}); rebuild with `rag index`") from e
    if dense.ntotal != len(chunks) or len(sent_vecs) != len(sentences):
        raise IndexCorruptError(f"{path.name}: vector counts do not match the chunk and sentence tables")
    para_sentences: dict[tuple[str, int], range] = {}
    i = 0
    while i < len(sentences):
        j = i
        key = (sentences[i].doc_id, sentences[i].paragraph)
        while j < len(sentences) and (sentences[j].doc_id, sentences[j].paragraph) == key:
            j += 1
        para_sentences[key] = range(i, j)
        i = j
    return Snapshot(path, manifest, docs, chunks, dense, bm25, sentences, sent_vecs, para_sentences)


def ensure_index(settings: Settings, *, progress: bool = True, warn: Callable[[str], None] = print) -> Snapshot:
    "The current snapshot, (re)built first if it is missing, stale or corrupt."
    status = index_status(settings)
    if status.state != "fresh":
        if status.state != "missing":
            warn(f"Rebuilding the index: {status.reason}")
        build_index(settings, progress=progress, warn=warn)
        return load_snapshot(current_snapshot(settings), verify="size")
    try:
        return load_snapshot(current_snapshot(settings))
    except IndexCorruptError as e:
        warn(f"Rebuilding the index: {e}")
        build_index(settings, progress=progress, warn=warn)
        return load_snapshot(current_snapshot(settings), verify="size")
