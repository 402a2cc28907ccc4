"""A shared store: Postgres + pgvector, for many app processes serving one collection.

Selected by `RAG_STORE=postgresql://user:pass@host:5432/db` (Settings.store). Every process reads
the same tables (rag/store/pg_schema.py); none keeps a local index, so an article added or removed
by `rag index` is seen by every replica on its next query.

Retrieval is one SQL statement per query, with the same scores as the snapshot store:

    dense   HNSW (inner product over normalised vectors) picks the best chunks; a paragraph scores
            the mean of its best chunk's cosine and its best sentence's cosine
    bm25    the postings index (term, weight) gives each query term's best chunks in impact order
            (a bounded candidate set, see _BM25); the best candidates are then scored by exact BM25
            (Lucene's formula, k1=1.5, b=0.75, as bm25s) from their stored term counts and length,
            with IDF from the `terms` table. The analyzer is the snapshot's (rag.text.terms).
            Postgres's own ts_rank_cd over an any-word query is not BM25 and measured ten times
            slower with a third of the recall.
    hybrid  reciprocal rank fusion of the two lists, inside the same statement (the dense ranks
            weighted as the snapshot weighs them, rag.store.dense_weight)

Connections come from a pool (psycopg_pool); a query that runs past Settings-independent
QUERY_TIMEOUT_MS is cancelled by the server. Install with `pip install "rag-news[pg]"`.
"""

from __future__ import annotations

import atexit
import functools
import threading
from collections.abc import Sequence

import numpy as np

from ..config import Settings
from ..errors import RagError
from ..types import ArticleText, DocInfo, Document, Hit, Paragraph, Sentence
from . import DENSE_WEIGHT_ON_MISS, LEXICAL_MISS, MODES, Store
from .pg_schema import migrate

CONNECT_TIMEOUT_S = 5
QUERY_TIMEOUT_MS = 10_000  # a reader's statement timeout; bulk loads lift it for their own transactions
POOL_MAX = 8  # connections per process: threads answering at once (Gradio's default queue is smaller)
EF_SEARCH_MIN = 100  # HNSW candidate list; at 100k x 384 ef_search 100 measured recall@10 0.995 in 2.4 ms
BM25_K1, BM25_B = 1.5, 0.75  # bm25s's defaults, so both stores rank alike
# BM25 candidates (see _BM25): postings entries read per query, shared among its terms by IDF, and
# how many of the best are scored exactly. At 100k paragraphs (benchmarks/stores.py, the synthetic
# corpus whose every term is common) 60k/500 measured bm25 p50 25 ms and recall@10 0.974 against
# exact BM25; 40k/500 the same time at 0.964, 80k/500 33 ms at 0.975. The GIN method before it: 88 ms, 0.98.
BM25_BUDGET = 60_000
BM25_CAP = 500
WORK_MEM = "32MB"  # per sort/hash of a query: BM25's candidate rows spilled to disk at the default 4 MB


class StoreUnavailable(RagError):
    "The database cannot be reached or is not set up for rag."


def describe(dsn: str) -> str:
    "host:port/dbname of a DSN, without its password (for messages)."
    from psycopg.conninfo import conninfo_to_dict

    try:
        d = conninfo_to_dict(dsn)
    except Exception:  # an unparsable DSN is reported by connect itself
        return "the database in RAG_STORE"
    return f"{d.get('host') or 'localhost'}:{d.get('port') or 5432}/{d.get('dbname') or d.get('user') or ''}"


def _import_driver():
    try:
        import pgvector.psycopg  # noqa: F401
        import psycopg
        import psycopg_pool  # noqa: F401
    except ImportError as e:
        raise RagError(f"RAG_STORE points at Postgres but its driver is not installed ({e.name}): "
                       'pip install "rag-news[pg]"') from e
    return psycopg


