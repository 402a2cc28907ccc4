"""The records passed between pipeline steps. All frozen: a Hit or Answer never changes after it is made."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Paragraph:
    number: int  # 1-based, in reading order
    start: int  # char offsets into Document.text (the decoded source file)
    end: int

    def text(self, source: str) -> str:
        return source[self.start : self.end]


@dataclass(frozen=True)
class Document:
    doc_id: str
    path: str
    title: str
    date: str | None  # ISO yyyy-mm-dd, when the article states one
    sha256: str  # of the raw file bytes
    text: str  # the decoded source text; for HTML, the text extracted from it
    paragraphs: tuple[Paragraph, ...]

    def paragraph_text(self, number: int) -> str:
        return self.paragraphs[number - 1].text(self.text)


@dataclass(frozen=True)
class Chunk:
    """The unit that is embedded: a whole paragraph, or a sentence window of a long one."""

    chunk_id: str  # "<doc_id>:<paragraph>" or "<doc_id>:<paragraph>.<window>"
    doc_id: str
    paragraph: int
    start: int  # offsets of this window in Document.text
    end: int
    text: str


@dataclass(frozen=True)
class Hit:
    doc_id: str
    title: str
    date: str | None
    paragraph: int
    start: int  # offsets of the whole paragraph in the source
    end: int
    text: str  # the full paragraph: what a citation shows
    score: float  # fused (RRF) score; higher is better
    dense_score: float | None = None  # cosine similarity of the best window, if dense retrieval ran
    bm25_score: float | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.doc_id, self.paragraph)


@dataclass(frozen=True)
class Citation:
    marker: int
    doc_id: str
    title: str
    date: str | None
    paragraph: int
    start: int
    end: int
    text: str  # the full source paragraph
    score: float
    supported: bool  # the sentence(s) citing it are backed by this paragraph
    quotes: tuple[tuple[int, int], ...] = ()  # spans (offsets into text) of the cited sentences


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # with inline markers [1], [2], ...
    citations: tuple[Citation, ...]
    abstained: bool
    backend: str  # "extractive" or "openai:<model>"
    notice: str | None = None  # e.g. "The LLM endpoint failed; showing the offline answer."
    query: str | None = None  # the standalone query used for retrieval, if rewritten
    hits: tuple[Hit, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "text": self.text,
            "citations": [asdict(c) | {"quotes": [list(q) for q in c.quotes]} for c in self.citations],
            "abstained": self.abstained,
            "backend": self.backend,
            "notice": self.notice,
            "query": self.query,
        }
