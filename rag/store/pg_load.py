"""Loading the collection into Postgres: what `rag index` does when RAG_STORE is set.

The database holds one collection, defined as in a RAG_HOME (rag.collection): its sources (roots and
exclusions) are recorded in the database itself, so every replica and every `rag index` sees the
same definition. `rag index PATH` adds PATH to them, `rag index --remove PATH|DOC_ID` takes one out,
and `rag index` alone refreshes what is recorded; the first load seeds them from RAG_SEEDS. The local
RAG_HOME/uploads folder is always a source, as for a snapshot.

The database is then brought in line with the sources' files, article by article, keyed by content
hash: an article whose bytes are already stored is kept as is, one no longer among them is deleted,
a new or changed one is read, chunked and embedded exactly as for a snapshot (rag/index.py's
reading, chunking and embedding cache) and written. Each write is one transaction that also updates
the BM25 term statistics and bumps the collection's generation, so a reader never sees an article
without its terms counted, nor counts for an article that is not there.

One writer at a time (a Postgres advisory lock); readers are never blocked.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..collection import Collection, Skipped, list_files, seeded, with_added, with_removed
from ..config import Settings
from ..types import Document
from .pg_schema import LOCK_KEY
from .postgres import Database, connect, database, describe, fingerprint

log = logging.getLogger(__name__)
WRITER_LOCK = LOCK_KEY + 1  # not the migration lock: a replica starting mid-load must not wait for it
BATCH_CHUNKS = 20_000  # chunks per write transaction: bounds a transaction's memory and lock time
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 64  # pgvector's defaults; 100k x 384 built in 49 s, recall@10 0.995


@dataclass
class SyncReport:
    documents: int  # in the database after the load
    added: int
    removed: int
    paragraphs: int  # written by this load
    chunks: int
    sentences: int
    embedded: int
    cached: int
    seconds: float
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "PATH is already part of the collection"

    def line(self, dsn: str) -> str:
        return (f"Loaded into {describe(dsn)}: {self.added} article(s) added ({self.paragraphs} paragraphs, "
                f"{self.chunks} chunks, {self.sentences} sentences), {self.removed} removed, "
                f"{self.documents} in the collection, in {self.seconds:.1f}s; embedded {self.embedded} new "
                f"texts, {self.cached} from cache; {len(self.skipped)} file(s) skipped.")


@dataclass(frozen=True)
class Prepared:
    "An article ready to write: its chunks' BM25 terms and vectors, its sentences and their vectors."

    doc: Document
    chunks: list  # rag.types.Chunk
    chunk_terms: list[list[str]]
    chunk_vecs: np.ndarray
    sentences: list  # rag.types.Sentence
    sent_vecs: np.ndarray
    uploaded: bool = False  # from RAG_HOME/uploads (added in the web UI)


def stored_collection(conn, settings: Settings) -> Collection:
    "The collection recorded in the database; one that records none is seeded from settings.seeds."
    data = conn.execute("SELECT sources FROM rag_collection").fetchone()[0]
    return Collection.from_json(data, settings.uploads) if data else seeded(settings.seeds, settings.uploads)


def collection(settings: Settings) -> Collection:
    "The collection of the database in settings.store (for `rag index --list` and `--ray`)."
    with connect(database(settings.store).dsn) as conn:
        return stored_collection(conn, settings)


def stored_paths(settings: Settings) -> dict[str, dict]:
    """Each stored article's source path -> {"doc_id": ...}, as a snapshot manifest's "sources"."""
    with connect(database(settings.store).dsn) as conn:
        return {path: {"doc_id": doc_id} for doc_id, path in conn.execute("SELECT doc_id, path FROM documents")}


def read_collection(settings: Settings, coll: Collection,
                    warn: Callable[[str], None]) -> tuple[list[Document], list[Skipped]]:
    "The collection's readable articles, and what was left out and why (each also passed to warn)."
    from ..index import EmptyCollectionError, read_corpus

    listing = list_files(coll.sources, coll.excluded, settings.home)
    for note in listing.notes:
        warn(f"skipped {note.reason}")
    docs, _, skipped = read_corpus(listing.files, settings.max_file_bytes, warn)
    if not docs:
        raise EmptyCollectionError(
            f"No readable articles in {', '.join(coll.sources)}. Add .txt, .md, .html, .pdf or .docx files "
            "with `rag index PATH` (or point RAG_SEEDS at your articles before the first load).")
    return docs, [*listing.notes, *skipped]


def _plan(conn, docs: Sequence[Document], coll: Collection) -> tuple[list[Document], list[int]]:
    """The articles to add and the stored rows to delete: an article is kept when hash and id match.
    An uploaded article is kept although this machine's uploads folder lacks it (it was uploaded
    through another replica, whose RAG_HOME holds the file) until it is removed by id or path."""
    def excluded(path: str) -> bool:
        return any(path == x or path.startswith(x.rstrip("/") + "/") for x in coll.excluded)

    have = {(sha, doc_id): (i, uploaded and not excluded(path)) for i, sha, doc_id, path, uploaded
            in conn.execute("SELECT id, sha256, doc_id, path, uploaded FROM documents")}
    keep = {(d.sha256, d.doc_id) for d in docs}
    return ([d for d in docs if (d.sha256, d.doc_id) not in have],
            [i for key, (i, kept) in have.items() if key not in keep and not kept])


def status(settings: Settings) -> str:
    "'fresh', or what a refresh would change (for `rag index --check`)."
    with connect(database(settings.store).dsn) as conn:
        coll = stored_collection(conn, settings)
        docs, _ = read_collection(settings, coll, lambda m: None)
        stored = conn.execute("SELECT fingerprint FROM rag_collection").fetchone()[0]
        if stored != fingerprint(settings):
            return "stale: the database is empty or was loaded with other settings"
        new, gone = _plan(conn, docs, coll)
    return f"stale: {len(new)} article(s) to add, {len(gone)} to remove" if new or gone else "fresh"


def sync(settings: Settings, db: Database | None = None, *, add: Sequence[str | Path] = (),
         remove: Sequence[str | Path] = (), force: bool = False, progress: bool = True,
         warn: Callable[[str], None] = log.warning) -> SyncReport:
    """Bring the database in line with its collection, as `rag index` does a snapshot: `add` paths
    become sources, `remove` paths (or article ids) are taken out, then the sources' articles are
    loaded. Nothing changes when the result would hold no article."""
    from ..index import EmptyCollectionError

    t0 = time.perf_counter()
    db = db or database(settings.store)
    want = fingerprint(settings)
    delete: list[Path] = []
    with connect(db.dsn, timeout_ms=None) as conn:  # a writer: bulk statements may take minutes
        conn.execute("SELECT pg_advisory_lock(%s)", (WRITER_LOCK,))
        try:
            coll = stored_collection(conn, settings)
            notes: list[str] = []
            if add:
                coll, notes = with_added(coll, add, settings.home)
            if remove:
                coll, delete = _removed(conn, coll, remove)
            try:
                docs, skipped = read_collection(settings, coll, warn)
            except EmptyCollectionError as e:
                if not remove:
                    raise
                raise EmptyCollectionError(f"Removing {', '.join(map(str, remove))} would leave the collection "
                                           "without articles; nothing was changed. Add other articles first.") from e
            stored = conn.execute("SELECT fingerprint FROM rag_collection").fetchone()[0]
            if force or (stored is not None and stored != want):
                clear(conn)
            new, gone = _plan(conn, docs, coll)
            delete_documents(conn, gone)
            prepared, embedded, cached = prepare(settings, new, progress, warn)
            write(conn, prepared, want, progress)
            conn.execute("UPDATE rag_collection SET generation = generation + (sources IS DISTINCT FROM %s)::int, "
                         "sources = %s", (_json(coll.to_json()), _json(coll.to_json())))
            total = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (WRITER_LOCK,))
    for p in delete:  # an uploaded copy taken out of the collection, now that the database agrees
        p.unlink(missing_ok=True)
    if new and settings.build_backend == "torch":
        from ..embedding import ensure_onnx

        ensure_onnx(settings.home, settings.embedder)  # queries embed with the ONNX copy, without torch
    return SyncReport(total, len(new), len(gone), sum(len(p.doc.paragraphs) for p in prepared),
                      sum(len(p.chunks) for p in prepared), sum(len(p.sentences) for p in prepared),
                      embedded, cached, time.perf_counter() - t0, skipped, notes)


def _removed(conn, coll: Collection, targets: Sequence[str | Path]) -> tuple[Collection, list[Path]]:
    """The collection without targets (paths or article ids), and the local uploaded copies to delete.
    An uploaded article is excluded by its path whether or not this machine holds the file (another
    replica may), so no replica's uploads folder brings it back; uploading it again lifts that."""
    rows = conn.execute("SELECT doc_id, path, uploaded FROM documents").fetchall()
    by_id = {doc_id: path for doc_id, path, _ in rows}
    uploads = {path for _, path, uploaded in rows if uploaded}
    paths = [by_id.get(str(t), str(t)) for t in targets]
    gone = [p for p in paths if p in uploads]
    coll, delete = with_removed(coll, [p for p in paths if p not in uploads])
    for p in gone:
        if Path(p).is_file():
            delete.append(Path(p))
    excluded = tuple(dict.fromkeys([*coll.excluded, *gone]))
    return Collection(coll.roots, coll.uploads, excluded), delete


