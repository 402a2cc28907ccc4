import errno
import json
import subprocess
import sys

import pytest

from rag import ann
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
    assert set(snap.manifest["files"]) >= {"dense.faiss", "docs.jsonl", "chunks.jsonl", "sentence_vectors.npy"}
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
from rag import ann
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
