"""Paragraphs to embeddable chunks, and paragraphs to sentences.

The unit of retrieval and citation is the source paragraph. A paragraph longer than the token
budget is split at sentence boundaries into windows (one sentence of overlap); every window keeps
its paragraph number and exact offsets. Tokens are counted with tiktoken.
"""

from __future__ import annotations

from .text import sentence_spans
from .tokens import get_encoding
from .types import Chunk, Document, Sentence

# 2: a list item's number at a line start no longer ends a sentence; 3: sentences without an end in
# sight are cut at a word boundary (see _bounded); 4: an ordinal glued to the next word is two words
# to the analyzer (rag.text.words), whose terms the BM25 index stores; 5: so is a number with a
# decimal point or thousands separators ("3.7", "10,867"); 6: a typographic apostrophe is a plain one
# ("Children’s" is "children's", whose possessive the stemmer drops); 7: "every" is a stop word, as "each" and "all" are
CHUNKER_VERSION = 7
# A prefix this many characters per budget token holds more than the budget's tokens for any text
# a token count matters for (English averages about 4 characters per token).
_CHARS_PER_TOKEN_MAX = 16
# A "sentence" longer than this has no sentence end the splitter can see (a lower-case dump, a
# minified page, a table flattened into one line): unbounded, it would be embedded cut off at the
# model's window (the rest invisible to dense search) and quoted whole as an answer. It is cut at
# the last space before the bound instead. Prose sentences are far shorter (the seeds' longest: 650).
MAX_SENTENCE_CHARS = 1000
_CHARS_PER_TOKEN = 4  # English prose: a chunk piece of budget x 4 characters fits the budget


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
        spans = _bounded(doc.text, sentence_spans(doc.text[para.start : para.end], offset=para.start),
                         min(MAX_SENTENCE_CHARS, _CHARS_PER_TOKEN * max_tokens))
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
        for s, e in _bounded(doc.text, sentence_spans(doc.text[para.start : para.end], offset=para.start),
                             MAX_SENTENCE_CHARS)
    ]


def _bounded(text: str, spans: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """The spans, each longer than `limit` characters cut into pieces at the last whitespace before
    the limit (or at the limit, in a run without one). Linear in the text's length.

    >>> t = "aa bb cc dd. Short."
    >>> [t[s:e] for s, e in _bounded(t, [(0, 12), (13, 19)], 6)]
    ['aa bb', 'cc dd.', 'Short.']
    """
    out = []
    for s, e in spans:
        while e - s > limit:
            cut = max(text.rfind(" ", s + 1, s + limit + 1), text.rfind("\n", s + 1, s + limit + 1))
            cut = cut if cut > s else s + limit
            out.append((s, cut))
            s = cut
            while s < e and text[s].isspace():
                s += 1
        if e > s:
            out.append((s, e))
    return out
