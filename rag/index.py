"""The on-disk index: immutable snapshot folders and an atomic CURRENT pointer.

    RAG_HOME/index/CURRENT              name of the snapshot in use (switched with os.replace)
    RAG_HOME/index/PREVIOUS             the one before it (readers may still hold it)
    RAG_HOME/index/snap-<time>-<id>/    manifest.json; the tables (rag.tables: text.bin, docs.jsonl,
                                        docs/paragraphs/sentences/chunks.npy ...); dense.faiss, bm25/,
                                        sentence_vectors.npy
    RAG_HOME/cache/embeddings/          vectors keyed by sha1(model + back-end + text) (rag.embedding_cache)
    RAG_HOME/uploads/                   articles added through the web UI

A RAG_HOME holds one collection (rag.collection): its sources are recorded in every manifest, so
`rag index` refreshes exactly them, `rag index PATH` (add_sources) adds to them, `rag index --remove
PATH` (remove_sources) takes one away, and a process serving the RAG_HOME only ever sees that
collection, whoever rebuilt it.

A build writes a new snapshot into a temporary folder, verifies it, renames it into place and only
then switches CURRENT, so a crash or a full disk mid-write never leaves a half index in use, and
the snapshot that was serving keeps serving. Snapshot files are read-only and immutable: the
manifest records the format version, embedder, chunker settings, the collection, a hash per source
file and a sha256, size and mtime per index file. A load checks them (verify_files: hashes for a
small index, sizes and mtimes for a large one, so a million paragraphs still open at once), so a
flipped byte or a changed setting is caught, never served silently; every file is memory-mapped
read-only, and a serving process notices when a file changes under it (changed_files, reload).
Leftovers of killed builds are collected by the next build, by what CURRENT and PREVIOUS name.
No pickle anywhere: JSON, .npy (allow_pickle=False), FAISS and bm25s's own JSON/.npy format.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import ann
from .chunking import CHUNKER_VERSION, chunk_document, embedding_text, split_sentences
from .collection import Collection, Skipped, list_files, seeded, with_added, with_removed
from .config import Settings
from .documents import READER_VERSION, read_bytes, read_document, sha256_file, slug
from .errors import DocumentError, IndexCorruptError, RagError
from .tables import Documents, RowFile, Tables, write_tables
from .types import Document

log = logging.getLogger(__name__)

# 2: paragraphs carry their page; the manifest records the collection. 3: numpy tables over one
# memory-mapped text file (rag.tables) instead of JSON lines; the manifest records each file's mtime.
FORMAT_VERSION = 3
FULL_VERIFY_MAX_BYTES = 64 * 1024 * 1024  # up to this, every open hashes every file (verify_files)
PART_FILE_AGE = 3600  # seconds after which an upload's unfinished copy is a crashed copy's leftover
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}

Warn = Callable[[str], None]


@dataclass(frozen=True)
class Status:
    state: str  # "fresh", "missing", "stale" or "corrupt"
    reason: str = ""
    notes: tuple[Skipped, ...] = ()  # what listing the sources left out (outside links, unreadable folders)


@dataclass(frozen=True)
class Added:
    "An article a build added, under the name it was given (an upload's original file name)."

    name: str
    path: str
    doc_id: str
    title: str
    paragraphs: int


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
    sources: tuple[str, ...] = ()  # the collection's sources after the build
    added: list[Added] = field(default_factory=list)  # articles new in this build
    removed: list[str] = field(default_factory=list)  # doc ids no longer in the collection
    notes: list[str] = field(default_factory=list)  # e.g. "PATH is already part of the collection"


@dataclass
class Snapshot:
    """A loaded, read-only index: its tables, vectors and BM25 index memory-mapped (rag.tables).
    Safe to share between threads."""

    path: Path
    manifest: dict
    tables: Tables
    dense: object  # faiss index over chunk vectors
    bm25: object  # bm25s.BM25 over chunk terms
    sentence_vectors: RowFile  # np.asarray() gives the whole matrix
    file_stats: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # file -> (size, mtime_ns, inode)

    @property
    def docs(self) -> Documents:
        "The articles by doc_id; each Document is read when it is looked up."
        return Documents(self.tables)

    @property
    def chunks(self) -> np.ndarray:
        "The chunk table (rag.tables: paragraph row, window, char start/end), in vector order."
        return self.tables.chunks


class EmptyCollectionError(RagError):
    "A build would leave the collection without a single readable article."


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
        "reader": READER_VERSION,
        "chunker": {"version": CHUNKER_VERSION, "max_tokens": settings.chunk_tokens,
                    "encoding": settings.token_encoding},
        "index_type": settings.index_type,
    }


# --- the collection and its status ----------------------------------------------------------------


def _pointer(settings: Settings, name: str) -> Path | None:
    try:
        value = (index_dir(settings) / name).read_text().strip()
    except FileNotFoundError:
        return None
    return index_dir(settings) / value if value else None


def current_snapshot(settings: Settings) -> Path | None:
    return _pointer(settings, "CURRENT")


def read_manifest(snapshot: Path) -> dict:
    try:
        return json.loads((snapshot / "manifest.json").read_text())
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"{snapshot.name}: manifest.json is missing or unreadable ({e})") from e


def collection_of(settings: Settings) -> Collection:
    """The collection recorded in the current snapshot (or, if its manifest is damaged, the one
    before); a RAG_HOME without one is seeded from settings.seeds (RAG_SEEDS or the default seeds)."""
    for name in ("CURRENT", "PREVIOUS"):
        snap = _pointer(settings, name)
        if snap is None:
            continue
        try:
            manifest = read_manifest(snap)
        except IndexCorruptError:
            continue
        if "collection" in manifest:
            return Collection.from_json(manifest["collection"], settings.uploads)
    return seeded(settings.seeds, settings.uploads)


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
    if "collection" not in manifest:
        return Status("stale", "the index does not record its collection")
    coll = Collection.from_json(manifest["collection"], settings.uploads)
    known = manifest.get("sources", {})
    listing = list_files(coll.sources, coll.excluded, settings.home)
    notes = tuple(listing.notes)
    files = {str(p): p for p in listing.files}
    for path in sorted(set(known) - set(files)):
        return Status("stale", f"{Path(path).name} is no longer in the collection's sources", notes)
    for path, p in files.items():
        entry = known.get(path)
        if entry is None:
            return Status("stale", f"{p.name} is new", notes)
        if _changed(p, entry):
            return Status("stale", f"{p.name} changed", notes)
    return Status("fresh", "", notes)


def _changed(p: Path, entry: dict) -> bool:
    try:
        st = p.stat()
    except OSError:
        return True
    if entry.get("unreadable"):
        return os.access(p, os.R_OK)  # a permission fixed since: read it now
    if (st.st_size, st.st_mtime_ns) == (entry["size"], entry["mtime_ns"]):
        return False
    try:
        return sha256_file(p) != entry["sha256"]
    except OSError:
        return True


# --- build ----------------------------------------------------------------------------------------


@contextmanager
def _writer_lock(settings: Settings):
    "One writer at a time per RAG_HOME; a second build waits for the first."
    d = index_dir(settings)
    try:
        d.mkdir(parents=True, exist_ok=True)
        lock = open(d / ".lock", "w")  # noqa: SIM115 - closed below, after the unlock
    except OSError as e:
        raise _write_error(e, settings) from e
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_error(e: OSError, settings: Settings) -> RagError:
    "A one-line, actionable message for a failed write under RAG_HOME."
    where = e.filename or settings.home
    # numpy reports a short write without an errno ("384000 requested and 51168 written").
    short = e.errno is None and "requested and" in str(e)
    if e.errno in _DISK_FULL or short:
        return RagError(f"disk full: could not write {where} ({e.strerror or e}). Free some space (or set RAG_HOME to "
                        "a roomier disk) and run `rag index` again; the previous index is still in use.")
    return RagError(f"cannot write {where} ({e.strerror}); check that RAG_HOME ({settings.home}) is writable. "
                    "The previous index is still in use.")


def read_corpus(paths: Iterable[Path], max_bytes: int,
                warn: Warn = log.warning) -> tuple[list[Document], dict, list[Skipped]]:
    "Documents, a manifest entry per file, and the files skipped with their reasons."
    docs: list[Document] = []
    sources: dict[str, dict] = {}
    skipped: list[Skipped] = []
    by_hash: dict[str, str] = {}
    ids: set[str] = set()

    def skip(path: Path, entry: dict, reason: str) -> None:
        entry["skipped"] = reason
        skipped.append(Skipped(str(path), reason))
        warn(f"skipped {reason}")

    for path in paths:
        entry: dict = {"size": 0, "mtime_ns": 0, "sha256": ""}
        sources[str(path)] = entry
        try:
            st = path.stat()
            entry |= {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
            data = read_bytes(path, max_bytes)
        except OSError as e:  # vanished between listing and reading
            entry["unreadable"] = True
            skip(path, entry, f"{path.name}: cannot read ({e.strerror})")
            continue
        except DocumentError as e:
            entry["unreadable"] = isinstance(e.__cause__, OSError)  # retried once the permission is fixed
            skip(path, entry, str(e))
            continue
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        try:
            doc = read_document(path, data=data)
        except DocumentError as e:
            skip(path, entry, str(e))
            continue
        if doc.sha256 in by_hash:
            skip(path, entry, f"{path.name}: same content as {Path(by_hash[doc.sha256]).name}, indexed once")
            continue
        doc_id = doc.doc_id if doc.doc_id not in ids else f"{doc.doc_id}-{doc.sha256[:6]}"
        if doc_id != doc.doc_id:
            doc = Document(doc_id, doc.path, doc.title, doc.date, doc.sha256, doc.text, doc.paragraphs)
        ids.add(doc_id)
        by_hash[doc.sha256] = str(path)
        docs.append(doc)
        entry |= {"doc_id": doc_id, "title": doc.title}
    return docs, sources, skipped


def build_index(settings: Settings, *, progress: bool = True, warn: Warn = log.warning) -> BuildReport:
    """Refresh the collection's index: re-read its sources and make the new snapshot current.
    The first build of a RAG_HOME seeds the collection from settings.seeds. Texts whose vectors
    are cached (same text, same model) are not embedded again."""
    t0 = time.perf_counter()
    with _writer_lock(settings):
        return _build(settings, collection_of(settings), progress, warn, t0)


def add_sources(settings: Settings, paths: Sequence[str | Path], *, copy: bool = False,
                names: Sequence[str] | None = None, progress: bool = True, warn: Warn = log.warning) -> BuildReport:
    """Add articles to the collection and rebuild once. The one way in for the CLI and the UI.

    copy=False (`rag index PATH`): each path, a folder or an article file, becomes a source of the
    collection, refreshed by every later build.
    copy=True (uploads): each file is checked and copied into RAG_HOME/uploads under a safe unique
    name; `names` are the files' names as the user knows them (for messages). Files that are not
    articles, or already in the collection, are skipped with the reason. If the build fails, the
    copies are removed again, so the collection and its index are unchanged."""
    t0 = time.perf_counter()
    with _writer_lock(settings):
        coll = collection_of(settings)
        if not copy:
            coll, notes = with_added(coll, paths, settings.home)
            report = _build(settings, coll, progress, warn, t0)
            report.notes += notes
            return report
        stored, skipped, named = _store_uploads(settings, paths, names)
        if not stored:  # nothing new: the collection and its index stay as they are
            counts = read_manifest(current_snapshot(settings)).get("counts", {}) if current_snapshot(settings) else {}
            return BuildReport(current_snapshot(settings), counts.get("documents", 0), counts.get("paragraphs", 0),
                               counts.get("chunks", 0), counts.get("sentences", 0), 0, 0,
                               time.perf_counter() - t0, skipped, coll.sources)
        try:
            report = _build(settings, coll, progress, warn, t0)
        except BaseException:
            for p in stored:
                p.unlink(missing_ok=True)
            raise
        refused = {s.path for s in report.skipped}
        for p in stored:
            if str(p) in refused:  # e.g. the same text as another upload in this batch
                p.unlink(missing_ok=True)
        report.skipped = skipped + [Skipped(named.get(s.path, s.path), s.reason.replace(Path(s.path).name,
                                                                                         named.get(s.path, s.path)))
                                    for s in report.skipped if s.path in named]
        report.added = [Added(named.get(a.path, a.name), a.path, a.doc_id, a.title, a.paragraphs)
                        for a in report.added if a.path in named]
        return report


def remove_sources(settings: Settings, targets: Sequence[str | Path], *, progress: bool = True,
                   warn: Warn = log.warning) -> BuildReport:
    """Take sources out of the collection and rebuild once. A target is a source folder or file, a
    file or folder inside one, or an article id; an uploaded article's stored copy is deleted."""
    t0 = time.perf_counter()
    with _writer_lock(settings):
        coll = collection_of(settings)
        ids = _doc_paths(settings)
        paths = [ids.get(str(t), t) for t in targets]
        coll, delete = with_removed(coll, paths)
        try:
            report = _build(settings, coll, progress, warn, t0)
        except EmptyCollectionError as e:
            raise EmptyCollectionError(f"Removing {', '.join(map(str, targets))} would leave the collection without "
                                       "articles; nothing was changed. Add other articles first.") from e
        for p in delete:
            p.unlink(missing_ok=True)
        return report


