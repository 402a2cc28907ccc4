"""A snapshot's tables: numpy arrays over one memory-mapped text file.

    text.bin        every article's text, UTF-8, one after another
    docs.jsonl      one JSON object per article: doc_id, path, title, date, sha256
    docs.npy        int64 per article: byte start/end of its text in text.bin, first paragraph row,
                    paragraph count, byte start/end of its line in docs.jsonl
    doc_lookup.npy  the doc ids, UTF-8, sorted; doc_order.npy: the article row of each. A doc id is
                    found by binary search, so no dict is built at open
    paragraphs.npy  int64 per paragraph, in reading order: article row, char start/end in the
                    article's text (the offsets Paragraph and Hit records carry), byte start/end in
                    text.bin (what is read), page (-1: none), first sentence row, sentence count
    sentences.npy   int64 per sentence, grouped by paragraph: article row, paragraph number, char
                    start/end in the article's text
    chunks.npy      int64 per chunk, the embedded unit (row i is vector i of dense.faiss and document i
                    of bm25/): paragraph row, window (0: the whole paragraph), char start/end

Opening maps the files read-only (mmap ACCESS_READ, advised for random access): nothing is parsed and no
Python object is made per row, so a million paragraphs open in milliseconds and cost no memory until
read. Answering makes records (Document, Hit, Sentence) only for the rows it asks for.
"""

from __future__ import annotations

import json
import mmap
import os
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from .types import Chunk, Document, Paragraph, Sentence

FILES = ("text.bin", "docs.jsonl", "docs.npy", "doc_lookup.npy", "doc_order.npy", "paragraphs.npy",
         "sentences.npy", "chunks.npy")
D_TEXT_START, D_TEXT_END, D_PARA_FIRST, D_PARA_COUNT, D_META_START, D_META_END = range(6)
P_DOC, P_START, P_END, P_BYTE_START, P_BYTE_END, P_PAGE, P_SENT_FIRST, P_SENT_COUNT = range(8)
S_DOC, S_PARA, S_START, S_END = range(4)
C_PARA, C_WINDOW, C_START, C_END = range(4)


def write_tables(folder: Path, docs: Sequence[Document], chunks: Sequence[Chunk], sentences: Sequence[Sentence]) -> None:
    "Write the tables of `docs` into folder. Sentences come grouped by paragraph, as split_sentences gives them."
    rows = {d.doc_id: i for i, d in enumerate(docs)}
    first = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(d.paragraphs) for d in docs], out=first[1:])
    doc_table = np.zeros((len(docs), 6), dtype=np.int64)
    paras = np.zeros((int(first[-1]), 8), dtype=np.int64)
    at = meta_at = 0
    with open(folder / "text.bin", "wb") as text_file, open(folder / "docs.jsonl", "wb") as meta_file:
        for i, d in enumerate(docs):
            raw = d.text.encode("utf-8")
            line = (json.dumps({"doc_id": d.doc_id, "path": d.path, "title": d.title, "date": d.date,
                                "sha256": d.sha256}, ensure_ascii=False) + "\n").encode("utf-8")
            doc_table[i] = (at, at + len(raw), first[i], len(d.paragraphs), meta_at, meta_at + len(line))
            byte = _byte_offsets(d.text, len(raw), [x for p in d.paragraphs for x in (p.start, p.end)])
            for j, p in enumerate(d.paragraphs):
                if p.number != j + 1:
                    raise ValueError(f"{d.doc_id}: paragraph {j + 1} is numbered {p.number}")
                paras[first[i] + j, :6] = (i, p.start, p.end, at + byte[p.start], at + byte[p.end],
                                           -1 if p.page is None else p.page)
            text_file.write(raw)
            meta_file.write(line)
            at += len(raw)
            meta_at += len(line)
    sents = np.array([(rows[s.doc_id], s.paragraph, s.start, s.end) for s in sentences], dtype=np.int64).reshape(-1, 4)
    para_of = first[sents[:, S_DOC]] + sents[:, S_PARA] - 1
    if len(para_of) and np.any(np.diff(para_of) < 0):
        raise ValueError("sentences are not grouped by paragraph in reading order")
    everything = np.arange(len(paras))
    paras[:, P_SENT_FIRST] = np.searchsorted(para_of, everything, "left")
    paras[:, P_SENT_COUNT] = np.searchsorted(para_of, everything, "right") - paras[:, P_SENT_FIRST]
    chunk_table = np.array([(first[rows[c.doc_id]] + c.paragraph - 1, _window(c.chunk_id), c.start, c.end)
                            for c in chunks], dtype=np.int64).reshape(-1, 4)
    ids = np.array([d.doc_id.encode("utf-8") for d in docs], dtype=bytes)
    order = np.argsort(ids, kind="stable")
    for name, table in (("docs", doc_table), ("paragraphs", paras), ("sentences", sents), ("chunks", chunk_table),
                        ("doc_lookup", ids[order]), ("doc_order", order.astype(np.int64))):
        np.save(folder / f"{name}.npy", table, allow_pickle=False)


