import subprocess
import sys

import numpy as np
import pytest

from rag import retrieve
from rag.cli import main
from rag.embedding import get_embedder


def test_beijing_protocol_ranks_the_cibmtr_award_article_first(settings):
    hits = retrieve("Beijing Protocol", k=5, settings=settings)
    assert hits[0].doc_id == "000_273eb6cdc3dda5a5"
    assert "Beijing Protocol" in hits[0].text
    assert hits[0].text == hits[0].text.strip() and hits[0].paragraph >= 1


def test_hit_resolves_to_exact_source_text(settings):
    for h in retrieve("Where was the CSCO conference held?", k=5, settings=settings):
        source = (settings.seeds[0] / f"{h.doc_id}.txt").read_text(encoding="utf-8")
        assert source[h.start : h.end] == h.text


@pytest.mark.parametrize(
    "question, doc_id, needle",
    [
        ("Which city hosted the blood cancer meeting in January 2025?", "003_1aa2caca7feab17d", "Haikou"),
        ("How many pediatric liver transplants were done in five years?", "004_df5a4ce205c5cd94", "41 cases"),
        ("Where was the IACH prize handed over?", "001_6aa580e427458a29", "Paris"),
        ("How much did the Beijing approach raise three-year survival?", "000_273eb6cdc3dda5a5", "70 percent"),
    ],
)
def test_paraphrased_questions_find_the_paragraph(settings, question, doc_id, needle):
    hits = retrieve(question, k=5, settings=settings)
    assert any(h.doc_id == doc_id and needle in h.text for h in hits)


def test_modes_are_selectable_and_scored(settings):
    dense = retrieve("CAR-T manufacturing", k=3, mode="dense", settings=settings)
    bm25 = retrieve("CAR-T manufacturing", k=3, mode="bm25", settings=settings)
    hybrid = retrieve("CAR-T manufacturing", k=3, settings=settings)
    assert all(h.bm25_score is None and h.dense_score is not None for h in dense)
    assert all(h.dense_score is None and h.bm25_score > 0 for h in bm25)
    assert hybrid[0].score >= hybrid[-1].score
    with pytest.raises(ValueError, match="Valid retrievers: hybrid, dense, bm25"):
        retrieve("x", mode="magic", settings=settings)


@pytest.mark.parametrize("query", ["", "   \n\t"])
def test_empty_query_is_a_value_error(settings, query):
    with pytest.raises(ValueError, match="empty"):
        retrieve(query, settings=settings)


def test_cli_empty_query_is_one_line_and_nonzero(settings, capsys):
    assert main(["search", "  "]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err


def test_cli_search_prints_ranked_paragraphs(settings, capsys, monkeypatch):
    monkeypatch.setenv("RAG_SEEDS", str(settings.seeds[0]))
    assert main(["search", "Beijing Protocol", "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. Academician Huang Xiaojun Honored")
    assert "000_273eb6cdc3dda5a5 ¶" in out and "score" in out and "bm25" in out


def test_onnx_query_vectors_equal_sentence_transformers(settings):
    texts = ["What is the Beijing Protocol?", "hi", "Leukemia, lymphoma and myeloma " * 30]
    ref = get_embedder(settings.embedder, "torch").embed(texts)
    got = get_embedder(settings.embedder, "onnx", home=settings.home).embed(texts)
    assert np.min(np.sum(ref * got, axis=1)) >= 0.999


def test_import_rag_is_light():
    code = (
        "import rag, sys; heavy = [m for m in ('torch', 'faiss', 'sentence_transformers', 'gradio', "
        "'onnxruntime', 'transformers', 'openai', 'bm25s') if m in sys.modules]; assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_query_path_does_not_import_torch(settings):
    code = f"""
import sys
from rag import retrieve, load_settings
s = load_settings(seeds=({str(settings.seeds[0])!r},), home={str(settings.home)!r})
assert retrieve("Beijing Protocol", settings=s)
assert "torch" not in sys.modules and "sentence_transformers" not in sys.modules
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_tiktoken_loads_offline_with_its_hash_check(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    from rag import tokens

    tokens.get_encoding.cache_clear()
    assert tokens.count_tokens("hello world") == 2
    assert tokens.get_encoding("o200k_base").encode("hello world") == [24912, 2375]
    import tiktoken.load

    # tiktoken's own loader re-checks the unpacked file against its expected hash
    blob = next(tmp_path.iterdir()).read_bytes()
    assert tiktoken.load.check_hash(blob, "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7") or \
        tiktoken.load.check_hash(blob, "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d")
    tokens.get_encoding.cache_clear()


def test_top_scored_equals_a_full_sort_of_the_positive_scores():
    from rag.store.snapshot import top_scored

    rng = np.random.default_rng(0)
    for _ in range(200):
        scores = rng.random(1000) * (rng.random(1000) > 0.7)
        m = int(rng.integers(1, 50))
        full = np.argsort(-scores, kind="stable")
        full = full[scores[full] > 0][:m]
        got = top_scored(scores, m)
        assert len(got) == len(full) and np.array_equal(scores[got], scores[full])
    assert top_scored(np.zeros(10), 5).size == 0


def test_a_named_question_finds_the_paragraphs_that_answer_without_the_name(settings):
    # the interview's answer says "challenges remain" and never names Jun Ma again: the rest of the
    # question, searched within the articles naming him, brings it among the evidence
    from rag.answer.analysis import analyse
    from rag.retrieval import open_retriever

    question = "What challenges did Jun Ma mention?"
    retriever = open_retriever(settings)
    evidence = retriever.evidence(question, question, analyse(question), 8)
    assert any("challenges remain" in h.text for h in evidence.hits)
    assert "challenges remain" not in " ".join(h.text for h in retriever.search(question, 8))  # plain fusion misses it


def test_word_vectors_tell_near_synonyms_from_unrelated_words_and_are_rebuilt_when_damaged(settings, tmp_path):
    from rag.lexicon import lexicon_path, load_lexicon

    embedder = get_embedder(settings.embedder, "onnx", home=settings.home)
    lexicon = load_lexicon(embedder, settings.home)
    sim = lexicon.similarity(["physician", "prize"], ["doctor", "award", "hospital"])
    assert sim[0, 0] > 0.5 and sim[1, 1] > 0.5 and sim[0, 2] < sim[0, 0] and sim[1, 2] < 0.5, sim
    assert lexicon.known("toxicities") == "toxicity" and lexicon.known("garniasih") is None
    # a flipped byte in the stored table is noticed by its checksum, and the table is built again
    home = tmp_path / "home"
    path, ours = lexicon_path(home, embedder.model, embedder.backend), lexicon_path(settings.home, embedder.model, embedder.backend)
    path.parent.mkdir(parents=True)
    data = bytearray(ours.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    (path.parent / (path.name + ".sha256")).write_text((ours.parent / (ours.name + ".sha256")).read_text())
    again = load_lexicon(embedder, home)
    assert again.words == lexicon.words and np.allclose(again.vectors, lexicon.vectors, atol=1e-2)
    assert path.read_bytes() == ours.read_bytes()