@dataclass
class UploadReport:
    "What loading uploads did, in the shape the UI reads from rag.index's BuildReport."

    added: list  # rag.index.Added, under the names the files were uploaded with
    skipped: list[Skipped]


def add_uploads(settings: Settings, paths: Sequence[str | Path], names: Sequence[str] | None = None, *,
                progress: bool = True, warn: Callable[[str], None] = log.warning) -> UploadReport:
    """Uploaded files into the database's collection, as rag.index.add_sources(copy=True) does for a
    snapshot: each is checked and copied into RAG_HOME/uploads (rag.index's checks and names), one
    the database already holds is refused, the rest are added (which lifts an earlier removal). If
    the load fails, the copies are removed again and nothing changed."""
    from ..documents import sha256_file
    from ..index import Added, _store_uploads

    names = list(names or [Path(p).name for p in paths])
    hashes = {}
    for p in paths:
        with contextlib.suppress(OSError):  # unreadable: rag.index's checks below say so
            hashes[str(p)] = sha256_file(Path(p))
    with connect(database(settings.store).dsn) as conn:
        have = dict(conn.execute("SELECT sha256, title FROM documents WHERE sha256 = ANY(%s)",
                                 (list(hashes.values()),)).fetchall())
    # Refused before anything is copied: a copy would land on the stored article's own file name.
    held = [i for i, p in enumerate(paths) if hashes.get(str(p)) in have]
    skipped = [Skipped(names[i], f"{names[i]}: already in the collection, as “{have[hashes[str(paths[i])]]}”")
               for i in held]
    rest = [i for i in range(len(paths)) if i not in held]
    new, more, named = _store_uploads(settings, [paths[i] for i in rest], [names[i] for i in rest])
    skipped += more
    if not new:
        return UploadReport([], skipped)
    try:
        report = sync(settings, add=new, progress=progress, warn=warn)
    except BaseException:
        for p in new:
            p.unlink(missing_ok=True)
        raise
    refused = {s.path: s.reason for s in report.skipped}
    for p in new:
        if str(p) in refused:  # e.g. the same text as another upload in this batch
            p.unlink(missing_ok=True)
            skipped.append(Skipped(named[str(p)], refused[str(p)].replace(p.name, named[str(p)])))
    with connect(database(settings.store).dsn) as conn:
        rows = conn.execute("SELECT path, doc_id, title, paragraphs FROM documents WHERE path = ANY(%s)",
                            ([str(p) for p in new],)).fetchall()
    return UploadReport([Added(named[path], path, doc_id, title, n) for path, doc_id, title, n in rows], skipped)


