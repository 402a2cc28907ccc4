"""`ask`: analyse, retrieve, answer, verify. The one entry point the CLI, the UI and the evals call.

    message -> instructions to the assistant set aside -> follow-up made standalone (conversation)
            -> analysis (kind, answer type, names, period) -> Evidence (retrieval)
            -> back-end (strategy per kind) -> Reply -> validation -> Answer

Data flows one way: each step takes what the previous one made as an argument. Every back-end's
reply goes through the same validation (rag/citations.py). An LLM endpoint that fails, or answers
with something unusable, falls back to the offline extractive answer with a notice that says why:
never a crash, never an empty answer.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from .answer import conversation, spelling
from .answer.analysis import analyse, kind_of, not_stated, split_instructions
from .citations import is_cannot_answer, validate
from .config import Settings, load_settings
from .errors import BackendError
from .generation import Generator, Reply, get_generator
from .retrieval import Retriever, check_query, open_retriever
from .text import terms
from .types import Analysis, Answer, Citation, Context, Evidence, Hit, Status

REFUSE = ("I only answer questions about the articles. Your message asked the assistant to change how it works, "
          "so I ignored it. Ask about something the articles cover.")
IGNORED = "Part of your message was an instruction to the assistant; it was ignored."
NOTHING_ASKED = ("I answer questions about the articles in this collection, quoting the paragraphs I rely on. "
                 "Ask about a person, an event, a date or a place they cover, or ask what the articles are about.")
# A greeting or thanks, "Who are you?", a lone "?": a message asking about nothing the articles could
# state. Searched, it would be answered with whichever sentence came closest to nothing.
_SMALL_TALK = frozenset(terms("hi hello hey thanks thank cheers bye goodbye good morning evening ok okay great nice"))


def _backend_name(backend: str | None, settings: Settings) -> str:
    return backend or ("openai" if settings.llm_configured else "extractive")


_lock = threading.Lock()
_opened: dict[tuple, Retriever] = {}


def default_retriever(settings: Settings, *, progress: bool = False) -> Retriever:
    """The collection `ask()` answers from when the caller passes no Retriever: opened once per
    RAG_HOME and collection settings (and reopened when the collection changed on disk), so a script
    or a server calling ask() again and again does not reopen the index. The CLI and the evals open
    their own (`open_retriever`) and pass it."""
    key = (settings.home, settings.store, settings.sources, settings.embedder, settings.build_backend,
           settings.chunk_tokens, settings.index_type)
    with _lock:
        r = _opened.get(key)
        r = r.refreshed() if r is not None else open_retriever(settings, progress=progress)
        _opened[key] = r
    return r if r.settings == settings else r.with_settings(settings)


def ask_stream(question: str, history=None, *, backend: str | None = None, k: int | None = None,
               settings: Settings | None = None, retriever: Retriever | None = None) -> Iterator[str | Status | Answer]:
    """Yield text deltas (and Status events) as the answer is made, then the final, validated `Answer`.

    The deltas are the back-end's raw text (for an LLM, an unchecked draft); the final Answer's text
    is what to keep (invalid markers removed, unsupported uncited sentences dropped)."""
    settings = settings or (retriever.settings if retriever else load_settings())
    message = check_query(question, settings)
    retriever = retriever.refreshed() if retriever else default_retriever(settings)
    if retriever.settings != settings:
        retriever = retriever.with_settings(settings)
    past = conversation.turns(history)
    gen = get_generator(_backend_name(backend, settings), settings)
    text, injection = split_instructions(message)
    if not text:
        yield Answer(message, REFUSE, (), True, gen.name, kind="fact")
        return
    own = set(terms(text))
    # (a message of no words of its own asks about the conversation's subject, "When?", if there is one;
    # "What are the articles about?" is a question about the collection)
    if own <= _SMALL_TALK and (own or not past) and kind_of(text) != "collection":
        yield Answer(message, NOTHING_ASKED, (), True, gen.name, kind="fact")
        return
    query, context = conversation.context(text, past)
    if query != text and gen.rewrites:
        with contextlib.suppress(BackendError):  # a model rewrites a follow-up better; if it cannot, carried words stand
            query = gen.rewrite(text, [(t.question, t.answer) for t in past])
    analysis, route, evidence = _gather(retriever, gen, text, query, injection, k, settings, context)
    fixed = spelling.correct(query, evidence, retriever.embedder.words)
    if fixed != query:  # a typo: search again for what was meant (the answer shows what was searched)
        analysis, route, evidence = _gather(retriever, gen, text, fixed, injection, k, settings, context)
    notice = IGNORED if injection else None
    reply = None
    try:
        reply = yield from _run(route, evidence, past)
        reason = route.unusable(reply)
        if reason:
            raise BackendError(f"the answer was unusable: {reason}")
    except BackendError as e:
        if route.name == "extractive":
            raise
        notice = _join(notice, f"The language model could not answer ({e}). Showing the offline answer instead.")
        # The offline answer is the one the extractive back-end gives: from the paragraphs it retrieves
        # for this kind of question (often more than the model was offered), not the model's share.
        _, route, evidence = _gather(retriever, get_generator("extractive", settings), text, evidence.query,
                                     injection, k, settings, context)
        reply = yield from _run(route, evidence, past)
    yield finish(message, evidence, reply, route, notice)


def _gather(retriever: Retriever, gen: Generator, text: str, query: str, injection: str, k: int | None,
            settings: Settings, context: Context) -> tuple[Analysis, Generator, Evidence]:
    "Analyse the query, pick the back-end for its kind, and retrieve as much as that back-end wants."
    analysis = analyse(query, injection)
    route = gen if analysis.kind in gen.kinds else get_generator("extractive", settings)
    pool = max(k or settings.k, route.pool.get(analysis.kind, 0))
    return analysis, route, retriever.evidence(text, query, analysis, pool, context)


def _run(gen: Generator, evidence: Evidence, past) -> Iterator[str | Status]:
    "Pass a back-end's deltas and status events on; return its Reply."
    reply = None
    for item in gen.stream(evidence, [(t.question, t.answer) for t in past]):
        if isinstance(item, Reply):
            reply = item
        else:
            yield item
    if reply is None:
        raise BackendError(f"the {gen.name} back-end gave no reply")
    return reply


def _join(*notes: str | None) -> str | None:
    return " ".join(n for n in notes if n) or None


def _closest(hits: tuple[Hit, ...]) -> tuple[Citation, ...]:
    "Related passages shown under an abstention: not an answer, the nearest the articles come."
    return tuple(Citation(i, h.doc_id, h.title, h.date, h.paragraph, h.start, h.end, h.text, h.score, True, (), h.page)
                 for i, h in enumerate(hits, 1))


def finish(question: str, evidence: Evidence, reply: Reply, gen: Generator, notice: str | None = None) -> Answer:
    "Validate a back-end's Reply into an Answer."
    notice = _join(notice, reply.notice)
    common = {"question": question, "backend": gen.name, "query": evidence.query, "hits": evidence.hits,
              "kind": evidence.analysis.kind}
    checked = None
    if not reply.abstain and not is_cannot_answer(reply.text) and reply.text.strip():
        checked = validate(reply.text, list(reply.sources))
    if checked is None or not checked.citations:
        closest = reply.closest or evidence.hits[:1]
        text = reply.abstain or not_stated(evidence.question)
        if closest:
            text += f" Closest passage{'s' if len(closest) > 1 else ''}: " + ", ".join(f"[{i}]" for i in range(1, len(closest) + 1)) + "."
        return Answer(text=text, citations=_closest(tuple(closest)), abstained=True, notice=notice, **common)
    if checked.dropped:
        n = len(checked.dropped)
        notice = _join(notice, f"{n} sentence{'s' if n > 1 else ''} without support in the sources "
                               f"{'were' if n > 1 else 'was'} removed.")
    if not reply.complete:
        notice = _join(notice, "The answer was interrupted; showing what arrived, checked against the sources.")
    text = " ".join(t for t in (reply.lead, checked.text, reply.caveat) if t)
    return Answer(text=text, citations=checked.citations, abstained=False, notice=notice,
                  sentences=checked.sentences, **common)


def ask(question: str, history=None, *, backend: str | None = None, k: int | None = None,
        settings: Settings | None = None, retriever: Retriever | None = None) -> Answer:
    """Answer a question from the articles, with numbered citations.

    >>> a = ask("What is the Beijing Protocol?")  # doctest: +SKIP
    >>> a.text, a.citations[0].doc_id, a.citations[0].paragraph  # doctest: +SKIP
    """
    answer = None
    for item in ask_stream(question, history, backend=backend, k=k, settings=settings, retriever=retriever):
        if isinstance(item, Answer):
            answer = item
    assert answer is not None
    return answer