def connect(dsn: str, *, timeout_ms: int | None = QUERY_TIMEOUT_MS):
    "One connection, with pgvector's types registered; a clear error when that is impossible."
    psycopg = _import_driver()
    from pgvector.psycopg import register_vector

    options = f"-c statement_timeout={timeout_ms}" if timeout_ms else ""
    try:
        conn = psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S, options=options, autocommit=True)
    except psycopg.Error as e:
        reason = " ".join(str(e).split()) or type(e).__name__
        raise StoreUnavailable(f"cannot connect to the database at {describe(dsn)} ({reason}). Check RAG_STORE "
                               "and that the server is running and accepts connections from here.") from e
    try:
        _ensure_vector(conn, dsn)
        register_vector(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _ensure_vector(conn, dsn: str) -> None:
    import psycopg

    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
        return
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.errors.InsufficientPrivilege as e:
        raise StoreUnavailable(f"the database at {describe(dsn)} lacks the pgvector extension and this user may "
                               "not create it: ask its owner to run CREATE EXTENSION vector there.") from e
    except psycopg.Error as e:
        raise StoreUnavailable(f"the Postgres server at {describe(dsn)} has no pgvector extension ({e}); install "
                               "pgvector on the server (https://github.com/pgvector/pgvector).") from e


class Database:
    """A DSN's connection pool, shared by every store opened on it in this process. Opening checks the
    server, creates the extension if missing and migrates the schema, so the first query cannot fail
    for want of either."""

    def __init__(self, dsn: str, *, max_size: int = POOL_MAX):
        from pgvector.psycopg import register_vector
        from psycopg_pool import ConnectionPool

        self.dsn = dsn
        with connect(dsn, timeout_ms=None) as conn:  # reports an unreachable server in one line
            migrate(conn)
        self.pool = ConnectionPool(
            dsn, min_size=1, max_size=max_size, open=True, timeout=CONNECT_TIMEOUT_S * 2,
            kwargs={"connect_timeout": CONNECT_TIMEOUT_S, "autocommit": True,
                    "options": f"-c statement_timeout={QUERY_TIMEOUT_MS} -c hnsw.ef_search={EF_SEARCH_MIN} "
                               f"-c work_mem={WORK_MEM}"},
            configure=register_vector, name="rag-store",
        )

    def close(self) -> None:
        self.pool.close()

    def connection(self):
        "A pooled connection (a context manager); a clear error when the server went away."
        import psycopg_pool

        try:
            return self.pool.connection()
        except psycopg_pool.PoolTimeout as e:
            raise StoreUnavailable(f"no connection to the database at {describe(self.dsn)} within "
                                   f"{self.pool.timeout:.0f} s: is the server up?") from e

    def collection(self) -> tuple[dict | None, int | None, int]:
        "The collection's fingerprint, vector dimension and generation."
        with self.connection() as conn:
            return conn.execute("SELECT fingerprint, dim, generation FROM rag_collection").fetchone()


_databases: dict[str, Database] = {}
_lock = threading.Lock()


def database(dsn: str) -> Database:
    """The process's pool for this DSN, opened on first use. One pool per process is the point of a
    pool; this registry holds resources, never data passed between steps."""
    with _lock:
        if dsn not in _databases:
            _databases[dsn] = Database(dsn)
        return _databases[dsn]


def close_databases() -> None:
    "Close every pool this process opened (at exit, or before a test drops its database)."
    with _lock:
        for db in _databases.values():
            db.close()
        _databases.clear()


atexit.register(close_databases)


def fingerprint(settings: Settings) -> dict:
    "What the stored vectors and terms depend on: a change means the collection must be reloaded."
    from ..chunking import CHUNKER_VERSION
    from ..embedding import model_key

    return {"embedder": settings.embedder, "embedder_key": model_key(settings.embedder),
            "build_backend": settings.build_backend,
            "chunker": {"version": CHUNKER_VERSION, "max_tokens": settings.chunk_tokens,
                        "encoding": settings.token_encoding}}


# --- the statement ------------------------------------------------------------------------------

_DENSE = """
dc AS MATERIALIZED (
    SELECT v.chunk AS id, v.paragraph, -(v.embedding::vector({dim}) <#> %(q)s::vector({dim})) AS sim
    FROM chunk_vectors v ORDER BY v.embedding::vector({dim}) <#> %(q)s::vector({dim}) LIMIT %(n2)s),
dp AS (
    SELECT paragraph, max(sim) AS sim FROM dc GROUP BY paragraph ORDER BY max(sim) DESC LIMIT %(n)s),
dr AS (
    SELECT paragraph, score, row_number() OVER (ORDER BY score DESC, sim DESC) AS rank FROM (
        SELECT dp.paragraph, dp.sim, (dp.sim + coalesce(
            (SELECT max(-(s.embedding <#> %(q)s::vector)) FROM sentences s WHERE s.paragraph = dp.paragraph),
            dp.sim)) / 2 AS score
        FROM dp) x)"""

# Candidates come from the postings index in impact order: each query term contributes its chunks
# with the highest BM25 term weights, a share of BM25_BUDGET entries in proportion to its IDF (a rare
# term's whole list, a common term's best few thousand: a chunk holding only common terms rarely
# makes the top 2n). The union is ranked by the sum of IDF x stored weight and the best BM25_CAP
# are scored exactly from their term counts and the current average length, as bm25s scores them.
# Reading each term's best entries from the index alone is what makes this cheap: the GIN index over
# chunks' term ids it replaced read every candidate chunk's whole row (88 ms p50 at 100k paragraphs
# against 25 ms, benchmarks/stores.py); the budget's cost in recall is measured there too.
_BM25 = """
qt AS (SELECT t.id, t.df FROM unnest(%(terms)s::text[]) AS u(term) JOIN terms t ON t.term = u.term WHERE t.df > 0),
st AS (SELECT n_chunks::float8 AS n, total_terms::float8 / greatest(n_chunks, 1) AS avgdl FROM rag_collection),
qw AS (SELECT qt.id, ln(1 + (st.n - qt.df + 0.5) / (qt.df + 0.5)) AS idf FROM qt, st),
ql AS (
    SELECT id, idf, ceil(%(budget)s * idf / sum(idf) OVER ())::bigint AS m
    FROM (SELECT id, sum(idf) AS idf FROM qw GROUP BY id) g),
pre AS (
    SELECT p.chunk FROM ql CROSS JOIN LATERAL (
        SELECT chunk, weight FROM postings WHERE term = ql.id ORDER BY weight DESC LIMIT ql.m) p
    GROUP BY p.chunk ORDER BY sum(ql.idf * p.weight) DESC, p.chunk LIMIT %(cap)s),
cand AS (SELECT c.id, c.paragraph, c.term_ids, c.term_tfs, c.length FROM pre JOIN chunks c ON c.id = pre.chunk),
cs AS (
    SELECT id, paragraph, sum(idf * tf / (tf + {k1} * (1 - {b} + {b} * length / st.avgdl))) AS score
    FROM (SELECT cand.id, cand.paragraph, cand.length, qw.idf,
                 cand.term_tfs[array_position(cand.term_ids, qw.id)] AS tf FROM cand CROSS JOIN qw) x
         CROSS JOIN st
    WHERE tf IS NOT NULL
    GROUP BY id, paragraph ORDER BY score DESC, id LIMIT %(n2)s),
br AS (
    SELECT paragraph, score, row_number() OVER (ORDER BY score DESC, first) AS rank FROM (
        SELECT paragraph, max(score) AS score, min(id) AS first FROM cs GROUP BY paragraph
        ORDER BY max(score) DESC, min(id) LIMIT %(n)s) x)"""

_FUSED = {
    # (the dense ranks weigh more when no passage matches the query's words: rag.store.dense_weight)
    "hybrid": """
w AS (SELECT CASE WHEN (SELECT max(score) FROM br) < %(miss)s * (SELECT sum(idf) FROM qw)
                  THEN %(boost)s::float8 ELSE 1.0::float8 END AS wd),
f AS (
    SELECT coalesce(dr.paragraph, br.paragraph) AS paragraph,
           coalesce(w.wd / (%(rrf)s + dr.rank), 0) + coalesce(1.0::float8 / (%(rrf)s + br.rank), 0) AS score,
           dr.score AS dense, br.score AS bm25, dr.rank AS r1, br.rank AS r2
    FROM dr FULL JOIN br ON dr.paragraph = br.paragraph CROSS JOIN w
    ORDER BY 2 DESC, r1 NULLS LAST, r2 LIMIT %(k)s)""",
    "dense": "f AS (SELECT paragraph, score, score AS dense, NULL::float8 AS bm25, rank AS r1, NULL::bigint AS r2 "
             "FROM dr ORDER BY rank LIMIT %(k)s)",
    "bm25": "f AS (SELECT paragraph, score, NULL::float8 AS dense, score AS bm25, NULL::bigint AS r1, rank AS r2 "
            "FROM br ORDER BY rank LIMIT %(k)s)",
}

_HIT = """
SELECT d.doc_id, d.title, d.date, p.number, p.start_char, p.end_char, p.text, f.score, f.dense, f.bm25, p.page
FROM f JOIN paragraphs p ON p.id = f.paragraph JOIN documents d ON d.id = p.doc
ORDER BY f.score DESC, f.r1 NULLS LAST, f.r2"""


def search_sql(mode: str, dim: int) -> str:
    parts = ([_DENSE.format(dim=int(dim))] if mode != "bm25" else []) + \
            ([_BM25.format(k1=BM25_K1, b=BM25_B)] if mode != "dense" else [])
    return "WITH " + ",".join(parts + [_FUSED[mode]]) + _HIT


# --- the store ----------------------------------------------------------------------------------


class PostgresStore(Store):
    name = "postgres"

    def __init__(self, db: Database, settings: Settings, dim: int, generation: int):
        self.db = db
        self.settings = settings
        self.dim = dim
        self.generation = generation
        self.query_backend = "onnx-int8" if settings.build_backend == "onnx-int8" else "onnx"
        self._sql = {mode: search_sql(mode, dim) for mode in MODES}
        # Answering reads a cited article's whole text several times per question; a store instance
        # stands for one generation of the collection (reopen() makes a new one), so caching is safe.
        self.article = functools.lru_cache(maxsize=256)(self._article)
        self._articles: dict[str, Document] | None = None
        self._documents: tuple[DocInfo, ...] | None = None

    @classmethod
    def open(cls, settings: Settings, *, progress: bool = False) -> PostgresStore:
        """The collection in settings.store. An empty database is first loaded from settings.sources
        (as a missing snapshot is built); one built with other embedding settings is refused."""
        db = database(settings.store)
        stored, dim, generation = db.collection()
        if stored is None:
            from .pg_load import sync

            sync(settings, db, progress=progress)
            stored, dim, generation = db.collection()
        if stored != fingerprint(settings):
            raise RagError(f"the database at {describe(settings.store)} was loaded with other embedding or "
                           f"chunking settings ({stored}); reload it with `rag index --force`.")
        return cls(db, settings, dim, generation)

    def changed(self) -> bool:
        return self.db.collection()[2] != self.generation

    def reopen(self) -> PostgresStore:
        "Reads are live; a reopened store only records the generation it has seen."
        _, dim, generation = self.db.collection()
        return PostgresStore(self.db, self.settings, dim, generation)

    def search(self, terms: Sequence[str], qvec: np.ndarray | None, k: int, mode: str) -> list[Hit]:
        if mode not in MODES:
            raise ValueError(f"Unknown retriever {mode!r}. Valid retrievers: {', '.join(MODES)}")
        n = max(self.settings.candidates, k)
        params = {"terms": list(terms), "n": n, "n2": 2 * n, "k": k, "rrf": self.settings.rrf_k,
                  "q": None if qvec is None else np.asarray(qvec, dtype=np.float32),
                  "budget": BM25_BUDGET, "cap": BM25_CAP, "miss": LEXICAL_MISS, "boost": DENSE_WEIGHT_ON_MISS}
        with self.db.connection() as conn:
            if mode != "bm25" and 2 * n > EF_SEARCH_MIN:
                # HNSW returns at most ef_search rows: it must cover the 2n chunks asked for. Pooled
                # connections start at EF_SEARCH_MIN, so the usual query needs no extra round trips.
                with conn.transaction():
                    conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(2 * n),))
                    rows = conn.execute(self._sql[mode], params).fetchall()
            else:
                rows = conn.execute(self._sql[mode], params).fetchall()
        return [Hit(*r[:7], float(r[7]), None if r[8] is None else float(r[8]),
                    None if r[9] is None else float(r[9]), r[10]) for r in rows]

    # -- Corpus ----------------------------------------------------------------------------------

    def documents(self) -> Sequence[DocInfo]:
        if self._documents is None:  # read once per instance: one generation of the collection, as article()
            with self.db.connection() as conn:
                rows = conn.execute("SELECT doc_id, title, date, paragraphs FROM documents ORDER BY id").fetchall()
            self._documents = tuple(DocInfo(*r) for r in rows)
        return self._documents

    def document(self, doc_id: str) -> DocInfo:
        with self.db.connection() as conn:
            row = conn.execute("SELECT doc_id, title, date, paragraphs FROM documents WHERE doc_id = %s",
                               (doc_id,)).fetchone()
        if row is None:
            raise KeyError(doc_id)
        return DocInfo(*row)

    def paragraph(self, doc_id: str, number: int) -> Hit:
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT d.doc_id, d.title, d.date, p.number, p.start_char, p.end_char, p.text, p.page "
                "FROM documents d JOIN paragraphs p ON p.doc = d.id WHERE d.doc_id = %s AND p.number = %s",
                (doc_id, number)).fetchone()
        if row is None:
            raise KeyError((doc_id, number))
        return Hit(*row[:7], 0.0, page=row[7])

    def label(self) -> str:
        return f"Postgres {describe(self.db.dsn)}, generation {self.generation}"

    def articles(self) -> dict[str, Document]:
        """Every article, rebuilt from its stored paragraphs: each paragraph's text at its offsets
        (the text between paragraphs, which nothing cites or shows, as newlines). Read once per
        store instance, which stands for one generation of the collection."""
        if self._articles is None:
            with self.db.connection() as conn:
                rows = conn.execute(
                    "SELECT d.doc_id, d.path, d.title, d.date, d.sha256, "
                    "array_agg(p.number ORDER BY p.number), array_agg(p.start_char ORDER BY p.number), "
                    "array_agg(p.end_char ORDER BY p.number), array_agg(p.page ORDER BY p.number), "
                    "array_agg(p.text ORDER BY p.number) "
                    "FROM documents d JOIN paragraphs p ON p.doc = d.id GROUP BY d.id ORDER BY d.id").fetchall()
            out = {}
            for doc_id, path, title, date, sha, numbers, starts, ends, pages, texts in rows:
                chars = list("\n" * max(ends))
                for start, end, text in zip(starts, ends, texts, strict=True):
                    chars[start:end] = text
                paragraphs = tuple(Paragraph(n, a, b, pg) for n, a, b, pg in zip(numbers, starts, ends, pages, strict=True))
                out[doc_id] = Document(doc_id, path, title, date, sha, "".join(chars), paragraphs)
            self._articles = out
        return self._articles

    def article(self, doc_id: str) -> ArticleText:  # replaced per instance by an LRU cache in __init__
        return self._article(doc_id)

    def _article(self, doc_id: str) -> ArticleText:
        from ..text import terms, words

        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT d.title, p.text FROM documents d JOIN paragraphs p ON p.doc = d.id WHERE d.doc_id = %s "
                "ORDER BY p.number", (doc_id,)).fetchall()
        if not rows:
            raise KeyError(doc_id)
        text = "\n".join([rows[0][0]] + [r[1] for r in rows]).lower()
        return ArticleText(doc_id, text, frozenset(words(text)), frozenset(terms(text)))

    def sentences(self, keys: Sequence[tuple[str, int]]) -> tuple[list[list[Sentence]], np.ndarray]:
        out: list[list[Sentence]] = [[] for _ in keys]
        if not keys:
            return out, np.zeros((0, 0), np.float32)
        with self.db.connection() as conn, conn.cursor(binary=True) as cur:
            rows = cur.execute(
                "SELECT k.ord, d.doc_id, p.number, s.start_char, s.end_char, s.embedding "
                "FROM unnest(%s::text[], %s::int[]) WITH ORDINALITY AS k(doc_id, number, ord) "
                "JOIN documents d ON d.doc_id = k.doc_id JOIN paragraphs p ON p.doc = d.id AND p.number = k.number "
                "JOIN sentences s ON s.paragraph = p.id ORDER BY k.ord, s.id",
                ([k[0] for k in keys], [int(k[1]) for k in keys])).fetchall()
        for ord_, doc_id, number, start, end, _ in rows:
            out[ord_ - 1].append(Sentence(doc_id, number, start, end))
        vectors = (np.stack([np.asarray(r[5].to_numpy() if hasattr(r[5], "to_numpy") else r[5], np.float32)
                             for r in rows]) if rows else np.zeros((0, 0), np.float32))
        return out, vectors

    def idf(self, terms: Sequence[str]) -> list[float]:
        "BM25's IDF over chunks, as the snapshot store computes it; unseen terms get the rarest term's."
        with self.db.connection() as conn:
            n = conn.execute("SELECT n_chunks FROM rag_collection").fetchone()[0]
            rare = conn.execute("SELECT min(df) FROM terms WHERE df > 0").fetchone()[0] or 1
            dfs = dict(conn.execute("SELECT term, df FROM terms WHERE term = ANY(%s) AND df > 0",
                                    (list(terms),)).fetchall())

        def idf(df: int) -> float:
            return float(np.log((n - df + 0.5) / (df + 0.5) + 1.0))

        return [idf(dfs[t]) if t in dfs else idf(rare) for t in terms]