def _byte_offsets(text: str, size: int, points: list[int]) -> dict[int, int]:
    "UTF-8 byte offset of each char offset in points, in one pass over the text."
    if size == len(text):  # ASCII: bytes and characters coincide
        return {p: p for p in points}
    out, char, byte = {}, 0, 0
    for p in sorted(set(points)):
        byte += len(text[char:p].encode("utf-8"))
        char = p
        out[p] = byte
    return out


def _window(chunk_id: str) -> int:
    "A chunk id is '<doc_id>:<paragraph>' or '<doc_id>:<paragraph>.<window>' (rag.chunking)."
    _, _, tail = chunk_id.rpartition(":")
    return int(tail.partition(".")[2] or 0)


def _map(path: Path) -> mmap.mmap | bytes:
    """A file mapped read-only, advised for random access. Answering reads a few rows here and there
    (a hit's paragraph, a candidate's sentence vectors); with the kernel's default readahead every
    such read would page in up to 128 KB around it, and a 1M-paragraph server touched most of its
    4.6 GB of sentence vectors within a few hundred questions."""
    with open(path, "rb") as f:
        if not f.seek(0, 2):
            return b""  # mmap refuses an empty file
        m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    m.madvise(mmap.MADV_RANDOM)
    return m


def _npy_header(path: Path) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    "shape, Fortran order, dtype and data offset of a .npy file; refuses one that holds Python objects."
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        offset = f.tell()
    if dtype.hasobject:
        raise ValueError(f"{path.name} holds Python objects")
    return shape, fortran, dtype, offset


def map_array(path: Path) -> np.ndarray:
    "A .npy file as a read-only array over _map (np.load(mmap_mode='r') cannot be advised); never pickles."
    shape, fortran, dtype, offset = _npy_header(path)
    count = int(np.prod(shape))
    data = _map(path) if count else b""
    return np.frombuffer(data, dtype=dtype, count=count, offset=offset if count else 0).reshape(
        shape, order="F" if fortran else "C")


class RowFile:
    """A .npy matrix (the sentence vectors) read by runs of rows with os.pread, never mapped. A
    question reads a few hundred scattered rows; mapped, each page fault also maps whatever of the
    64 KB around it the page cache holds (the kernel's fault-around, which madvise does not stop),
    and a 1M-paragraph server held 4.4 GB of its 4.6 GB of sentence vectors after 600 questions.
    Read with pread, the bytes stay in the page cache that all processes share, outside this one's
    RSS. Safe to share between threads (pread has no file position)."""

    def __init__(self, path: Path):
        shape, fortran, self.dtype, self.offset = _npy_header(path)
        if len(shape) != 2 or fortran:
            raise ValueError(f"{path.name} is not a C-ordered matrix")
        self.path, self.shape = path, shape
        self.row_bytes = shape[1] * self.dtype.itemsize
        self.fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self.fd)

    def __len__(self) -> int:
        return self.shape[0]

    def runs(self, spans: Sequence[range]) -> np.ndarray:
        "The rows of each range, stacked in order (one read per range: a paragraph's sentences are adjacent)."
        parts = []
        for r in spans:
            if len(r):
                size = len(r) * self.row_bytes
                data = os.pread(self.fd, size, self.offset + r.start * self.row_bytes)
                if len(data) != size or r.start < 0 or r.stop > self.shape[0]:
                    raise ValueError(f"{self.path.name}: rows {r.start}-{r.stop} are beyond its {self.shape[0]} rows")
                parts.append(data)
        return np.frombuffer(b"".join(parts), dtype=self.dtype).reshape(-1, self.shape[1])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        "The whole matrix (for checks and tests; answering reads runs)."
        a = self.runs([range(self.shape[0])])
        return a if dtype is None else a.astype(dtype)


