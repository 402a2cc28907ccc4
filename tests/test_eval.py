"""The eval harness (rag.evaluation, run by `rag eval` on the project's evals/ set): metric functions on tiny hand-made
cases, the question set's integrity, the gate's rules on synthetic runs, and end to end: the gate
passes against its own baseline and fails on a corpus missing an article and on a weaker retriever.

The end-to-end tests gate against a baseline written by the code under test (not the committed one,
which `make test` gates separately), so they hold while the back-end is being tuned."""

from __future__ import annotations

import json
import math

import pytest

from rag.cli import main
from rag.evaluation import calibrate, dataset, gate, harness, scoring
from rag.evaluation import metrics as M
from rag.types import Answer, Citation, Hit

PARIS = "The award ceremony took place on October 5, 2023, during the IACH annual meeting held in Paris."
OTHER = "Prof. Tao Cheng, President of the Institute, delivered the opening remarks."
RETRIEVAL = [x.name for x in scoring.RETRIEVAL]


# --- metric functions --------------------------------------------------------------------------

def test_normalise_straightens_quotes_and_collapses_whitespace():
    assert M.normalise("  Children’s\n\t “Hospital”  ") == "Children's \"Hospital\""


def test_contains_any_is_verbatim_up_to_whitespace_and_quote_style():
    para = "Hunan Children’s Hospital and the Spanish\nOrgan Donation   Foundation signed."
    assert M.contains_any(para, ["Hunan Children's Hospital and the Spanish Organ Donation"])
    assert not M.contains_any(para, ["Hunan Children's Hospital and the Italian"])
    assert not M.contains_any(para, ["hunan children's hospital"])  # gold quotes are case-sensitive
    assert not M.contains_any(para, [])


def test_find_gold_groups_quotes_by_paragraph_and_counts_unmatched():
    paras = {("a", 1): "Alpha beta. Gamma delta.", ("a", 2): "Epsilon.", ("b", 1): "Zeta eta."}
    gold = M.find_gold(["Alpha beta", "Gamma delta", "Zeta", "not in the corpus"], paras)
    assert gold.passages == {("a", 1), ("b", 1)} and gold.unmatched == 1 and gold.total == 3


def test_retrieval_metrics_on_a_hand_ranked_list():
    gold = M.Gold(frozenset({("a", 2)}))
    ranked = [("a", 1), ("a", 2), ("b", 1)]
    assert M.recall_at_k(ranked, gold, 1) == 0.0
    assert M.recall_at_k(ranked, gold, 5) == 1.0
    assert M.mrr_at_k(ranked, gold) == 0.5
    assert M.ndcg_at_k(ranked, gold) == pytest.approx(1 / math.log2(3))
    assert M.ndcg_at_k([("a", 2), ("a", 1)], gold) == 1.0
    assert M.mrr_at_k([("x", 1)] * 10 + [("a", 2)], gold) == 0.0  # rank 11 is outside @10


def test_retrieval_metrics_count_every_gold_passage_including_unretrievable_ones():
    two = M.Gold(frozenset({("a", 1), ("b", 1)}))
    assert M.recall_at_k([("a", 1), ("c", 1)], two, 5) == 0.5
    assert M.ndcg_at_k([("c", 1), ("a", 1), ("b", 1)], two) == pytest.approx(
        (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))
    missing = M.Gold(frozenset({("a", 1)}), unmatched=1)  # the other quote's article is not indexed
    assert M.recall_at_k([("a", 1)], missing, 5) == 0.5
    assert M.ndcg_at_k([("a", 1)], missing) < 1.0
    assert M.recall_at_k([("a", 1)], M.Gold(frozenset()), 5) == 0.0


def test_key_fact_recall_any_alternative_case_and_quote_insensitive():
    text = "Hunan Children’s Hospital signed with the DTI foundation in CHANGSHA. [1]"
    assert M.key_fact_recall(text, [["Hunan Children's"], ["Changsha"]]) == 1.0
    assert M.key_fact_recall(text, [["Madrid", "dti Foundation"]]) == 1.0
    assert M.key_fact_recall(text, [["Changsha"], ["May 27, 2022"]]) == 0.5
    assert M.key_fact_recall(text, [["Beijing"]]) == 0.0


def test_gold_cited():
    assert M.gold_cited([OTHER, PARIS], ["annual meeting held in Paris"])
    assert not M.gold_cited([OTHER], ["annual meeting held in Paris"])
    assert not M.gold_cited([], ["annual meeting held in Paris"])