def clear(conn) -> None:
    "Empty the collection (a reload with other embedding settings, or --force)."
    with conn.transaction():
        conn.execute("TRUNCATE documents, paragraphs, chunks, chunk_vectors, sentences, postings, terms RESTART IDENTITY")
        conn.execute("DROP INDEX IF EXISTS chunks_embedding")
        conn.execute("UPDATE rag_collection SET fingerprint = NULL, dim = NULL, n_chunks = 0, total_terms = 0, "
                     "generation = generation + 1")


def prepare(settings: Settings, docs: Sequence[Document], progress: bool,
            warn: Callable[[str], None] = log.warning) -> tuple[list[Prepared], int, int]:
    "Chunk, analyse and embed articles as a snapshot build does (the same texts hit the same cache)."
    from ..chunking import chunk_document, embedding_text, split_sentences
    from ..index import _embed_cached
    from ..text import terms

    if not docs:
        return [], 0, 0
    chunks = [chunk_document(d, settings.chunk_tokens, settings.token_encoding) for d in docs]
    sentences = [split_sentences(d) for d in docs]
    texts = [embedding_text(d.title, c.text) for d, cs in zip(docs, chunks, strict=True) for c in cs]
    n_chunks = len(texts)
    texts += [d.text[s.start : s.end] for d, ss in zip(docs, sentences, strict=True) for s in ss]
    vectors, embedded = _embed_cached(settings, texts, progress, warn)
    out, c_at, s_at = [], 0, n_chunks
    for d, cs, ss in zip(docs, chunks, sentences, strict=True):
        out.append(Prepared(d, cs, [terms(embedding_text(d.title, c.text)) for c in cs],
                            vectors[c_at : c_at + len(cs)], ss, vectors[s_at : s_at + len(ss)],
                            settings.uploads in Path(d.path).parents))
        c_at += len(cs)
        s_at += len(ss)
    return out, embedded, len(texts) - embedded


