import errno
import json
import shutil
import subprocess
import sys

import pytest

from rag import ann, tables
from rag.errors import IndexCorruptError, RagError
from rag.index import build_index, current_snapshot, ensure_index, index_status, load_snapshot

from .conftest import SEEDS

quiet = {"progress": False, "warn": lambda m: None}


def test_fresh_index_is_fresh_and_loads(settings):
    assert index_status(settings).state == "fresh"
    snap = load_snapshot(current_snapshot(settings), verify="full")
    assert snap.manifest["counts"]["documents"] == 5
    assert snap.manifest["settings"]["embedder"] == "all-MiniLM-L6-v2"
    assert snap.manifest["dim"] == 384
    assert set(snap.manifest["files"]) >= {"dense.faiss", "sentence_vectors.npy", *tables.FILES}
    for entry in snap.manifest["sources"].values():
        assert len(entry["sha256"]) == 64


def test_touching_one_file_re_embeds_only_its_new_paragraph(fresh):
    first = build_index(fresh, **quiet)
    assert first.embedded == 0  # everything came from the session's cache
    path = fresh.seeds[0] / "004_df5a4ce205c5cd94.txt"
    text = path.read_text()
    marker = "Latest News"
    path.write_text(text.replace(marker, "The forum closed with a gala dinner for all guests.\n\n" + marker))
    assert index_status(fresh).state == "stale"
    second = build_index(fresh, **quiet)
    assert second.embedded == 2  # the new paragraph's chunk and its one sentence
    assert second.cached == first.cached + first.embedded
    assert index_status(fresh).state == "fresh"


def test_changed_setting_makes_index_stale(fresh):
    build_index(fresh, **quiet)
    assert "chunker" in index_status(fresh.with_(chunk_tokens=120)).reason


