"""The records passed between pipeline steps. All frozen: a Hit or Answer never changes after it is made."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

    from .lexicon import Lexicon


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


# --- what retrieval hands to answering ------------------------------------------------------------


@dataclass(frozen=True)
class DocInfo:
    "An article's record: what questions about the collection itself are answered from."

    doc_id: str
    title: str
    date: str | None  # publication date, ISO yyyy-mm-dd, when known
    paragraphs: int


@dataclass(frozen=True)
class Sentence:
    "A sentence of a paragraph: offsets into its Document.text."

    doc_id: str
    paragraph: int
    start: int
    end: int


@dataclass(frozen=True)
class ArticleText:
    "An article's whole text (title and body, lower-cased) with its words and analysed terms, for checks."

    doc_id: str
    text: str
    words: frozenset[str]
    terms: frozenset[str]


class Corpus(Protocol):
    """The read-only tables of one collection that answering may use, read by key: a question reads
    only the rows it needs. The snapshot store and database stores implement it."""

    def documents(self) -> Sequence[DocInfo]:
        "Every article of the collection, in a stable order."
        ...

    def document(self, doc_id: str) -> DocInfo:
        ...

    def paragraph(self, doc_id: str, number: int) -> Hit:
        "One whole paragraph as a Hit (score 0)."
        ...

    def article(self, doc_id: str) -> ArticleText:
        "The article's whole text, for checking what it mentions (cached: articles are read often)."
        ...

    def sentences(self, keys: Sequence[tuple[str, int]]) -> tuple[list[list[Sentence]], np.ndarray]:
        "The sentences of each paragraph key, and their vectors stacked in the same order."
        ...

    def idf(self, terms: Sequence[str]) -> list[float]:
        "BM25 inverse document frequency of each analysed term (rag.text.terms); unseen terms get the maximum."
        ...


@dataclass(frozen=True)
class Period:
    "A time constraint of a question: a closed range of ISO dates, or an order (most recent first)."

    start: str | None = None  # yyyy-mm-dd, inclusive
    end: str | None = None  # inclusive
    order: str | None = None  # "latest", "earliest" or "chronological" (every item, earliest first)
    text: str = ""  # as the question put it, e.g. "in 2025"


KINDS = ("fact", "list", "collection", "summary", "compare")  # question kinds, each with its own strategy


@dataclass(frozen=True)
class Analysis:
    "What a question asks for, from its words alone (rag.answer.analysis)."

    question: str  # the part of the message to answer (an instruction to the assistant removed)
    kind: str  # one of KINDS
    answer_type: str | None  # "date", "number", "person", "place", "definition", "name", "reason" ... or None
    terms: tuple[str, ...]  # analysed content terms (rag.text.terms)
    specific: tuple[str, ...]  # names, acronyms, numbers and years an answer's evidence must contain
    period: Period | None = None
    sides: tuple[str, ...] = ()  # the things compared, for kind "compare"
    subject: str = ""  # the article or topic a summary or collection question is about
    noun: str = ""  # the head noun of "which <noun>" questions ("award", "cities"), singular
    injection: str = ""  # the part of the message that was an instruction to the assistant, ignored
    excluded: str = ""  # what the question sets aside: "Apart from <the drug shortage>, what obstacle ...?"


@dataclass(frozen=True)
class Side:
    "One side of a comparison, searched on its own so neither crowds the other out of the hits."

    text: str  # as the question names it, e.g. "the Tianjin workshop"
    qvec: np.ndarray
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class Context:
    """What the conversation so far tells retrieval and answering about a follow-up."""

    focus: tuple[str, ...] = ()  # doc_ids the conversation is about (cited in earlier answers)
    near: tuple[tuple[str, int], ...] = ()  # the last answer's paragraphs and the next ones, for "what came next"
    said: str = ""  # the last answer's text, for "what else": its sentences are not to be repeated
    carried: str = ""  # what the conversation added to the query ("2024 Tandem Meetings"): where to look, not what to match


@dataclass(frozen=True)
class Evidence:
    """Everything the back-end answers from, made once by retrieval: data flows one way, from the
    question through retrieval to the back-end, with nothing cached in between."""

    question: str  # the question to answer
    query: str  # what was searched (the question, or a follow-up made standalone)
    analysis: Analysis
    qvec: np.ndarray  # the query's vector: answering scores sentences against it
    hits: tuple[Hit, ...]  # best first
    corpus: Corpus
    sides: tuple[Side, ...] = ()  # for a comparison: each side searched on its own
    context: Context = Context()  # what earlier turns said (follow-ups)
    # a follow-up's own words' vector, where the query carries the conversation's subject ("Where did the
    # experts come from? (2025 CSCO conference)"): the subject says where to look, these words which sentence answers
    own: np.ndarray | None = None
    # single words' vectors, for a sentence that words what the question asks differently ("award" for "prize")
    lexicon: Lexicon | None = None