def write(conn, prepared: Sequence[Prepared], want: dict, progress: bool = False) -> None:
    "Write prepared articles, then make sure the HNSW index exists."
    if prepared:
        write_batches(conn, prepared, want, progress)
        ensure_hnsw(conn)
        # BM25 reads the postings index alone only where the visibility map says its heap pages are
        # all visible; a load would otherwise leave queries fetching heap rows until autovacuum.
        conn.execute("VACUUM (ANALYZE) postings, chunks")


def write_batches(conn, prepared: Sequence[Prepared], want: dict, progress: bool = False) -> None:
    "Write articles in transactions of about BATCH_CHUNKS chunks each."
    from tqdm import tqdm

    dim = next((p.chunk_vecs.shape[1] for p in prepared if len(p.chunk_vecs)), None)
    batch: list[Prepared] = []
    size = 0
    with tqdm(total=len(prepared), desc="Writing", unit="article", disable=not progress, leave=False) as bar:
        for p in prepared:
            batch.append(p)
            size += len(p.chunks)
            if size >= BATCH_CHUNKS:
                _write_batch(conn, batch, want, dim)
                bar.update(len(batch))
                batch, size = [], 0
        if batch:
            _write_batch(conn, batch, want, dim)
            bar.update(len(batch))


def ensure_hnsw(conn) -> None:
    """Build the HNSW index over the chunk vectors if it does not exist yet. It is built after the
    bulk load: building once is several times faster than inserting into a live graph row by row;
    later loads insert into it."""
    dim = conn.execute("SELECT dim FROM rag_collection").fetchone()[0]
    if dim is None:
        return
    with conn.transaction():
        conn.execute(f"SET LOCAL maintenance_work_mem = '{_maintenance_mem(conn)}'")
        conn.execute(f"CREATE INDEX IF NOT EXISTS chunks_embedding ON chunk_vectors USING hnsw "
                     f"((embedding::vector({int(dim)})) vector_ip_ops) "
                     f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})")


