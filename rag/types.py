"""The records passed between pipeline steps. All frozen: a Hit or Answer never changes after it is made."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Paragraph:
    number: int  # 1-based, in reading order
    start: int  # char offsets into Document.text (the decoded source file)
    end: int
    page: int | None = None  # 1-based page of a paginated source (PDF), where the paragraph starts

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
    page: int | None = None  # page of a paginated source (PDF)

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
    supported: bool  # every sentence citing it is backed by this paragraph
    quotes: tuple[tuple[int, int], ...] = ()  # spans (offsets into text) of the cited sentences
    page: int | None = None  # page of a paginated source (PDF)


@dataclass(frozen=True)
class AnswerSentence:
    "One sentence of an answer, with the markers it cites and whether those paragraphs back it."

    text: str  # without markers
    markers: tuple[int, ...]  # as shown in Answer.text, 1-based
    supported: bool


@dataclass(frozen=True)
class Status:
    "A progress event yielded by ask_stream before the answer (e.g. waiting for the LLM endpoint)."

    text: str


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # with inline markers [1], [2], ...
    citations: tuple[Citation, ...]
    abstained: bool
    backend: str  # "extractive" or "openai:<model>"
    notice: str | None = None  # e.g. "The LLM endpoint failed; showing the offline answer."
    query: str | None = None  # the standalone query used for retrieval, if rewritten
    hits: tuple[Hit, ...] = field(default=(), repr=False)  # everything retrieved, best first
    sentences: tuple[AnswerSentence, ...] = ()  # Answer.text sentence by sentence, with support flags
    kind: str = "fact"  # the kind of question answered (rag.answer.analysis.KINDS)

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "text": self.text,
            "citations": [asdict(c) | {"quotes": [list(q) for q in c.quotes]} for c in self.citations],
            "abstained": self.abstained,
            "backend": self.backend,
            "notice": self.notice,
            "query": self.query,
            "kind": self.kind,
            "sentences": [asdict(x) | {"markers": list(x.markers)} for x in self.sentences],
        }