def _doc_paths(settings: Settings) -> dict[str, str]:
    "doc_id -> source path of the current snapshot's articles."
    snap = current_snapshot(settings)
    try:
        sources = read_manifest(snap).get("sources", {}) if snap else {}
    except IndexCorruptError:
        return {}
    return {e["doc_id"]: path for path, e in sources.items() if "doc_id" in e}


def stored_name(original: str, sha256: str) -> str:
    """A safe, unique file name for an upload: slugged stem, content hash, lower-case suffix.

    >>> stored_name("../../etc/My Report (final).TXT", "ab" * 32)
    'My-Report-final-ababababab.txt'
    """
    p = Path(original.replace("\\", "/")).name
    stem, suffix = os.path.splitext(p)
    return f"{slug(stem)[:60].strip('-.') or 'article'}-{sha256[:10]}{suffix.lower()}"


def _store_uploads(settings: Settings, paths: Sequence[str | Path], names: Sequence[str] | None
                   ) -> tuple[list[Path], list[Skipped], dict[str, str]]:
    "Check and copy uploaded files into RAG_HOME/uploads: (stored copies, refusals, stored path -> name)."
    from .collection import SUFFIXES

    uploads = settings.uploads
    uploads.mkdir(parents=True, exist_ok=True, mode=0o700)
    indexed = {e.get("sha256"): e.get("title") or Path(p).name for p, e in _current_sources(settings).items()
               if "doc_id" in e}
    stored: list[Path] = []
    skipped: list[Skipped] = []
    named: dict[str, str] = {}
    seen: dict[str, str] = {}
    for i, raw in enumerate(paths):
        path = Path(raw)
        name = Path(names[i]).name if names else path.name
        if Path(name).suffix.lower() not in SUFFIXES:
            skipped.append(Skipped(name, f"{name}: {Path(name).suffix or 'no extension'} files are not articles; "
                                         f"add {', '.join(sorted(SUFFIXES))}"))
            continue
        try:
            data = read_bytes(path, settings.max_file_bytes)
            doc = read_document(Path(name), data=data)
        except DocumentError as e:
            skipped.append(Skipped(name, str(e).replace(path.name, name, 1)))
            continue
        if doc.sha256 in indexed:
            skipped.append(Skipped(name, f"{name}: already in the collection, as “{indexed[doc.sha256]}”"))
            continue
        if doc.sha256 in seen:
            skipped.append(Skipped(name, f"{name}: same content as {seen[doc.sha256]} in this upload"))
            continue
        seen[doc.sha256] = name
        dest = uploads / stored_name(name, doc.sha256)
        tmp = uploads / f".{dest.name}.part"
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, dest)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            for p in stored:
                p.unlink(missing_ok=True)
            raise _write_error(e, settings) from e
        stored.append(dest)
        named[str(dest)] = name
    return stored, skipped, named