def test_citation_recall_and_precision_alce_style():
    good = "The IACH award was presented in Paris on October 5, 2023."
    bad = "The IACH award was presented in London in 2019."
    sources = {1: PARIS, 2: OTHER}
    s = M.citation_score(f"{good} [1]", sources)
    assert (s.recall, s.precision, s.unsupported) == (1.0, 1.0, ())
    s = M.citation_score(f"{good} [1] {bad} [1]", sources)  # second sentence unsupported
    assert (s.recall, s.precision, s.unsupported) == (0.5, 0.5, (bad,))
    for text in (f"{good} [1][2]", f"{good} [1, 2]", f"{good[:-1]} [1] [2]."):
        s = M.citation_score(text, sources)  # supported, but one citation is irrelevant
        assert (s.recall, s.precision) == (1.0, 0.5), text
    s = M.citation_score(f"{good} [7]", sources)  # a marker with no source supports nothing
    assert (s.recall, s.precision) == (0.0, 0.0)
    assert M.citation_score(f"{good}", sources).recall == 0.0  # an uncited sentence
    assert M.citation_score("", sources) is None


def test_percentile_and_mean():
    assert M.percentile([4, 1, 3, 2], 50) == 2.5
    assert M.percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert M.percentile([], 50) is None
    assert M.mean([1.0, None, 0.0]) == 0.5 and M.mean([None]) is None


def test_metric_direction_and_targets():
    fa, r5 = scoring.METRICS["false_abstention"], scoring.METRICS["recall@5"]
    assert fa.met(0.05) and not fa.met(0.06) and fa.drop(0.10, 0.0) == pytest.approx(0.10)
    assert r5.met(0.95) and not r5.met(0.94) and r5.drop(0.90, 0.95) == pytest.approx(0.05)
    assert scoring.METRICS["mrr@10"].met(0.1) is None


# --- scoring, gate and calibration on synthetic runs -------------------------------------------

def _question(qid="q1", answerable=True, critical=True, split="calib"):
    return dataset.Question(qid, "Where was the IACH ceremony held?", answerable,
                            ("annual meeting held in Paris",) if answerable else (),
                            (("Paris",),) if answerable else (), critical, split, ("d1",), ())


def _answer(abstained=False, text=None, para=PARIS):
    hit = Hit("d1", "t", None, 2, 0, len(para), para, 1.0)
    if abstained:
        return Answer("?", "The articles don't say.", (), True, "extractive", hits=(hit,))
    cite = Citation(1, "d1", "t", None, 2, 0, len(para), para, 1.0, True)
    return Answer("?", text or f"{PARIS} [1]", (cite,), False, "extractive", hits=(hit,))


def _record(q, answer, ranked=(("d1", 2),)):
    gold = M.find_gold(q.gold, {("d1", 2): PARIS, ("d1", 3): OTHER})
    modes = {md: list(ranked) for md in scoring.MODES}
    return scoring.score_question(q, gold, modes, answer, "hybrid", ["d1"])


def _run(records, split="all"):
    latency = {"retrieve_p50_ms": 1.0, "retrieve_p95_ms": 2.0, "ask_p50_ms": 3.0, "ask_p95_ms": 4.0}
    return harness.Run(split, "hybrid", 5, 0.4, ["d1"], records, latency)


def test_score_question_flags():
    ok = _record(_question(), _answer())
    assert ok["pass"] and ok["passed"] == {"abstention": True, "recall@5": True, "key_facts": True,
                                           "gold_citation": True, "cited_gold_share": True}
    assert ok["values"]["selfcheck_support"] == 1.0  # reported, never a pass/fail flag
    assert ok["retrieved"]["bm25"] == ["d1:2"] and ok["gold_passages"] == ["d1:2"]
    abstained = _record(_question(), _answer(abstained=True))
    assert not abstained["pass"] and not abstained["passed"]["key_facts"] and not abstained["passed"]["abstention"]
    assert "cited_gold_share" not in abstained["passed"]  # no answer, no citations to judge
    wrong_para = _record(_question(), _answer(text=f"{OTHER} [1]", para=OTHER), ranked=(("d1", 3),))
    assert wrong_para["passed"]["recall@5"] is False and wrong_para["passed"]["gold_citation"] is False
    refused = _record(_question("q2", answerable=False, critical=False), _answer(abstained=True))
    assert refused["pass"] and refused["retrieval"] == {}
    answered = _record(_question("q3", answerable=False, critical=False), _answer())
    assert not answered["pass"] and answered["passed"]["abstention"] is False


