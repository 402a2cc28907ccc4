"""The Postgres store's schema, as numbered migrations applied in order, each in its own transaction.

    rag_schema      one row per applied migration (version, applied_at)
    rag_collection  one row: the build fingerprint (embedder, chunker, vector dimension), the BM25
                    corpus statistics (chunk count, total terms), a generation bumped by every write,
                    and the collection's sources (rag.collection: roots and exclusions), which
                    `rag index PATH` adds to and `rag index --remove` takes from
    documents       one row per article, unique by doc_id and by content hash (sha256)
    paragraphs      the unit of retrieval and citation: offsets into the article, the text, the page
    chunks          what is searched: a whole paragraph or a window of a long one, with its BM25 terms
                    (term ids and their counts, plus its length in terms)
    postings        the BM25 inverted index: one row per (term, chunk) with the chunk's BM25 term weight
                    tf / (tf + k1 (1 - b + b len / avgdl)) at the average length when it was written,
                    indexed by (term, weight descending) so a query reads each term's best chunks
                    first, from the index alone (impact order; rag/store/postgres.py)
    chunk_vectors   each chunk's vector, apart: BM25 reads thousands of chunk rows per query, and a
                    384-d vector inline made each row 1.9 KB (a 100k-paragraph query read 90 MB)
    sentences       offsets and vectors, for sentence-level scoring and quotes
    terms           the BM25 vocabulary: term text -> id and document frequency (in chunks)

Vectors are stored without a declared dimension so one schema serves any embedder; the HNSW index
(on chunk_vectors) is built over a cast to the collection's dimension once the first load knows it (after the bulk
load, which is several times faster than inserting into a live graph).

Never edit a released migration: add a new one. A database newer than this code is refused.
"""

from __future__ import annotations

from ..errors import RagError

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, """
    CREATE TABLE rag_collection (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        fingerprint jsonb,
        dim integer,
        n_chunks bigint NOT NULL DEFAULT 0,
        total_terms bigint NOT NULL DEFAULT 0,
        generation bigint NOT NULL DEFAULT 0
    );
    INSERT INTO rag_collection DEFAULT VALUES;
    CREATE TABLE documents (
        id serial PRIMARY KEY,
        doc_id text NOT NULL UNIQUE,
        sha256 text NOT NULL UNIQUE,
        path text NOT NULL,
        title text NOT NULL,
        date text,
        paragraphs integer NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE paragraphs (
        id bigserial PRIMARY KEY,
        doc integer NOT NULL REFERENCES documents ON DELETE CASCADE,
        number integer NOT NULL,
        start_char integer NOT NULL,
        end_char integer NOT NULL,
        page integer,
        text text NOT NULL,
        UNIQUE (doc, number)
    );
    CREATE TABLE chunks (
        id bigserial PRIMARY KEY,
        paragraph bigint NOT NULL REFERENCES paragraphs ON DELETE CASCADE,
        doc integer NOT NULL REFERENCES documents ON DELETE CASCADE,
        term_ids integer[] NOT NULL,
        term_tfs integer[] NOT NULL,
        length integer NOT NULL,
        bm25 sparsevec NOT NULL
    );
    CREATE INDEX chunks_terms ON chunks USING gin (term_ids);
    CREATE INDEX chunks_paragraph ON chunks (paragraph);
    CREATE INDEX chunks_doc ON chunks (doc);
    CREATE TABLE chunk_vectors (
        chunk bigint PRIMARY KEY REFERENCES chunks ON DELETE CASCADE,
        paragraph bigint NOT NULL,
        embedding vector NOT NULL
    );
    CREATE TABLE sentences (
        id bigserial PRIMARY KEY,
        paragraph bigint NOT NULL REFERENCES paragraphs ON DELETE CASCADE,
        start_char integer NOT NULL,
        end_char integer NOT NULL,
        embedding vector NOT NULL
    );
    CREATE INDEX sentences_paragraph ON sentences (paragraph);
    CREATE TABLE terms (
        id serial PRIMARY KEY,
        term text NOT NULL UNIQUE,
        df integer NOT NULL DEFAULT 0
    );
    CREATE INDEX terms_df ON terms (df);
    """),
    # 2: BM25 candidates from an impact-ordered postings table instead of a GIN index over chunks'
    # term ids ranked by a sparsevec: the GIN route read every candidate chunk's whole row (35k rows,
    # 9.5k pages for one query at 100k paragraphs: 88 ms p50); the postings index is read in order,
    # a few thousand narrow entries per term (25 ms). Weights are backfilled from the stored counts.
    # The collection's sources are recorded with the data (NULL: seeded from RAG_SEEDS on first load),
    # and uploaded articles are marked: the database, not one replica's uploads folder, keeps them.
    (2, """
    CREATE TABLE postings (
        term integer NOT NULL,
        chunk bigint NOT NULL,
        weight real NOT NULL
    );
    INSERT INTO postings (term, chunk, weight)
    SELECT u.term, c.id, (u.tf / (u.tf + 1.5 * (0.25 + 0.75 * c.length / st.avgdl)))::real
    FROM chunks c, unnest(c.term_ids, c.term_tfs) AS u(term, tf),
         (SELECT greatest(total_terms, 1)::float8 / greatest(n_chunks, 1) AS avgdl FROM rag_collection) st;
    CREATE INDEX postings_impact ON postings (term, weight DESC) INCLUDE (chunk);
    CREATE INDEX postings_chunk ON postings (chunk);
    DROP INDEX chunks_terms;
    ALTER TABLE chunks DROP COLUMN bm25;
    ALTER TABLE rag_collection ADD COLUMN sources jsonb;
    ALTER TABLE documents ADD COLUMN uploaded boolean NOT NULL DEFAULT false;
    """),
)
LATEST = MIGRATIONS[-1][0]
LOCK_KEY = 0x7261675F6E657773  # "rag_news": serialises migrations and writers across processes


def migrate(conn) -> int:
    """Bring the schema up to LATEST; return the version. Safe to run from many processes at once:
    the first takes the lock and migrates, the others wait and then find nothing to do."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute("CREATE TABLE IF NOT EXISTS rag_schema "
                     "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        current = conn.execute("SELECT coalesce(max(version), 0) FROM rag_schema").fetchone()[0]
        if current > LATEST:
            raise RagError(f"the database's rag schema is version {current}, newer than this rag-news "
                           f"(version {LATEST}): upgrade rag-news on this machine.")
        for version, sql in MIGRATIONS:
            if version > current:
                conn.execute(sql)
                conn.execute("INSERT INTO rag_schema (version) VALUES (%s)", (version,))
    return LATEST