def test_crash_mid_write_keeps_the_previous_index(fresh, monkeypatch):
    build_index(fresh, **quiet)
    before = current_snapshot(fresh)
    (fresh.seeds[0] / "extra.txt").write_text("A brand new article about marrow donors. It has two sentences.\n")

    def boom(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", "dense.faiss")

    monkeypatch.setattr(ann, "write", boom)
    with pytest.raises(RagError, match=r"^disk full: could not write dense.faiss .*previous index is still in use"):
        build_index(fresh, **quiet)
    assert current_snapshot(fresh) == before
    assert load_snapshot(before).manifest["counts"]["documents"] == 5
    root = before.parent
    assert not list(root.glob(".tmp-*")), "the half-written snapshot was left behind"


def test_kill_mid_write_in_a_subprocess_keeps_current(fresh):
    "A process killed during the build (no cleanup runs) leaves CURRENT on a loadable snapshot."
    build_index(fresh, **quiet)
    before = current_snapshot(fresh)
    (fresh.seeds[0] / "extra.txt").write_text("Another article. About cord blood banks.\n")
    code = f"""
import os
from rag import ann, tables
from rag.config import load_settings
from rag.index import build_index
def die(*a, **k): os._exit(9)
ann.write = die
build_index(load_settings(seeds=({str(fresh.seeds[0])!r},), home={str(fresh.home)!r}), progress=False)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    assert current_snapshot(fresh) == before
    load_snapshot(before, verify="full")


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete", "manifest"])
def test_corruption_is_detected_and_rebuilt(fresh, damage):
    build_index(fresh, **quiet)
    snap = current_snapshot(fresh)
    target = snap / ("manifest.json" if damage == "manifest" else "dense.faiss")
    data = bytearray(target.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF  # faiss itself loads this without complaint
        target.write_bytes(data)
    elif damage == "truncate":
        target.write_bytes(data[:100])
    elif damage == "delete":
        target.unlink()
    else:
        target.write_text("{not json")
    if damage == "manifest":
        assert index_status(fresh).state == "corrupt"
    else:
        with pytest.raises(IndexCorruptError):
            load_snapshot(snap)
    warnings = []
    rebuilt = ensure_index(fresh, progress=False, warn=warnings.append)
    assert warnings and "Rebuilding the index" in warnings[0]
    assert rebuilt.path != snap and rebuilt.manifest["counts"]["documents"] == 5


def test_bad_files_are_skipped_with_reasons_and_the_rest_indexed(fresh):
    d = fresh.seeds[0]
    (d / "empty.txt").write_bytes(b"")
    (d / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (d / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me. A second sentence.".encode("latin-1"))
    (d / "copy.md").write_bytes((SEEDS / "000_273eb6cdc3dda5a5.txt").read_bytes())
    warnings = []
    report = build_index(fresh, progress=False, warn=warnings.append)
    reasons = {s.path.rsplit("/", 1)[1]: s.reason for s in report.skipped}
    assert "empty file" in reasons["empty.txt"]
    assert "binary file (PNG image)" in reasons["image.txt"]
    assert "not valid UTF-8" in reasons["latin1.txt"]
    assert "same content as 000_273eb6cdc3dda5a5.txt" in reasons["copy.md"]
    assert len(warnings) == 4 and report.documents == 5
    assert index_status(fresh).state == "fresh"  # skipped files are remembered, not re-reported as new


def test_no_articles_is_a_clear_error(fresh, tmp_path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    with pytest.raises(RagError, match="No readable articles"):
        build_index(fresh.with_(seeds=(empty,)), **quiet)


def test_index_files_contain_no_pickle(settings):
    snap = current_snapshot(settings)
    for path in snap.rglob("*"):
        if path.suffix == ".npy":
            assert b"pickle" not in path.read_bytes()[:200]
    manifest = json.loads((snap / "manifest.json").read_text())
    assert not any(name.endswith((".pkl", ".pickle")) for name in manifest["files"])


# --- the collection: add, remove, refresh ----------------------------------------------------------

ARTICLE = ("Harbor clinic opens a marrow donor centre\n\nThe Harbor clinic opened a marrow donor centre on "
           "Tuesday. It will register 400 donors a month.\n")


def _other(tmp_path, name="other", text=ARTICLE):
    d = tmp_path / name
    d.mkdir()
    (d / "harbor.txt").write_text(text)
    return d


def _ids(settings):
    return set(load_snapshot(current_snapshot(settings)).docs)


def test_index_path_adds_and_a_refresh_keeps_every_source(fresh, tmp_path):
    from rag.index import add_sources, collection_of

    build_index(fresh, **quiet)
    other = _other(tmp_path)
    report = add_sources(fresh, [other], **quiet)
    assert report.documents == 6 and [a.doc_id for a in report.added] == ["harbor"]
    assert collection_of(fresh).roots == (str(fresh.seeds[0]), str(other))
    assert index_status(fresh).state == "fresh"
    assert build_index(fresh, **quiet).documents == 6  # `rag index`: every recorded source, not just the seeds
    # RAG_SEEDS only seeds a new collection: other seeds on this RAG_HOME change nothing.
    assert build_index(fresh.with_(seeds=(other,)), **quiet).documents == 6
    assert add_sources(fresh, [other / "harbor.txt"], **quiet).notes == [
        f"{other / 'harbor.txt'} is already part of the collection (source {other})"]


def test_remove_a_source_a_file_or_an_article_id(fresh, tmp_path):
    from rag.index import EmptyCollectionError, add_sources, remove_sources

    build_index(fresh, **quiet)
    other = _other(tmp_path)
    add_sources(fresh, [other], **quiet)
    report = remove_sources(fresh, [other], **quiet)
    assert report.removed == ["harbor"] and report.documents == 5
    one = fresh.seeds[0] / "004_df5a4ce205c5cd94.txt"
    assert remove_sources(fresh, [one], **quiet).removed == ["004_df5a4ce205c5cd94"]
    assert index_status(fresh).state == "fresh"  # the excluded file is not "new" to a status check
    assert add_sources(fresh, [one], **quiet).documents == 5  # adding it back lifts the exclusion
    assert remove_sources(fresh, ["001_6aa580e427458a29"], **quiet).removed == ["001_6aa580e427458a29"]
    with pytest.raises(RagError, match="is not a source of this collection"):
        remove_sources(fresh, [tmp_path / "elsewhere"], **quiet)
    before = current_snapshot(fresh)
    with pytest.raises(EmptyCollectionError, match="would leave the collection without articles; nothing was changed"):
        remove_sources(fresh, [fresh.seeds[0]], **quiet)
    assert current_snapshot(fresh) == before


def test_uploads_are_stored_checked_and_kept_by_every_build(fresh, tmp_path):
    from rag.index import add_sources, remove_sources

    build_index(fresh, **quiet)
    up = tmp_path / "incoming"
    up.mkdir()
    (up / "tmp123.txt").write_text(ARTICLE)
    (up / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (up / "dup.txt").write_bytes((SEEDS / "000_273eb6cdc3dda5a5.txt").read_bytes())
    report = add_sources(fresh, [up / "tmp123.txt", up / "photo.txt", up / "dup.txt"], copy=True,
                         names=["Harbor notes.txt", "photo.txt", "dup.txt"], **quiet)
    assert [(a.name, a.title) for a in report.added] == [("Harbor notes.txt", "Harbor clinic opens a marrow donor centre")]
    reasons = {s.path: s.reason for s in report.skipped}
    assert "binary file (PNG image)" in reasons["photo.txt"]
    assert "already in the collection, as “Academician Huang" in reasons["dup.txt"]
    stored = [p.name for p in fresh.uploads.iterdir()]
    assert stored == [report.added[0].path.rsplit("/", 1)[1]] and stored[0].startswith("Harbor-notes-")
    # `rag index OTHERDIR` and a refresh keep the upload.
    add_sources(fresh, [_other(tmp_path, "other", ARTICLE.replace("Harbor", "Bay"))], **quiet)
    assert report.added[0].doc_id in _ids(fresh)
    build_index(fresh, **quiet)
    assert report.added[0].doc_id in _ids(fresh)
    remove_sources(fresh, [report.added[0].doc_id], **quiet)  # deletes the stored copy
    assert report.added[0].doc_id not in _ids(fresh) and not list(fresh.uploads.iterdir())


def test_a_failed_upload_build_leaves_nothing_behind(fresh, tmp_path, monkeypatch):
    from rag.index import add_sources

    build_index(fresh, **quiet)
    before = current_snapshot(fresh)
    (tmp_path / "a.txt").write_text(ARTICLE)
    monkeypatch.setattr(ann, "write", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left")))
    with pytest.raises(RagError, match="^disk full"):
        add_sources(fresh, [tmp_path / "a.txt"], copy=True, **quiet)
    assert current_snapshot(fresh) == before and not list(fresh.uploads.iterdir())


# --- the embedding cache ---------------------------------------------------------------------------


def test_cache_keeps_vectors_of_other_builds(fresh, tmp_path):
    from rag.index import add_sources, remove_sources

    build_index(fresh, **quiet)
    other = _other(tmp_path)
    assert add_sources(fresh, [other], **quiet).embedded == 3  # its one chunk and two sentences
    remove_sources(fresh, [other], **quiet)
    assert add_sources(fresh, [other], **quiet).embedded == 0  # its vectors outlived its removal


def test_cache_is_bounded_and_evicts_the_longest_unused(tmp_path):
    import numpy as np

    from rag.embedding_cache import EmbeddingCache

    vec = np.ones((1, 4), np.float32)
    cache = EmbeddingCache(tmp_path, "t", max_bytes=3 * (4 * 4 + 48))
    for i, k in enumerate([b"a" * 40, b"b" * 40, b"c" * 40]):
        cache.checkpoint([k], vec * i)
        cache.used[k] = 1000 + i  # used long ago, a before b before c
    cache.commit([b"c" * 40])
    cache.checkpoint([b"d" * 40], vec)
    cache.commit([b"d" * 40])  # four vectors, room for three: the longest unused ("a") goes
    again = EmbeddingCache(tmp_path, "t")
    assert sorted(again.vectors) == [b"b" * 40, b"c" * 40, b"d" * 40]
    assert not list((tmp_path / "t").glob("journal-*"))


def test_damaged_cache_is_named_removed_and_rebuilt(fresh, tmp_path):
    small = fresh.with_(seeds=(tmp_path / "one",), home=tmp_path / "one-home")
    small.seeds[0].mkdir()
    small.home.mkdir()
    (small.home / "models").symlink_to((fresh.home / "models").resolve())
    shutil.copy(SEEDS / "004_df5a4ce205c5cd94.txt", small.seeds[0])
    build_index(small, **quiet)
    for f in (small.home / "cache" / "embeddings").rglob("*.npz"):
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])  # cut short, as by a crash mid-copy
    warnings = []
    report = build_index(small, progress=False, warn=warnings.append)
    assert report.documents == 1 and report.embedded == report.chunks + report.sentences
    assert any("embedding cache file" in w and "is damaged (BadZipFile" in w for w in warnings)
    assert build_index(small, **quiet).embedded == 0  # the rebuilt cache is whole again


def test_killed_build_resumes_from_its_last_checkpoint(fresh, tmp_path):
    "A build killed mid-embedding (no cleanup) keeps the vectors of every finished checkpoint."
    d = _other(tmp_path, "big", "".join(f"Paragraph {i} about donor {i} and marrow {i * 7}.\n\n" for i in range(120)))
    code = f"""
import os
from rag import embedding_cache
from rag.config import load_settings
from rag.index import add_sources, build_index
embedding_cache.CHECKPOINT_TEXTS = 40
real = embedding_cache.EmbeddingCache.checkpoint
calls = []
def checkpoint(self, keys, vectors):
    real(self, keys, vectors)
    calls.append(1)
    if len(calls) == 3:
        os._exit(9)  # killed after three checkpoints
embedding_cache.EmbeddingCache.checkpoint = checkpoint
s = load_settings(seeds=({str(fresh.seeds[0])!r},), home={str(fresh.home)!r})
build_index(s, progress=False)
add_sources(s, [{str(d)!r}], progress=False)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    from rag.index import add_sources

    report = add_sources(fresh, [d], **quiet)
    assert report.embedded == 240 - 120  # 120 of its 240 texts were checkpointed before the kill
    assert not list((fresh.home / "cache").rglob(".*.tmp"))


# --- garbage, immutability, checksums ----------------------------------------------------------------


def test_garbage_goes_by_current_and_previous_not_by_name(fresh):
    build_index(fresh, **quiet)
    first = current_snapshot(fresh)
    (fresh.seeds[0] / "extra.txt").write_text(ARTICLE)
    build_index(fresh, **quiet)
    current = current_snapshot(fresh)
    root = current.parent
    # A build killed after renaming its snapshot into place, before switching CURRENT, leaves a
    # never-current snapshot whose name sorts after the current one; and a half-written folder.
    orphan = root / "snap-99991231T235959-ffffff"
    shutil.copytree(current, orphan)
    (root / ".tmp-snap-20000101T000000-000000").mkdir()
    (root / ".CURRENT.123.tmp").write_text("x")
    (fresh.seeds[0] / "extra.txt").unlink()
    build_index(fresh, **quiet)
    names = sorted(p.name for p in root.iterdir() if not p.name.startswith(".lock"))
    assert names == sorted(["CURRENT", "PREVIOUS", current.name, current_snapshot(fresh).name])
    assert not orphan.exists() and not first.exists()


def test_snapshot_files_are_read_only_and_changes_are_detected(fresh):
    from rag.index import changed_files, reload

    build_index(fresh, **quiet)
    snap = load_snapshot(current_snapshot(fresh))
    vectors = snap.path / "sentence_vectors.npy"
    assert all(not (p.stat().st_mode & 0o222) for p in snap.path.rglob("*") if p.is_file())
    assert reload(fresh, snap) is snap
    vectors.chmod(0o644)
    data = bytearray(vectors.read_bytes())
    data[-4:] = b"\x00\x00\x80\x7f"  # same size: only the mtime tells
    vectors.write_bytes(data)
    assert changed_files(snap) == ["sentence_vectors.npy"]
    warnings = []
    fresh_snap = reload(fresh, snap, warn=warnings.append)
    assert fresh_snap.path != snap.path and "changed on disk" in warnings[0]
    assert not changed_files(fresh_snap)


def test_onnx_model_is_checksummed_and_re_exported(fresh, settings):
    import numpy as np

    from rag.embedding import ensure_onnx, get_embedder, onnx_paths

    models = fresh.home / "models"
    models.unlink()  # a copy of the session's export, not the shared one
    shutil.copytree(settings.home / "models", models)
    fp32, _ = onnx_paths(fresh.home, fresh.embedder)
    before = get_embedder(fresh.embedder, "onnx", home=fresh.home).embed_batch(["marrow donors"])
    data = bytearray(fp32.read_bytes())
    data[len(data) // 2] ^= 0x01
    fp32.write_bytes(data)
    ensure_onnx(fresh.home, fresh.embedder)  # notices, exports again
    after = get_embedder(fresh.embedder, "onnx", home=fresh.home).embed_batch(["marrow donors"])
    assert fp32.read_bytes() != bytes(data)
    assert float(np.dot(before[0], after[0])) > 0.999


# --- the snapshot's tables (rag.tables): memory-mapped, read by row -----------------------------------


def test_snapshot_answers_as_the_articles_it_was_built_from(settings):
    "What the tables give back equals the records the build made (char offsets over non-ASCII text too)."
    from rag.chunking import chunk_document, split_sentences
    from rag.index import read_corpus
    from rag.store.snapshot import SnapshotStore

    snap = load_snapshot(current_snapshot(settings))
    store = SnapshotStore(snap, settings)
    docs, _, _ = read_corpus(sorted(SEEDS.glob("*.txt")), settings.max_file_bytes)
    assert [d.doc_id for d in docs] == list(snap.docs) == [d.doc_id for d in store.documents()]
    assert any(len(d.text.encode()) != len(d.text) for d in docs)  # multi-byte characters: bytes != chars
    chunks = [c for d in docs for c in chunk_document(d, settings.chunk_tokens, settings.token_encoding)]
    assert [[c.start, c.end] for c in chunks] == snap.chunks[:, [tables.C_START, tables.C_END]].tolist()
    for d in docs:
        assert snap.docs[d.doc_id] == d == store.articles()[d.doc_id]  # every field: path, title, date, sha256, text, paragraphs
        assert store.document(d.doc_id).paragraphs == len(d.paragraphs)
        keys = [(d.doc_id, p.number) for p in d.paragraphs]
        hits = [store.paragraph(*k) for k in keys]
        assert [(h.start, h.end, h.text, h.page) for h in hits] == [(p.start, p.end, p.text(d.text), p.page)
                                                                   for p in d.paragraphs]
        sentences, vectors = store.sentences(keys)
        assert [s for ss in sentences for s in ss] == split_sentences(d) and len(vectors) == len(split_sentences(d))
        assert store.article(d.doc_id).text == "\n".join([d.title] + [p.text(d.text) for p in d.paragraphs]).lower()
    with pytest.raises(KeyError):
        store.paragraph("no-such-article", 1)
    with pytest.raises(IndexError):
        store.paragraph(docs[0].doc_id, len(docs[0].paragraphs) + 1)
    assert "no-such-article" not in snap.docs and docs[0].doc_id in snap.docs
    assert store.label() == snap.path.name


def _synthetic_snapshot(settings, articles: int, per: int = 20):
    "A snapshot of generated articles written by rag.index, with random unit vectors in place of embeddings."
    import hashlib

    import numpy as np

    from rag import index
    from rag.chunking import split_sentences
    from rag.types import Chunk, Document, Paragraph

    docs, chunks, sentences = [], [], []
    for a in range(articles):
        title = f"Report {a} — naïve café"
        text, paras = title, []
        for p in range(1, per + 1):
            text += "\n\n"
            start = len(text)
            text += f"Clinic {a} opened ward {p} in Zürich. It treats {p * 7} patients a week."
            paras.append(Paragraph(p, start, len(text)))
        doc = Document(f"a{a:05d}", f"/synthetic/a{a:05d}.txt", title, None, hashlib.sha256(text.encode()).hexdigest(),
                       text, tuple(paras))
        docs.append(doc)
        chunks += [Chunk(f"{doc.doc_id}:{q.number}", doc.doc_id, q.number, q.start, q.end, q.text(text)) for q in paras]
        sentences += split_sentences(doc)
    rng = np.random.default_rng(0)

    def unit(n):
        v = rng.standard_normal((n, 384), dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    manifest = {"format": index.FORMAT_VERSION, "created_at": "", "settings": index.fingerprint(settings), "dim": 384,
                "index_type": "flat", "counts": {"documents": len(docs), "paragraphs": len(chunks),
                                                 "chunks": len(chunks), "sentences": len(sentences)}, "sources": {}}
    return index._write_snapshot(settings, manifest, docs, chunks, unit(len(chunks)), sentences, unit(len(sentences))), docs


def test_opening_makes_no_python_object_per_row(fresh):
    import gc
    import mmap

    import numpy as np

    from rag.store.snapshot import SnapshotStore

    path, docs = _synthetic_snapshot(fresh, articles=200)  # 4,000 paragraphs, 8,000 sentences
    load_snapshot(path)  # imports and first-use caches out of the way
    gc.collect()
    before = len(gc.get_objects())
    snap = load_snapshot(path)
    store = SnapshotStore(snap, fresh)
    made = len(gc.get_objects()) - before
    assert made < 400, f"{made} objects made to open 4,000 paragraphs"
    t = snap.tables
    assert len(snap.sentence_vectors) == 8000 and np.asarray(snap.sentence_vectors).shape == (8000, 384)
    for table in (t.docs, t.paragraphs, t.sentences, t.chunks):
        base = table
        while isinstance(base, np.ndarray):
            base = base.base
        base = base.obj if isinstance(base, memoryview) else base
        assert isinstance(base, mmap.mmap) and not table.flags.writeable  # mapped read-only, not read in
    assert isinstance(t.text, mmap.mmap)
    with pytest.raises(TypeError):
        t.text[0:1] = b"x"  # the text file is mapped read-only too
    # Answering reads rows by key: the last article's last paragraph, with its multi-byte characters.
    last = docs[-1]
    hit = store.paragraph(last.doc_id, 20)
    assert hit.text == last.paragraph_text(20) and (hit.start, hit.end) == (last.paragraphs[-1].start,
                                                                            last.paragraphs[-1].end)
    assert snap.docs[last.doc_id] == last and store.document(last.doc_id).title == last.title


def test_a_large_snapshot_opens_on_sizes_and_mtimes(fresh, monkeypatch):
    "Above FULL_VERIFY_MAX_BYTES an open checks sizes and mtimes; a file whose mtime moved is hashed."
    import os

    from rag import index

    build_index(fresh, **quiet)
    snap = current_snapshot(fresh)
    monkeypatch.setattr(index, "FULL_VERIFY_MAX_BYTES", 0)
    text = snap / "text.bin"
    os.utime(text, ns=(1, 1))  # copied without keeping times: the content is still the same
    load_snapshot(snap)
    data = bytearray(text.read_bytes())
    data[10] ^= 0x20
    text.chmod(0o644)
    text.write_bytes(data)
    with pytest.raises(IndexCorruptError, match="text.bin does not match"):
        load_snapshot(snap)


def test_a_file_changed_under_a_running_store_is_seen_on_reload(fresh):
    "Issue 11.10: a serving process notices a snapshot file written under it and serves a rebuilt one."
    import logging

    from rag.retrieval import open_retriever

    build_index(fresh, **quiet)
    retriever = open_retriever(fresh)
    store = retriever.store
    before = [h.key for h in retriever.search("Beijing Protocol", 5)]
    assert not store.changed() and retriever.refreshed() is retriever
    target = store.snapshot.path / "paragraphs.npy"
    target.chmod(0o644)
    with open(target, "r+b") as f:  # in place and the same size: the mapped table changes under the reader
        f.seek(-8, 2)
        f.write((10**12).to_bytes(8, "little"))
    assert store.changed()
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logging.getLogger("rag.index").addHandler(handler)
    try:
        again = retriever.refreshed()
    finally:
        logging.getLogger("rag.index").removeHandler(handler)
    assert again is not retriever and again.store.snapshot.path != store.snapshot.path
    assert any("changed on disk (paragraphs.npy)" in m for m in seen)
    assert not again.store.changed() and [h.key for h in again.search("Beijing Protocol", 5)] == before


def test_an_old_format_snapshot_is_rebuilt(fresh):
    build_index(fresh, **quiet)
    old = current_snapshot(fresh)
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["format"] = manifest["settings"]["format"] = 2  # as a build before rag.tables wrote it
    (old / "manifest.json").chmod(0o644)
    (old / "manifest.json").write_text(json.dumps(manifest))
    assert index_status(fresh).state == "stale" and "'format' changed (2 -> 3)" in index_status(fresh).reason
    with pytest.raises(IndexCorruptError, match="index format 2, expected 3; rebuild"):
        load_snapshot(old)
    warnings = []
    snap = ensure_index(fresh, progress=False, warn=warnings.append)
    assert snap.path != old and snap.manifest["format"] == 3 and len(snap.docs) == 5
    assert warnings == ["Rebuilding the index: setting 'format' changed (2 -> 3)"]