def test_gate_passes_on_the_same_run_and_fails_on_a_critical_regression():
    good = _run([_record(_question(), _answer()), _record(_question("q2", False, False), _answer(True))])
    baseline = gate.baseline_from(good)
    same = gate.compare(good, baseline, 0.02)
    assert same.ok and same.changes == [] and same.notes == []

    bad = _run([_record(_question(), _answer(True)), _record(_question("q2", False, False), _answer(True))])
    verdict = gate.compare(bad, baseline, 0.02)
    assert not verdict.ok
    assert any(f.startswith("critical question q1 passed in the baseline") for f in verdict.failures)
    assert any(f.startswith("key_fact_recall: 0.000 vs baseline 1.000") for f in verdict.failures)
    assert any(f.startswith("false_abstention: 1.000 vs baseline 0.000") for f in verdict.failures)
    (change,) = verdict.changes
    assert change.id == "q1" and change.before and not change.after
    assert "key_facts pass→fail (1.00→0.00)" in change.line()
    assert "abstention pass→fail (answered→abstained)" in change.line()


def test_gate_tolerance_is_absolute_per_metric():
    run = _run([_record(_question(critical=False), _answer())])
    baseline = gate.baseline_from(run)
    baseline["splits"]["all"]["metrics"]["key_fact_recall"] = 1.015  # the run is 0.015 below
    assert gate.compare(run, baseline, 0.02).ok
    assert not gate.compare(run, baseline, 0.01).ok
    baseline["splits"]["all"]["retrieval_by_mode"]["dense"]["mrr@10"] = 1.05  # another mode regressed
    assert any(f.startswith("dense mrr@10") for f in gate.compare(run, baseline, 0.02).failures)


def test_gate_needs_the_runs_split_in_the_baseline():
    run = _run([_record(_question(), _answer())], split="test")
    baseline = gate.baseline_from(_run([_record(_question(), _answer())], split="calib"))
    assert gate.compare(run, baseline, 0.02).failures == ["the baseline has no numbers for split 'test'"]


def test_calibration_fits_a_judge_that_separates_and_chooses_its_threshold():
    from rag.answer import answerability

    def row(dense, cover, ruled_out=0.0):
        return {"bias": 1.0, "focus_missing": 1 - cover, "focus_missing_article": 1 - cover, "cover": cover,
                "dense": dense, "dense_margin": dense / 4, "ruled_out": ruled_out}

    S = calibrate.Sample
    samples = [S("u1", "calib", "absent", False, row(0.30, 0.1)), S("u2", "calib", "absent", False, row(0.35, 0.2)),
               S("u3", "calib", "absent", False, row(0.90, 0.9, ruled_out=1.0)),  # a rule refuses it
               S("a1", "calib", "fact", True, row(0.70, 0.8)), S("a2", "calib", "fact", True, row(0.65, 0.7))]
    train = [s for s in samples if not s.features["ruled_out"]]
    weights = answerability.fit([s.features for s in train], [int(s.answerable) for s in train],
                                calibrate.balance(train), l2=0.1)
    assert weights["dense"] > 0 and weights["cover"] > 0
    t = calibrate.choose(samples, weights)
    r = calibrate.rates(samples, weights, t)
    assert (r["abstention_accuracy"], r["false_abstention"]) == (1.0, 0.0)


# --- the question set ---------------------------------------------------------------------------

def test_question_set_meets_the_issue(settings):
    from rag.retrieval import open_retriever

    qs = dataset.load()
    assert len(qs) >= 60 and sum(not q.answerable for q in qs) >= 0.15 * len(qs)
    assert {q.split for q in qs} == {"calib", "test"}
    docs = open_retriever(settings).store.snapshot.docs
    assert {d for q in qs for d in q.doc_ids} == set(docs)  # every article is asked about
    paragraphs = {(d.doc_id, p.number): p.text(d.text) for d in docs.values() for p in d.paragraphs}
    for q in qs:
        for quote in q.gold:  # every gold quote sits in exactly one paragraph of its own articles
            where = [k for k, text in paragraphs.items() if M.contains_any(text, [quote])]
            assert len(where) == 1 and where[0][0] in q.doc_ids, (q.id, quote, where)
    assert all(q.gold and q.key_facts for q in qs if q.answerable)  # the project's set is fully labelled
    with pytest.raises(ValueError, match="Unknown split"):
        dataset.load("train")