class Tables:
    "A snapshot's tables, memory-mapped read-only. Safe to share between threads."

    def __init__(self, folder: Path):
        def load(name: str) -> np.ndarray:
            return map_array(folder / f"{name}.npy")

        self.docs, self.paragraphs, self.sentences, self.chunks = (load(x) for x in ("docs", "paragraphs", "sentences",
                                                                                     "chunks"))
        self.doc_lookup, self.doc_order = load("doc_lookup"), load("doc_order")
        self.text, self.meta_text = _map(folder / "text.bin"), _map(folder / "docs.jsonl")
        shapes = {"docs": (self.docs, 6), "paragraphs": (self.paragraphs, 8), "sentences": (self.sentences, 4),
                  "chunks": (self.chunks, 4)}
        for name, (a, width) in shapes.items():
            if a.ndim != 2 or a.shape[1] != width or a.dtype != np.int64:
                raise ValueError(f"{name}.npy has shape {a.shape} and type {a.dtype}")
        if not len(self.doc_lookup) == len(self.doc_order) == len(self.docs):
            raise ValueError("the doc id lookup does not match the article table")

    # -- by row ----------------------------------------------------------------------------------

    def meta(self, doc: int) -> dict:
        "doc_id, path, title, date and sha256 of the article in row `doc`."
        return json.loads(self.meta_text[self.docs[doc, D_META_START] : self.docs[doc, D_META_END]])

    def doc_text(self, doc: int) -> str:
        return self.text[self.docs[doc, D_TEXT_START] : self.docs[doc, D_TEXT_END]].decode("utf-8")

    def para_text(self, row: int) -> str:
        return self.text[self.paragraphs[row, P_BYTE_START] : self.paragraphs[row, P_BYTE_END]].decode("utf-8")

    def para_rows(self, doc: int) -> range:
        first = int(self.docs[doc, D_PARA_FIRST])
        return range(first, first + int(self.docs[doc, D_PARA_COUNT]))

    def para_number(self, row: int) -> int:
        return row - int(self.docs[self.paragraphs[row, P_DOC], D_PARA_FIRST]) + 1

    def sentence_rows(self, row: int) -> range:
        first = int(self.paragraphs[row, P_SENT_FIRST])
        return range(first, first + int(self.paragraphs[row, P_SENT_COUNT]))

    def document(self, doc: int) -> Document:
        "The article in row `doc` as a whole record (its text and every paragraph)."
        m = self.meta(doc)
        rows = self.para_rows(doc)
        table = self.paragraphs[rows.start : rows.stop]
        paras = tuple(Paragraph(j, s, e, None if page < 0 else page)
                      for j, (s, e, page) in enumerate(table[:, [P_START, P_END, P_PAGE]].tolist(), 1))
        return Document(m["doc_id"], m["path"], m["title"], m["date"], m["sha256"], self.doc_text(doc), paras)

    # -- by key ----------------------------------------------------------------------------------

    def doc_row(self, doc_id: str) -> int:
        "The row of an article; KeyError when the collection has no such article."
        key = doc_id.encode("utf-8")
        i = int(np.searchsorted(self.doc_lookup, key))
        if i == len(self.doc_lookup) or self.doc_lookup[i] != key:
            raise KeyError(doc_id)
        return int(self.doc_order[i])

    def para_row(self, doc_id: str, number: int) -> int:
        "The row of paragraph `number` (1-based) of an article; KeyError or IndexError when there is none."
        doc = self.doc_row(doc_id)
        if not 1 <= number <= self.docs[doc, D_PARA_COUNT]:
            raise IndexError(f"{doc_id} has no paragraph {number}")
        return int(self.docs[doc, D_PARA_FIRST]) + number - 1


class Documents(Mapping[str, Document]):
    "The articles by doc_id, in build order; each Document is made when it is looked up."

    def __init__(self, tables: Tables):
        self.tables = tables

    def __getitem__(self, doc_id: str) -> Document:
        return self.tables.document(self.tables.doc_row(doc_id))

    def __contains__(self, doc_id: object) -> bool:
        try:
            self.tables.doc_row(doc_id)  # type: ignore[arg-type]
        except (KeyError, AttributeError):
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return (self.tables.meta(i)["doc_id"] for i in range(len(self.tables.docs)))

    def __len__(self) -> int:
        return len(self.tables.docs)
