"""Attacks from issue 11, fast cases: each reproduces what a user (or an attacker) did and checks the
fix: a clear message, nothing lost, no silent wrong result, no hang. The slow ones (a 10 MB line,
a 3 GB sparse file, a real full disk on a tmpfs, kill -9 at random points, many rounds against the
served app) are in benchmarks/attack.py (`make attack`). Here: #1 one collection per RAG_HOME, #3
stdout, #5 linear and bounded sentence splitting, #6 unreadable file and a full disk while the cache
is written, #7 symlinks, #8 a kill while the cache is written, #9 size before reading. Elsewhere: #2
ONNX checksum, #6 damaged cache and full disk mid-snapshot, #8 resumed embedding and garbage by
CURRENT, #10 files changed under a server (tests/test_index.py); #4 the chat history
(tests/test_app.py); #11 real HTML (tests/test_documents.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import pytest

from rag.collection import list_files
from rag.errors import DocumentError
from rag.index import add_sources, build_index, current_snapshot, load_snapshot, remove_sources
from rag.text import sentence_spans

from .conftest import SEEDS

quiet = {"progress": False, "warn": lambda m: None}
REPO = Path(__file__).resolve().parent.parent
ARTICLE = ("Harbor clinic opens a marrow donor centre\n\nThe Harbor clinic opened a marrow donor centre on "
           "Tuesday. It will register 400 donors a month.\n")

READER = """
import json, sys, time
from pathlib import Path
from rag.config import load_settings
from rag.retrieval import open_retriever
home, out, stop = sys.argv[1:4]
s = load_settings(home=home)
r = open_retriever(s)
deadline = time.time() + 120  # bounded even if the writer never says stop
with open(out, "w") as f:
    while time.time() < deadline and not Path(stop).exists():
        r = r.refreshed()  # the collection as CURRENT has it now; hits and docs from the same snapshot
        hits = r.search("marrow donor centre", 5)
        snap = r.store.snapshot
        f.write(json.dumps({"snap": snap.path.name, "docs": sorted(snap.docs),
                            "hits": [h.doc_id for h in hits]}) + "\\n")
        f.flush()
