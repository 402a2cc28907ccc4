"""`rag index --ray` on a local Ray instance: the seeds embedded by Ray actors, then built as usual,
give the same vectors and the same retrieval results as the plain single-process build."""

from __future__ import annotations

import os

import numpy as np
import pytest

from rag.cli import main
from rag.index import current_snapshot, load_snapshot
from rag.retrieval import Retriever
from rag.store.snapshot import SnapshotStore

pytestmark = pytest.mark.slow


def test_rag_index_ray_matches_the_plain_build(settings, tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.mkdir()
    os.symlink(settings.home / "models", home / "models")  # the ONNX query model; no embedding cache
    monkeypatch.setenv("RAG_HOME", str(home))
    monkeypatch.setenv("RAG_SEEDS", str(settings.seeds[0]))

    assert main(["index", "--ray"]) == 0
    captured = capsys.readouterr()
    assert "Ray: embedded 222 texts of 5 articles" in captured.err
    assert "embedded 0 new texts, 222 from cache" in captured.out  # every vector came from the Ray run
    assert not any((home / "ray").iterdir())  # shards merged into the cache, then removed

    ray_settings = settings.with_(home=home)
    plain = load_snapshot(current_snapshot(settings))
    built = load_snapshot(current_snapshot(ray_settings))
    assert np.array_equal(built.chunks, plain.chunks)  # the same chunks (paragraph, window, offsets) in order
    assert np.allclose(built.sentence_vectors, plain.sentence_vectors, atol=1e-5)

    a = Retriever(SnapshotStore(plain, settings), settings)
    b = Retriever(SnapshotStore(built, ray_settings), ray_settings, a.embedder)
    from rag.evaluation.dataset import load

    for q in load()[:60]:
        vec = a.embed(q.question)
        for mode in ("hybrid", "dense", "bm25"):
            assert [h.key for h in a.search(q.question, 5, mode, qvec=vec)] == \
                   [h.key for h in b.search(q.question, 5, mode, qvec=vec)], (q.id, mode)


def test_an_unreachable_ray_cluster_is_one_line_error(settings, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_HOME", str(tmp_path))
    monkeypatch.setenv("RAG_SEEDS", str(settings.seeds[0]))
    assert main(["index", "--ray", "ray://127.0.0.1:9", "-q"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot reach the Ray cluster at ray://127.0.0.1:9") and "\n" not in err