def test_committed_baseline_covers_every_question():
    base = gate.load_baseline(gate.default_baseline())
    assert base["retriever"] == "hybrid" and base["backend"] == "extractive"
    assert set(base["splits"]) == {"all", "calib", "test"}
    assert set(base["questions"]) == {q.id for q in dataset.load()}


# --- end to end ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hybrid_baseline(settings, tmp_path_factory):
    "A baseline written by `rag eval --update-baseline` on the intact corpus with this code."
    path = tmp_path_factory.mktemp("eval") / "baseline.json"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAG_HOME", str(settings.home))
        mp.delenv("RAG_SEEDS", raising=False)
        assert main(["eval", "--update-baseline", "--baseline", str(path), "--out", str(path.parent / "r")]) == 0
    return path


@pytest.mark.slow
def test_eval_passes_against_its_own_baseline_and_writes_the_report(hybrid_baseline, tmp_path, capsys):
    assert main(["eval", "--baseline", str(hybrid_baseline), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Gate PASSED (tolerance 0.02)" in out and "| metric | value | target | met? |" in out
    assert {p.name for p in tmp_path.iterdir()} == {"summary.md", "questions.json", "metrics.json", "chart.png"}
    records = json.loads((tmp_path / "questions.json").read_text())
    assert len(records) == len(dataset.load())
    assert all(len(r["retrieved"]["dense"]) == 10 for r in records)
    assert all(len(r["retrieved"][md]) <= 10 for r in records for md in scoring.MODES)
    summary = (tmp_path / "summary.md").read_text()
    assert "split **all**" in summary and "**calib** split only" in summary and "tolerance **0.02**" in summary


@pytest.mark.slow
def test_gate_fails_on_a_corpus_missing_an_article(fresh, hybrid_baseline, monkeypatch, tmp_path, capsys):
    removed = "004_df5a4ce205c5cd94"
    (fresh.seeds[0] / f"{removed}.txt").unlink()
    monkeypatch.setenv("RAG_SEEDS", str(fresh.seeds[0]))
    monkeypatch.setenv("RAG_HOME", str(fresh.home))
    assert main(["eval", "--baseline", str(hybrid_baseline), "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "Gate FAILED" in out and "\n  - recall@5:" in out
    assert f"missing ['{removed}']" in out
    base = json.loads(hybrid_baseline.read_text())["questions"]
    lost = [q for q in dataset.load() if q.answerable and q.doc_ids == (removed,) and base[q.id]["pass"]]
    assert lost, "the baseline should pass some questions about the removed article"
    for q in lost:  # each shows in the diff, with why
        line = next(x for x in out.splitlines() if x.startswith(f"  ✗ {q.id}"))
        assert "pass→fail" in line and f"article {removed} is not in the index" in line
        if q.critical:
            assert f"critical question {q.id} passed in the baseline and fails now" in out


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["bm25", "dense"])
def test_gate_flags_exactly_the_retrieval_metrics_a_weaker_retriever_loses(mode, hybrid_baseline, tmp_path, capsys):
    """Answering with bm25 or dense against the hybrid baseline (calib split): every retrieval metric
    worse than hybrid's by more than the tolerance fails the gate, and no other retrieval metric does."""
    base = json.loads(hybrid_baseline.read_text())["splits"]["calib"]
    worse = [x for x in RETRIEVAL if base["metrics"][x] - base["retrieval_by_mode"][mode][x] > 0.02]
    rc = main(["eval", "--retriever", mode, "--split", "calib", "--baseline", str(hybrid_baseline),
               "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert f"note: retriever is {mode}; the baseline used hybrid" in out
    assert [x for x in RETRIEVAL if f"\n  - {x}:" in out] == worse
    if worse:
        assert rc == 1 and "Gate FAILED" in out


def test_some_retriever_is_weaker_than_hybrid(hybrid_baseline):
    "So the test above demonstrates a failing gate for at least one mode."
    base = json.loads(hybrid_baseline.read_text())["splits"]["calib"]
    assert any(base["metrics"]["recall@5"] - base["retrieval_by_mode"][md]["recall@5"] > 0.02
               for md in ("bm25", "dense"))


@pytest.mark.slow
def test_calibrate_fits_the_judge_and_changes_nothing(settings, tmp_path, capsys):
    from rag.config import checkout

    judge = (checkout() / "rag" / "answer" / "answerability.py").read_text()
    assert main(["eval", "--calibrate", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "WEIGHTS = {" in out and "| fitted | test |" in out and "| fitted | synthetic |" in out
    assert (tmp_path / "calibration.md").exists()
    assert (checkout() / "rag" / "answer" / "answerability.py").read_text() == judge


def test_synthetic_negatives_swap_only_names_for_names(settings):
    from rag.answer.synthetic import negatives
    from rag.retrieval import open_retriever

    store = open_retriever(settings).store
    cibmtr = next(d.doc_id for d in store.documents() if "cibmtr" in store.article(d.doc_id).text)
    out = negatives("Which European delegates did the CIBMTR meet on February 23?", [cibmtr], store)
    # the acronym is swapped for another article's, the day for one of that month the article does not
    # name; the adjective of origin stays (a question about "Chinese delegates" would be no negative)
    assert len(out) == 2 and all(v.startswith("Which European delegates did the ") for v in out)
    assert out[1] == "Which European delegates did the CIBMTR meet on February 3?"
    name = out[0].split("did the ")[1].split()[0]
    bodies = "\n".join(store.paragraph(d.doc_id, n).text for d in store.documents() for n in range(1, d.paragraphs + 1))
    assert name != "CIBMTR" and name.isupper() and name in bodies and name.lower() not in bodies


# --- a user's own question set, and the export for LLM judges ----------------------------------

def test_a_minimal_record_needs_only_the_question():
    q = dataset.parse({"question": "What is the Beijing Protocol?"}, "line 1")
    assert (q.id, q.answerable, q.gold, q.key_facts, q.split, q.critical, q.reference) == \
        ("line 1", True, (), (), "test", False, None)
    q = dataset.parse({"question": "When?", "key_facts": ["Feb 23", ["March 1", "1 March"]]})
    assert q.key_facts == (("Feb 23",), ("March 1", "1 March"))


@pytest.mark.parametrize(("record", "error"), [
    ({"id": "qx"}, "question qx: missing field 'question'"),
    ({"question": "  "}, "question must be a non-empty string"),
    ({"question": "?", "answer": "x"}, r"unknown field\(s\) \['answer'\]"),
    ({"question": "?", "gold": "a quote"}, "gold must be a list of strings"),
    ({"question": "?", "key_facts": [[]]}, "a key fact needs at least one alternative"),
    ({"question": "?", "split": "train"}, "split must be calib or test"),
    ({"question": "?", "answerable": False, "reference": "x"}, "an unanswerable question has no gold"),
    (["not", "an", "object"], "expected a JSON object"),
])
def test_a_malformed_record_is_an_error_naming_the_question(record, error):
    with pytest.raises(ValueError, match=error):
        dataset.parse(record)


def test_a_malformed_file_names_the_line(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text('{"question": "Fine?"}\n\n{"question": "Broken?"\n')
    with pytest.raises(ValueError, match=r"q.jsonl, line 3: not JSON"):
        dataset.load(path=f)
    f.write_text('{"id": "a", "question": "x?"}\n{"id": "a", "question": "y?"}\n')
    with pytest.raises(ValueError, match=r"duplicate question ids \['a'\]"):
        dataset.load(path=f)
    f.write_text("\n")
    with pytest.raises(ValueError, match="holds no questions"):
        dataset.load(path=f)


def test_an_unlabelled_question_is_scored_only_on_what_applies():
    q = dataset.Question("u1", "Where was the IACH ceremony held?")  # no gold, no key facts
    r = _record(q, _answer())
    assert r["retrieval"] == {} and set(r["passed"]) == {"abstention"}
    s = scoring.aggregate([r], "hybrid")["metrics"]
    assert s["recall@5"] is None and s["key_fact_recall"] is None and s["cited_gold_share"] is None
    assert s["selfcheck_support"] == 1.0


def _readme_question_example() -> list[str]:
    "The 3-line question-set example in the README's 'Evaluate your own questions' section."
    from rag.config import checkout

    text = (checkout() / "README.md").read_text()
    section = text[text.index("### Evaluate your own questions"):]
    block = section[section.index("```jsonl\n") + len("```jsonl\n"):]
    return block[:block.index("```")].strip().splitlines()


# The fields as RAGAS and DeepEval document them (ragas.dataset_schema.SingleTurnSample, loaded by
# EvaluationDataset.from_jsonl / from_list; deepeval.test_case.LLMTestCase, loaded by
# EvaluationDataset.add_test_cases_from_json_file), mirrored as pydantic models that ignore extra
# keys as both originals do. Neither package is a dependency (they pull in LangChain, and a pinned
# openai 1.x), so the export is checked against these mirrors, without network.
def _framework_models():
    from pydantic import BaseModel, ConfigDict, StrictStr

    class SingleTurnSample(BaseModel):
        model_config = ConfigDict(extra="ignore")
        user_input: StrictStr | None = None
        retrieved_contexts: list[StrictStr] | None = None
        retrieved_context_ids: list[StrictStr | int] | None = None
        reference_contexts: list[StrictStr] | None = None
        response: StrictStr | None = None
        multi_responses: list[StrictStr] | None = None
        reference: StrictStr | None = None
        rubric: dict[str, str] | None = None

    class LLMTestCase(BaseModel):
        model_config = ConfigDict(extra="ignore")
        input: StrictStr
        actual_output: StrictStr | None = None
        expected_output: StrictStr | None = None
        context: list[StrictStr] | None = None
        retrieval_context: list[StrictStr] | None = None
        metadata: dict | None = None
        name: StrictStr | None = None
        tags: list[StrictStr] | None = None

    return SingleTurnSample, LLMTestCase


@pytest.mark.slow
def test_eval_runs_a_users_question_set_ungated_and_exports_for_llm_judges(settings, tmp_path, capsys):
    from rag.evaluation import export

    lines = _readme_question_example()
    assert len(lines) == 3
    questions = tmp_path / "mine.jsonl"
    questions.write_text("\n".join(lines) + "\n")
    out = tmp_path / "export.jsonl"
    assert main(["eval", "--questions", str(questions), "--export", str(out), "--out", str(tmp_path / "r")]) == 0
    console = capsys.readouterr().out
    assert "no baseline given: nothing gated" in console and "Gate" not in console

    set_ = dataset.load(path=questions)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["name"] for r in rows] == [q.id for q in set_]
    SingleTurnSample, LLMTestCase = _framework_models()
    ragas = [SingleTurnSample(**r) for r in rows]  # what EvaluationDataset.from_jsonl does per line
    deepeval = [LLMTestCase(**r) for r in rows]
    report = {r["id"]: r for r in json.loads((tmp_path / "r" / "questions.json").read_text())}
    for q, row, sample, case in zip(set_, rows, ragas, deepeval, strict=True):
        assert sample.user_input == case.input == q.question
        assert sample.response == case.actual_output == report[q.id]["answer"]["text"]
        assert sample.retrieved_contexts == case.retrieval_context and len(sample.retrieved_contexts) >= 1
        assert sample.retrieved_context_ids == report[q.id]["answer"]["hits"]  # "doc_id:paragraph", in order
        assert sample.reference == case.expected_output == export.ground_truth(q)
        assert sample.reference_contexts == case.context == (list(q.gold) or None)
        cited = row["metadata"]["citations"]
        assert [(c["doc_id"], c["paragraph"]) for c in cited] == \
            [(c["doc_id"], c["paragraph"]) for c in report[q.id]["answer"]["citations"]]
        assert all(c["text"] in sample.retrieved_contexts for c in cited)  # a citation is a paragraph answered from
    by_id = {q.id: (q, row) for q, row in zip(set_, rows, strict=True)}
    unanswerable = next(row for q, row in by_id.values() if not q.answerable)
    assert unanswerable["reference"] == export.CANNOT_ANSWER and unanswerable["context"] is None
    labelled = next(row for q, row in by_id.values() if q.key_facts)
    assert labelled["reference"] and labelled["reference_contexts"]

    # A .json export is the array DeepEval's add_test_cases_from_json_file and RAGAS's from_list read.
    out_json = tmp_path / "export.json"
    assert main(["eval", "--questions", str(questions), "--export", str(out_json), "--out", str(tmp_path / "r2"),
                 "-q"]) == 0
    array = json.loads(out_json.read_text())
    assert [r["input"] for r in array] == [r["input"] for r in rows]
    assert [LLMTestCase(**r).actual_output for r in array] == [r["actual_output"] for r in rows]


def test_eval_refuses_bad_arguments_before_running(tmp_path, capsys):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "What is the Beijing Protocol?"}\n')
    assert main(["eval", "--questions", str(tmp_path / "missing.jsonl")]) == 2
    assert main(["eval", "--questions", str(questions), "--export", str(tmp_path / "out.csv")]) == 2
    assert main(["eval", "--questions", str(questions), "--update-baseline"]) == 2
    assert main(["eval", "--questions", str(questions), "--calibrate"]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "use a .jsonl" in err and "needs --baseline FILE" in err
    assert "--calibrate needs answerable and unanswerable questions" in err