def _maintenance_mem(conn) -> str:
    """Room for the whole HNSW graph while it is built: once the graph outgrows maintenance_work_mem
    the build slows sharply. About 2 KB per 384-d vector with its links, plus headroom."""
    n = conn.execute("SELECT n_chunks FROM rag_collection").fetchone()[0]
    return f"{max(64, int(n * 2.2 / 1024) + 64)}MB"


def _write_batch(conn, batch: Sequence[Prepared], want: dict, dim: int | None) -> None:
    counts = [Counter(ts) for p in batch for ts in p.chunk_terms]
    vocab = sorted(set().union(*counts)) if counts else []
    with conn.transaction():
        if vocab:
            conn.execute("INSERT INTO terms (term) SELECT unnest(%s::text[]) ORDER BY 1 ON CONFLICT (term) DO NOTHING",
                         (vocab,))
        ids = dict(conn.execute("SELECT term, id FROM terms WHERE term = ANY(%s)", (vocab,)).fetchall())
        docs = conn.execute(
            "INSERT INTO documents (doc_id, sha256, path, title, date, paragraphs, uploaded) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::int[], %s::bool[]) "
            "RETURNING id, doc_id",
            ([p.doc.doc_id for p in batch], [p.doc.sha256 for p in batch], [p.doc.path for p in batch],
             [p.doc.title for p in batch], [p.doc.date for p in batch],
             [len(p.doc.paragraphs) for p in batch], [p.uploaded for p in batch])).fetchall()
        doc_ids = dict((d, i) for i, d in docs)
        n_paras = sum(len(p.doc.paragraphs) for p in batch)
        para_ids = iter(r[0] for r in conn.execute(
            "SELECT nextval('paragraphs_id_seq') FROM generate_series(1, %s)", (n_paras,)))
        df: Counter = Counter()
        total_terms = 0
        with conn.cursor() as cur:
            para_of: dict[tuple[int, int], int] = {}
            with cur.copy("COPY paragraphs (id, doc, number, start_char, end_char, page, text) "
                          "FROM STDIN WITH (FORMAT BINARY)") as cp:
                cp.set_types(["int8", "int4", "int4", "int4", "int4", "int4", "text"])
                for p in batch:
                    doc = doc_ids[p.doc.doc_id]
                    for para in p.doc.paragraphs:
                        pid = next(para_ids)
                        para_of[(doc, para.number)] = pid
                        cp.write_row((pid, doc, para.number, para.start, para.end,
                                      getattr(para, "page", None), para.text(p.doc.text)))
            n_chunks = sum(len(p.chunks) for p in batch)
            chunk_ids = iter(r[0] for r in conn.execute(
                "SELECT nextval('chunks_id_seq') FROM generate_series(1, %s)", (n_chunks,)))
            vec_rows = []
            avgdl = _average_length(conn, batch)
            postings = []
            with cur.copy("COPY chunks (id, paragraph, doc, term_ids, term_tfs, length) "
                          "FROM STDIN WITH (FORMAT BINARY)") as cp:
                cp.set_types(["int8", "int8", "int4", "int4[]", "int4[]", "int4"])
                for p in batch:
                    doc = doc_ids[p.doc.doc_id]
                    for c, ts, vec in zip(p.chunks, p.chunk_terms, p.chunk_vecs, strict=True):
                        tf = Counter(ts)
                        df.update(tf.keys())
                        total_terms += len(ts)
                        cid, pid = next(chunk_ids), para_of[(doc, c.paragraph)]
                        cp.write_row((cid, pid, doc, [ids[t] for t in tf], list(tf.values()), len(ts)))
                        postings += [(ids[t], cid, w) for t, w in bm25_weights(tf, len(ts), avgdl).items()]
                        vec_rows.append((cid, pid, vec))
            with cur.copy("COPY postings (term, chunk, weight) FROM STDIN WITH (FORMAT BINARY)") as cp:
                cp.set_types(["int4", "int8", "float4"])
                for row in postings:
                    cp.write_row(row)
            with cur.copy("COPY chunk_vectors (chunk, paragraph, embedding) FROM STDIN WITH (FORMAT BINARY)") as cp:
                cp.set_types(["int8", "int8", "vector"])
                for row in vec_rows:
                    cp.write_row(row)
            with cur.copy("COPY sentences (paragraph, start_char, end_char, embedding) "
                          "FROM STDIN WITH (FORMAT BINARY)") as cp:
                cp.set_types(["int8", "int4", "int4", "vector"])
                for p in batch:
                    doc = doc_ids[p.doc.doc_id]
                    for s, vec in zip(p.sentences, p.sent_vecs, strict=True):
                        cp.write_row((para_of[(doc, s.paragraph)], s.start, s.end, vec))
        if df:
            conn.execute("UPDATE terms t SET df = t.df + u.c FROM unnest(%s::int[], %s::int[]) AS u(id, c) "
                         "WHERE t.id = u.id", ([ids[t] for t in df], list(df.values())))
        conn.execute("UPDATE rag_collection SET n_chunks = n_chunks + %s, total_terms = total_terms + %s, "
                     "generation = generation + 1, fingerprint = %s, dim = coalesce(dim, %s)",
                     (n_chunks, total_terms, _json(want), dim))


