"""`rag index --ray` on a local Ray instance: the seeds, and a few hundred generated articles, embedded
by Ray actors, then built as usual, give the same vectors and the same retrieval results as the plain
single-process build."""

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
    assert not any((home / "ray").iterdir())  # shards merged into the cache, then removed

    ray_settings = settings.with_(home=home)
    plain = load_snapshot(current_snapshot(settings))
    built = load_snapshot(current_snapshot(ray_settings))
    texts = len(plain.chunks) + len(plain.tables.sentences)
    assert f"Ray: embedded {texts} texts of 5 articles" in captured.err
    assert f"embedded 0 new texts, {texts} from cache" in captured.out  # every vector came from the Ray run
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


def _generate_articles(folder, n: int, seeds) -> list[str]:
    """n articles of two paragraphs, each paragraph two or three of the seeds' sentences recombined
    at random (fixed seed); returns some of their sentences, to search for."""
    from rag.chunking import split_sentences
    from rag.documents import iter_article_paths, read_document

    pool = []
    for path in iter_article_paths([seeds]):
        doc = read_document(path)
        pool += [t for s in split_sentences(doc) if len((t := doc.text[s.start : s.end]).split()) >= 5]
    rng = np.random.default_rng(5)
    folder.mkdir()
    for a in range(n):
        paragraphs = [" ".join(pool[i] for i in rng.integers(0, len(pool), size=rng.integers(2, 4)))
                      for _ in range(2)]
        (folder / f"gen_{a:04d}.txt").write_text(f"Generated report {a}\n\n" + "\n\n".join(paragraphs) + "\n",
                                                 encoding="utf-8")
    return [pool[i] for i in rng.integers(0, len(pool), size=40)]


def test_rag_index_ray_matches_the_plain_build_on_generated_articles(settings, tmp_path, monkeypatch, capsys):
    "300 articles, each home built from scratch (no embedding cache): once in this process, once on Ray."
    articles = tmp_path / "articles"
    queries = _generate_articles(articles, 300, settings.seeds[0])
    monkeypatch.setenv("RAG_SEEDS", str(articles))
    built = {}
    for how in ("plain", "ray"):
        home = tmp_path / how
        home.mkdir()
        os.symlink(settings.home / "models", home / "models")
        monkeypatch.setenv("RAG_HOME", str(home))
        capsys.readouterr()
        assert main(["index", "-q"] + (["--ray"] if how == "ray" else [])) == 0
        out = capsys.readouterr().out
        assert "Indexed 300 articles" in out
        if how == "ray":
            assert "embedded 0 new texts" in out  # every vector came from the Ray run
        built[how] = settings.with_(home=home, seeds=(articles,))
    plain, ray = (load_snapshot(current_snapshot(built[h])) for h in ("plain", "ray"))
    assert np.array_equal(ray.chunks, plain.chunks)  # the same chunks (paragraph, window, offsets) in order
    assert np.allclose(ray.sentence_vectors, plain.sentence_vectors, atol=1e-5)

    a = Retriever(SnapshotStore(plain, built["plain"]), built["plain"])
    b = Retriever(SnapshotStore(ray, built["ray"]), built["ray"], a.embedder)
    for q in queries:
        vec = a.embed(q)
        for mode in ("hybrid", "dense", "bm25"):
            assert [h.key for h in a.search(q, 5, mode, qvec=vec)] == [h.key for h in b.search(q, 5, mode, qvec=vec)]


def test_an_unreachable_ray_cluster_is_one_line_error(settings, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_HOME", str(tmp_path))
    monkeypatch.setenv("RAG_SEEDS", str(settings.seeds[0]))
    assert main(["index", "--ray", "ray://127.0.0.1:9", "-q"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot reach the Ray cluster at ray://127.0.0.1:9") and "\n" not in err