def _current_sources(settings: Settings) -> dict:
    snap = current_snapshot(settings)
    try:
        return read_manifest(snap).get("sources", {}) if snap else {}
    except IndexCorruptError:
        return {}


def _build(settings: Settings, coll: Collection, progress: bool, warn: Warn, t0: float) -> BuildReport:
    "Build a snapshot of the collection and make it current. The caller holds the writer lock."
    root = index_dir(settings)
    try:
        _collect_garbage(root, settings)
        coll = Collection(coll.roots, coll.uploads,
                          tuple(x for x in coll.excluded if Path(x).exists() or Path(coll.uploads) not in Path(x).parents))
        listing = list_files(coll.sources, coll.excluded, settings.home)
        for note in listing.notes:
            warn(f"skipped {note.reason}")
        before = _current_sources(settings)
        docs, sources, skipped = read_corpus(listing.files, settings.max_file_bytes, warn)
        if not docs:
            raise EmptyCollectionError(
                f"No readable articles in {', '.join(coll.sources)}. Add .txt, .md, .html, .pdf or .docx files "
                "with `rag index PATH` (or point RAG_SEEDS at your articles before the first build)."
            )
        titles = {d.doc_id: d.title for d in docs}
        chunks = [c for d in docs for c in chunk_document(d, settings.chunk_tokens, settings.token_encoding)]
        sentences = [s for d in docs for s in split_sentences(d)]
        doc_text = {d.doc_id: d.text for d in docs}
        texts = [embedding_text(titles[c.doc_id], c.text) for c in chunks]
        texts += [doc_text[s.doc_id][s.start : s.end] for s in sentences]
        vectors, embedded = _embed_cached(settings, texts, progress, warn)
        chunk_vecs, sent_vecs = vectors[: len(chunks)], vectors[len(chunks) :]
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "settings": fingerprint(settings),
            "dim": int(vectors.shape[1]),
            "index_type": ann.resolve_type(settings.index_type, len(chunks)),
            "counts": {"documents": len(docs), "paragraphs": sum(len(d.paragraphs) for d in docs),
                       "chunks": len(chunks), "sentences": len(sentences)},
            "collection": coll.to_json(),
            "sources": sources,
        }
        snap = _write_snapshot(settings, manifest, docs, chunks, chunk_vecs, sentences, sent_vecs)
        if settings.build_backend == "torch":
            from .embedding import ensure_onnx

            ensure_onnx(settings.home, settings.embedder)  # torch is loaded now; queries then need none
    except OSError as e:
        raise _write_error(e, settings) from e
    old_ids = {e["doc_id"] for e in before.values() if "doc_id" in e}
    added = [Added(Path(d.path).name, d.path, d.doc_id, d.title, len(d.paragraphs)) for d in docs
             if before.get(d.path, {}).get("sha256") != d.sha256]
    return BuildReport(snap, len(docs), manifest["counts"]["paragraphs"], len(chunks), len(sentences),
                       embedded, len(texts) - embedded, time.perf_counter() - t0,
                       [*listing.notes, *skipped], coll.sources, added, sorted(old_ids - {d.doc_id for d in docs}))