"""


# --- 1. one collection per RAG_HOME, whoever rebuilds it ---------------------------------------------


def test_serving_while_rag_index_path_runs_never_mixes_collections_or_loses_an_upload(fresh, tmp_path):
    build_index(fresh, **quiet)
    (tmp_path / "up.txt").write_text(ARTICLE)
    upload = add_sources(fresh, [tmp_path / "up.txt"], copy=True, names=["Harbor.txt"], **quiet).added[0].doc_id
    other = tmp_path / "other"
    other.mkdir()
    (other / "bay.txt").write_text(ARTICLE.replace("Harbor", "Bay").replace("400", "250"))
    out, stop = tmp_path / "reader.jsonl", tmp_path / "stop"
    env = {**os.environ, "RAG_HOME": str(fresh.home)}
    env.pop("RAG_SEEDS", None)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(fresh.home), str(out), str(stop)], env=env,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while (not out.exists() or not out.read_text()) and time.time() < deadline and reader.poll() is None:
            time.sleep(0.2)
        for _ in range(2):  # `rag index OTHERDIR`, then take it out again, twice
            add_sources(fresh, [other], **quiet)
            time.sleep(1.5)
            remove_sources(fresh, [other], **quiet)
            time.sleep(1.5)
    finally:
        stop.touch()
        _, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    rounds = [json.loads(line) for line in out.read_text().splitlines()]
    seeds = {p.stem for p in SEEDS.glob("*.txt")}
    allowed = seeds | {upload, "bay"}
    assert len(rounds) > 10 and len({r["snap"] for r in rounds}) >= 3  # it served through the switches
    for r in rounds:
        assert seeds | {upload} <= set(r["docs"]) <= allowed, r["docs"]  # never another corpus, never without the upload
        assert set(r["hits"]) <= set(r["docs"])
    assert any("bay" in r["docs"] for r in rounds)


# --- 3. stdout carries results only ----------------------------------------------------------------


def test_json_output_stays_valid_while_the_index_rebuilds_and_files_are_skipped(fresh, tmp_path):
    build_index(fresh, **quiet)
    (fresh.seeds[0] / "broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))  # skipped, with a warning
    (fresh.seeds[0] / "new.txt").write_text(ARTICLE)  # makes the index stale: the next command rebuilds
    env = {**os.environ, "RAG_HOME": str(fresh.home)}
    env.pop("RAG_SEEDS", None)
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "search", "marrow donor centre", "--json"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)  # nothing but JSON on stdout
    assert hits and hits[0]["doc_id"] == "new"
    assert "Rebuilding the index" in proc.stderr and "broken.txt: binary file" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "index", "--force", "-q"], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.startswith("Indexed 6 articles")
    assert "broken.txt" not in proc.stdout and "broken.txt: binary file" in proc.stderr


# --- 5. sentence splitting is linear ---------------------------------------------------------------


def test_sentence_splitting_of_pathological_lines_is_right():
    "Shapes that made the old splitter quadratic; their timing is in benchmarks/attack.py."
    lower = "the quick fox jumps. over the lazy dog. " * 5000  # no sentence ever starts upper-case
    assert sentence_spans(lower) == [(0, len(lower.rstrip()))]
    initials = "J. " * 20000 + "Smith spoke. He left."
    assert [initials[s:e][-12:] for s, e in sentence_spans(initials)] == ["Smith spoke.", "He left."]
    long_word = "a" * 100_000 + ". Next one."
    assert len(sentence_spans(long_word)) == 2


def test_a_line_without_a_visible_sentence_end_is_cut_into_bounded_pieces_not_embedded_cut_off():
    """A 10 MB single line with lower-case continuations is one "sentence" to the splitter; whole,
    it was one chunk (embedded up to the model's window, the rest invisible to dense search) and one
    sentence quoted as an answer. Now every chunk and sentence is bounded, and together they cover
    the text exactly."""
    from rag.chunking import MAX_SENTENCE_CHARS, chunk_document, split_sentences
    from rag.documents import read_document

    line = " ".join(f"word{i % 997} and more text. then lower-case again" for i in range(4000))  # ~190 KB
    doc = read_document("dump.txt", data=("A dump\n\n" + line + "\n").encode())
    chunks = chunk_document(doc, 180)
    sentences = split_sentences(doc)
    body = doc.paragraphs[-1]
    assert len(chunks) > 200 and all(c.end - c.start <= 720 for c in chunks)
    assert all(s.end - s.start <= MAX_SENTENCE_CHARS for s in sentences)
    covered = [(s.start, s.end) for s in sentences if s.paragraph == body.number]
    assert covered[0][0] == body.start and covered[-1][1] == body.end
    assert all(doc.text[e:s2].isspace() for (_, e), (s2, _) in pairwise(covered))  # nothing skipped
    assert all(doc.text[c.start:c.end] == c.text for c in chunks)


# --- 6. crashes that needed manual cleanup ----------------------------------------------------------


def test_unreadable_file_is_skipped_with_a_named_message(fresh, monkeypatch):
    from rag import documents

    locked = fresh.seeds[0] / "locked.txt"
    locked.write_text(ARTICLE)
    if os.geteuid() == 0:  # root reads anything: make open() fail as the kernel would for a user
        def deny(path, *a, **k):
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return open(path, *a, **k)

        monkeypatch.setattr(documents, "open", deny, raising=False)
    else:
        locked.chmod(0)
    warnings = []
    report = build_index(fresh, progress=False, warn=warnings.append)
    assert report.documents == 5
    assert warnings == ["skipped locked.txt: cannot read (Permission denied)"]
    assert load_snapshot(current_snapshot(fresh)).manifest["sources"][str(locked)]["unreadable"] is True


# --- 7. symlinks lead outside the corpus --------------------------------------------------------------


def test_symlinks_outside_the_sources_loops_and_unreadable_folders_are_named(fresh, tmp_path, monkeypatch):
    d = fresh.seeds[0]
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (d / "passwd.txt").symlink_to(secret)
    (d / "etc").symlink_to(tmp_path)
    (d / "loop-a.txt").symlink_to(d / "loop-b.txt")
    (d / "loop-b.txt").symlink_to(d / "loop-a.txt")
    (d / "same.txt").symlink_to(d / "000_273eb6cdc3dda5a5.txt")  # inside the sources: indexed once, no noise
    closed = d / "closed"
    closed.mkdir()
    (closed / "hidden-away.txt").write_text(ARTICLE)
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == closed:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    listing = list_files([d])
    reasons = sorted(n.reason for n in listing.notes)
    assert [Path(p).name for p in listing.files] == sorted(p.name for p in SEEDS.glob("*.txt"))
    assert reasons == [
        f"cannot read folder {closed} (Permission denied); its articles are not indexed",
        f"etc: symlink to {tmp_path}, outside the collection's sources; not followed",
        "loop-a.txt: symlink loop; not followed",
        "loop-b.txt: symlink loop; not followed",
        f"passwd.txt: symlink to {secret}, outside the collection's sources; not followed",
    ]
    warnings = []
    report = build_index(fresh, progress=False, warn=warnings.append)
    assert report.documents == 5 and len(warnings) == 5
    assert not any("root:x" in d.text for d in load_snapshot(current_snapshot(fresh)).docs.values())


# --- 9. memory: the size is checked before anything is read ------------------------------------------


def test_huge_sparse_file_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "huge.txt"
    with open(big, "wb") as f:
        f.truncate(3_200_000_000)  # sparse: no disk used
    code = f"""
from rag.documents import read_document
from rag.errors import DocumentError
try:
    read_document({str(big)!r}, max_bytes=10 * 1024 * 1024)
except DocumentError as e:
    print(e)
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))  # peak RSS, kB
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    message, rss_kb = proc.stdout.splitlines()
    assert message == "huge.txt: 3200.0 MB is over the 10 MB limit"
    assert int(rss_kb) < 200_000  # the interpreter and rag.s imports, not the file


