"""Paragraphs to embeddable chunks, and paragraphs to sentences.

The unit of retrieval and citation is the source paragraph. A paragraph longer than the token
budget is split at sentence boundaries into windows (one sentence of overlap); every window keeps
its paragraph number and exact offsets. Tokens are counted with tiktoken.
"""

from __future__ import annotations

from .text import sentence_spans
from .tokens import get_encoding
from .types import Chunk, Document, Sentence

CHUNKER_VERSION = 2  # 2: a list item's number at a line start no longer ends a sentence
# A prefix this many characters per budget token holds more than the budget's tokens for any text
# a token count matters for (English averages about 4 characters per token).
_CHARS_PER_TOKEN_MAX = 16


def chunk_document(doc: Document, max_tokens: int = 180, encoding: str = "cl100k_base") -> list[Chunk]:
    enc = get_encoding(encoding)
    chunks = []

    def tokens(text: str) -> int:
        """Tokens in text, exact up to the budget. A text far over it (a megabyte with no sentence
        end) is counted on a prefix: only "more than the budget" matters for it."""
        if len(text) > _CHARS_PER_TOKEN_MAX * (max_tokens + 2):
            text = text[: _CHARS_PER_TOKEN_MAX * (max_tokens + 2)]
        return len(enc.encode(text, disallowed_special=()))

    for para in doc.paragraphs:
        text = para.text(doc.text)
        if tokens(text) <= max_tokens:
            chunks.append(Chunk(f"{doc.doc_id}:{para.number}", doc.doc_id, para.number, para.start, para.end, text))
            continue
        spans = sentence_spans(doc.text[para.start : para.end], offset=para.start)
        sizes = [tokens(doc.text[s:e]) for s, e in spans]
        for w, (i, j) in enumerate(_windows(sizes, max_tokens), 1):
            start, end = spans[i][0], spans[j - 1][1]
            chunks.append(
                Chunk(f"{doc.doc_id}:{para.number}.{w}", doc.doc_id, para.number, start, end, doc.text[start:end])
            )
    return chunks


def _windows(sizes: list[int], budget: int) -> list[tuple[int, int]]:
    """Greedy sentence windows [i, j) within the budget, overlapping by one sentence.

    >>> _windows([50, 50, 50, 50], 120)
    [(0, 2), (1, 3), (2, 4)]
    """
    out, i = [], 0
    while i < len(sizes):
        j, total = i, 0
        while j < len(sizes) and (j == i or total + sizes[j] <= budget):
            total += sizes[j]
            j += 1
        out.append((i, j))
        if j >= len(sizes):
            break
        i = j - 1 if j - 1 > i else j
    return out


def embedding_text(title: str, text: str) -> str:
    "What gets embedded: the article title as context, then the chunk. Citations show the chunk alone."
    return f"{title}\n{text}"


def split_sentences(doc: Document) -> list[Sentence]:
    return [
        Sentence(doc.doc_id, para.number, s, e)
        for para in doc.paragraphs
        for s, e in sentence_spans(doc.text[para.start : para.end], offset=para.start)
    ]