def _embed_cached(settings: Settings, texts: list[str], progress: bool, warn: Warn) -> tuple[np.ndarray, int]:
    from .embedding import get_embedder, model_key
    from .embedding_cache import CHECKPOINT_TEXTS, EmbeddingCache, cache_key

    tag = f"{model_key(settings.embedder)}-{settings.build_backend}"
    cache = EmbeddingCache(settings.home / "cache" / "embeddings", tag, warn=warn)
    keys = [cache_key(tag, t) for t in texts]
    todo = sorted({k: i for i, k in reversed(list(enumerate(keys))) if k not in cache}.values(),
                  key=lambda i: -len(texts[i]))  # longest first: batches of similar length pad little
    if todo:
        embedder = get_embedder(settings.embedder, settings.build_backend, home=settings.home, threads=2)
        bar = _progress_bar(len(todo), "Embedding", progress)
        try:
            for b in range(0, len(todo), CHECKPOINT_TEXTS):
                part = todo[b : b + CHECKPOINT_TEXTS]
                vecs = embedder.embed([texts[i] for i in part], progress=bar.update)
                cache.checkpoint([keys[i] for i in part], vecs)  # a killed build resumes from here
        finally:
            bar.close()
    vectors = cache.get(keys)
    cache.commit(keys)
    return vectors, len(todo)