def _average_length(conn, batch: Sequence[Prepared]) -> float:
    "The collection's average chunk length in terms, counting this batch."
    n, total = conn.execute("SELECT n_chunks, total_terms FROM rag_collection").fetchone()
    n += sum(len(p.chunks) for p in batch)
    total += sum(len(ts) for p in batch for ts in p.chunk_terms)
    return total / max(n, 1)


def bm25_weights(tfs: Counter, length: int, avgdl: float) -> dict[str, float]:
    """A chunk's BM25 term weights, tf / (tf + k1 (1 - b + b len / avgdl)): with the query's IDFs
    they sum to the chunk's BM25 score. They order the postings index (impact order); the final
    scores are recomputed exactly from the term counts and the current average length, so weights
    written when the collection was smaller only shift which chunks are candidates."""
    from .postgres import BM25_B, BM25_K1

    norm = BM25_K1 * (1 - BM25_B + BM25_B * length / avgdl)
    return {t: tf / (tf + norm) for t, tf in tfs.items()}


def delete_documents(conn, ids: Sequence[int]) -> None:
    "Delete articles by row id, taking their terms out of the statistics in the same transaction."
    if not ids:
        return
    ids = list(ids)
    with conn.transaction():
        conn.execute(
            "UPDATE terms t SET df = t.df - g.c FROM (SELECT u.id, count(*) AS c FROM chunks c, "
            "unnest(c.term_ids) AS u(id) WHERE c.doc = ANY(%s) GROUP BY u.id) g WHERE t.id = g.id", (ids,))
        conn.execute(
            "UPDATE rag_collection SET generation = generation + 1, "
            "n_chunks = n_chunks - (SELECT count(*) FROM chunks WHERE doc = ANY(%s)), "
            "total_terms = total_terms - (SELECT coalesce(sum(length), 0) FROM chunks WHERE doc = ANY(%s))",
            (ids, ids))
        conn.execute("DELETE FROM postings WHERE chunk IN (SELECT id FROM chunks WHERE doc = ANY(%s))", (ids,))
        conn.execute("DELETE FROM documents WHERE id = ANY(%s)", (ids,))


def _json(value: dict):
    from psycopg.types.json import Jsonb

    return Jsonb(value)