def test_a_file_that_is_not_regular_is_never_read(tmp_path):
    from rag.documents import read_bytes

    os.mkfifo(tmp_path / "pipe.txt")  # reading it would block forever
    assert [n.reason for n in list_files([tmp_path]).notes] == ["pipe.txt: not a regular file"]
    with pytest.raises(DocumentError, match="zero: not a regular file"):
        read_bytes(Path("/dev/zero"), 1000)  # endless


# --- 6, 8. a full disk and a kill while the embedding cache is written -------------------------------


def test_a_full_disk_while_the_cache_is_written_is_one_line_and_leaves_nothing(fresh, tmp_path, monkeypatch):
    from rag import embedding_cache
    from rag.errors import RagError

    build_index(fresh, **quiet)
    before = current_snapshot(fresh)
    new = tmp_path / "new"
    new.mkdir()
    (new / "note.txt").write_text(ARTICLE)

    def savez(f, **arrays):
        f.write(b"PK\x03\x04" + bytes(1000))  # part of the file, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(embedding_cache.np, "savez", savez)
    with pytest.raises(RagError, match=r"^disk full: .*No space left on device.*previous index is still in use"):
        add_sources(fresh, [new], **quiet)
    assert current_snapshot(fresh) == before and load_snapshot(before).manifest["counts"]["documents"] == 5
    assert not [p for p in fresh.home.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".tmp-")]
    assert str(new) not in load_snapshot(before).manifest["collection"]["roots"]  # not added half-way


def test_a_build_killed_while_writing_the_cache_leaves_no_temp_file_and_loses_no_vectors(fresh, tmp_path):
    build_index(fresh, **quiet)
    new = tmp_path / "new"
    new.mkdir()
    (new / "note.txt").write_text(ARTICLE)
    code = f"""
import os
from rag import embedding_cache
from rag.config import load_settings
from rag.index import add_sources
def savez(f, **arrays):
    f.write(b"PK" + bytes(100_000))
    f.flush()
    os._exit(9)  # kill -9 half-way through the write: no cleanup runs
embedding_cache.np.savez = savez
add_sources(load_settings(seeds=({str(fresh.seeds[0])!r},), home={str(fresh.home)!r}), [{str(new)!r}], progress=False)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 9, proc.stderr
    cache = fresh.home / "cache" / "embeddings"
    assert [p.name for p in cache.rglob(".*.tmp")]  # the kill left its temporary file ...
    report = add_sources(fresh, [new], **quiet)
    assert not list(cache.rglob(".*.tmp"))  # ... which the next build removes
    assert report.documents == 6 and report.embedded == 3  # the note's chunk and two sentences, whose checkpoint died
    assert build_index(fresh, **quiet).embedded == 0  # and the cache is whole: nothing embedded twice