def _progress_bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="text", disable=not enabled, leave=False)


def _write_snapshot(settings, manifest, docs, chunks, chunk_vecs, sentences, sent_vecs) -> Path:
    import bm25s

    from .text import terms

    root = index_dir(settings)
    name = f"snap-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{os.urandom(3).hex()}"
    tmp = root / f".tmp-{name}"
    tmp.mkdir(parents=True)
    try:
        write_tables(tmp, docs, chunks, sentences)
        ann.write(ann.build(chunk_vecs, settings.index_type), tmp / "dense.faiss")
        titles = {d.doc_id: d.title for d in docs}
        retriever = bm25s.BM25()
        retriever.index([terms(embedding_text(titles[c.doc_id], c.text)) for c in chunks], show_progress=False)
        retriever.save(str(tmp / "bm25"))
        np.save(tmp / "sentence_vectors.npy", sent_vecs.astype(np.float32), allow_pickle=False)
        _seal(tmp)  # before the stats are taken: sealing changes no mtime, but nothing may write after it
        manifest["files"] = {
            p.relative_to(tmp).as_posix(): {"sha256": sha256_file(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            for p in sorted(tmp.rglob("*")) if p.is_file() and (st := p.stat())
        }
        _write_sealed(tmp / "manifest.json", json.dumps(manifest, indent=1))
        final = root / name
        os.replace(tmp, final)
        load_snapshot(final, verify="full")  # never point CURRENT at something that does not load
        previous = current_snapshot(settings)
        if previous is not None:
            _write_pointer(root, "PREVIOUS", previous.name)
        _write_pointer(root, "CURRENT", name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _collect_garbage(root, settings)
    return final


def _seal(path: Path) -> None:
    "Make every file read-only and durable: a snapshot never changes once written."
    for p in path.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
            p.chmod(0o444)


def _write_sealed(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    path.chmod(0o444)


def _write_pointer(root: Path, pointer: str, name: str) -> None:
    tmp = root / f".{pointer}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w") as f:
            f.write(name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, root / pointer)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _collect_garbage(root: Path, settings: Settings) -> None:
    """Delete what no reader can be using: every snapshot but the ones CURRENT and PREVIOUS name
    (a snapshot renamed into place by a build that was killed before the switch was never current
    and is dropped; the current one is never touched), and temporary files of crashed writers.
    Callers hold the writer lock, so no other build is writing; an upload's copy in progress is
    spared until it is PART_FILE_AGE old."""
    keep = {p.name for p in (current_snapshot(settings), _pointer(settings, "PREVIOUS")) if p is not None}
    if keep:  # without CURRENT nothing is known to be in use, so no snapshot is judged garbage
        for p in root.glob("snap-*"):
            if p.is_dir() and p.name not in keep:
                shutil.rmtree(p, ignore_errors=True)
    for p in root.glob(".tmp-snap-*"):
        shutil.rmtree(p, ignore_errors=True)
    for p in root.glob(".*.tmp"):
        p.unlink(missing_ok=True)
    for p in settings.uploads.glob(".*.part") if settings.uploads.is_dir() else ():
        try:
            if time.time() - p.stat().st_mtime > PART_FILE_AGE:
                p.unlink()
        except FileNotFoundError:
            pass


# --- load -----------------------------------------------------------------------------------------


def verify_files(snapshot: Path, manifest: dict, mode: str = "auto") -> None:
    """Check every index file against the manifest.

    mode "full": sha256 of every file (the build, before CURRENT points at a snapshot, and `rag index
    --verify`). mode "stat": size and mtime as the build recorded them; a file whose mtime differs
    (copied without keeping times, or written into) is hashed, and fails only if its content changed.
    mode "auto" (every open): "full" up to FULL_VERIFY_MAX_BYTES, "stat" above.

    Why not hash at every open: sha256 reads every byte (0.3-0.5 GB/s on this machine's cores), so a
    1M-paragraph snapshot (5 GB) would take 10-20 s to open and pull all of it into memory, the very
    cost memory-mapping avoids; 64 MB costs at most a quarter of a second. Snapshots are sealed read-only and immutable by contract, and the build
    verified every hash before switching CURRENT; what can still happen to a sealed file is a write
    into it (which moves its mtime), a truncation (size) or a deletion, and the stat check catches
    all three in microseconds. What it cannot catch is silent bit rot or a writer that restores the
    mtime: `rag index --verify` hashes everything, and small collections are hashed at every open."""
    files = manifest.get("files")
    if not files:
        raise IndexCorruptError(f"{snapshot.name}: manifest lists no files")
    total = sum(f["size"] for f in files.values())
    full = mode == "full" or (mode == "auto" and total <= FULL_VERIFY_MAX_BYTES)
    for rel, want in files.items():
        p = snapshot / rel
        try:
            st = p.stat()
        except OSError:
            raise IndexCorruptError(f"{snapshot.name}: {rel} is missing") from None
        suspect = full or st.st_mtime_ns != want.get("mtime_ns")
        if st.st_size != want["size"] or (suspect and sha256_file(p) != want["sha256"]):
            raise IndexCorruptError(f"{snapshot.name}: {rel} does not match its checksum")


def load_snapshot(path: Path, verify: str = "auto") -> Snapshot:
    """Open a snapshot: its files are checked (verify_files) and memory-mapped read-only, nothing is
    parsed per row, so a million paragraphs open in a fraction of a second."""
    import bm25s

    manifest = read_manifest(path)
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexCorruptError(f"{path.name}: index format {manifest.get('format')}, expected {FORMAT_VERSION}; "
                                "rebuild with `rag index`")
    stats = _stats(path, manifest)  # before the checks: a change made after them is still seen
    verify_files(path, manifest, verify)
    try:
        tables = Tables(path)
        dense = ann.read(path / "dense.faiss")  # memory-mapped read-only where the index type allows
        bm25 = bm25s.BM25.load(str(path / "bm25"), mmap=True)  # np.load(mmap_mode="r")
        sent_vecs = RowFile(path / "sentence_vectors.npy")  # a few rows per question, read with pread
    except (OSError, ValueError, KeyError, IndexError) as e:
        raise IndexCorruptError(f"{path.name}: index files are unreadable ({e}); rebuild with `rag index`") from e
    counts = manifest.get("counts", {})
    if (dense.ntotal, len(sent_vecs)) != (len(tables.chunks), len(tables.sentences)) or \
            (len(tables.docs), len(tables.paragraphs)) != (counts.get("documents"), counts.get("paragraphs")):
        raise IndexCorruptError(f"{path.name}: the vector, chunk, sentence and paragraph counts do not match")
    return Snapshot(path, manifest, tables, dense, bm25, sent_vecs, stats)


def _stats(path: Path, manifest: dict) -> dict[str, tuple[int, int, int]]:
    out = {}
    for rel in manifest.get("files", {}):
        try:
            st = (path / rel).stat()
        except OSError:
            continue
        out[rel] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return out


def changed_files(snapshot: Snapshot) -> list[str]:
    """Files of a loaded snapshot that changed (size or mtime) or vanished since it was loaded.
    Snapshots are immutable: any change means someone wrote into one, and its results can no
    longer be trusted."""
    now = _stats(snapshot.path, snapshot.manifest)
    return sorted(rel for rel, was in snapshot.file_stats.items() if now.get(rel) != was)


def ensure_index(settings: Settings, *, progress: bool = True, warn: Warn = log.warning) -> Snapshot:
    "The current snapshot, (re)built first if it is missing, stale or corrupt."
    status = index_status(settings)
    if status.state != "fresh":
        if status.state != "missing":
            warn(f"Rebuilding the index: {status.reason}")
        build_index(settings, progress=progress, warn=warn)
        return load_snapshot(current_snapshot(settings), verify="stat")
    try:
        return load_snapshot(current_snapshot(settings))
    except IndexCorruptError as e:
        warn(f"Rebuilding the index: {e}")
        build_index(settings, progress=progress, warn=warn)
        return load_snapshot(current_snapshot(settings), verify="stat")


def reload(settings: Settings, loaded: Snapshot | None, *, progress: bool = False,
           warn: Warn = log.warning) -> Snapshot:
    """What a long-running process should be serving now: `loaded` while it is still CURRENT and
    untouched; the new CURRENT snapshot after another process rebuilt the collection; a rebuilt
    snapshot when files of the loaded one changed on disk (never its silently different results).
    A snapshot built with other settings (another embedder, chunker or index type) is not loaded
    over this process's settings: the index is rebuilt for them instead."""
    snap = current_snapshot(settings)
    if loaded is not None and snap == loaded.path:
        changed = changed_files(loaded)
        if not changed:
            return loaded
        warn(f"Snapshot {loaded.path.name} changed on disk ({', '.join(changed[:3])}); snapshots are read-only, "
             "so it is rebuilt from the sources")
        with _writer_lock(settings):
            if current_snapshot(settings) == loaded.path:
                _build(settings, collection_of(settings), progress, warn, time.perf_counter())
        return load_snapshot(current_snapshot(settings), verify="stat")
    if snap is not None:
        try:
            manifest = read_manifest(snap)
        except IndexCorruptError:
            manifest = {}
        if manifest.get("settings") == fingerprint(settings):
            try:
                return load_snapshot(snap, verify="stat")
            except IndexCorruptError as e:
                warn(f"Rebuilding the index: {e}")
    return ensure_index(settings, progress=progress, warn=warn)
