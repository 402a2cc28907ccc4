"""Answers, drafts, sources, the article reader and the copy text, rendered from the pipeline's records.

Everything here takes records (Answer, Document), never HTML: the chat is rebuilt from the session's
answers on the server, so no client-supplied markup is ever parsed back (issue 11 #4). Every text
goes through safe_text; every fragment is audited by `guard` before it leaves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..types import Answer, Citation, Document, Hit
from .safe import clean_text, guard, safe_text

MARKERS = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_WS = re.compile(r"\s+")
QUESTION_CLIP = 160  # characters of a question shown in the sources panel's heading


def backend_label(backend: str) -> str:
    """How the page names a back-end.

    >>> backend_label("extractive"), backend_label("openai:gpt-4o-mini")
    ('Offline extractive', 'LLM · gpt-4o-mini')
    """
    if backend == "extractive":
        return "Offline extractive"
    if backend.startswith("openai:"):
        return f"LLM · {backend.split(':', 1)[1]}"
    return backend


def anchor(turn: int, marker: int) -> str:
    return f"src-{turn}-{marker}"


def clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut at a word.

    >>> clip("a  long\\nquestion about things", 12)
    'a long…'
    """
    text = _WS.sub(" ", text).strip()
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _date(value: str | None) -> str:
    return f"published {value}" if value else "publication date unknown"


def _where(c: Citation | Hit) -> str:
    page = f" · page {c.page}" if c.page else ""
    return f"paragraph {c.paragraph}{page}"


# --- the chat ---------------------------------------------------------------------------------------


def render_question(text: str) -> str:
    return f'<div class="rag-q">{safe_text(text)}</div>'


def _cite_link(c: Citation, turn: int) -> str:
    # The screen-reader text names the source; the popover (assets.JS) shows it on hover or focus.
    bad = "" if c.supported else " bad"
    flag = "⚠" if not c.supported else ""
    label = f" {'unsupported ' if not c.supported else ''}source {c.marker}: {c.title}, {_where(c)}"
    return (f'<a class="cite{bad}" href="#{anchor(turn, c.marker)}">[{c.marker}{flag}]'
            f'<span class="sr-only">{safe_text(label)}</span></a>')


def _sup(citations: Sequence[Citation], turn: int) -> str:
    return f'<sup class="cites">{"".join(_cite_link(c, turn) for c in citations)}</sup>' if citations else ""


def _unsupported(body: str) -> str:
    return f'<span class="unsupported" title="Not supported by the cited paragraph">{body}</span>'


def _body_from_sentences(a: Answer, turn: int) -> tuple[str, int]:
    "The answer from its per-sentence records: exactly the unsupported sentences underlined."
    cites = {c.marker: c for c in a.citations}
    parts, flagged = [], 0
    for s in a.sentences:
        body = safe_text(s.text.strip())
        if not s.supported:
            flagged += 1
            body = _unsupported(body)
        parts.append(body + _sup([cites[m] for m in s.markers if m in cites], turn))
    return " ".join(parts), flagged


def _body_from_markers(a: Answer, turn: int) -> tuple[str, int]:
    """The answer from its text when it has no per-sentence records: the text before a marker run
    is the claim it backs, underlined when one of its citations is unsupported."""
    cites = {c.marker: c for c in a.citations}
    parts, pos, flagged = [], 0, 0
    for m in MARKERS.finditer(a.text):
        known = [cites[n] for n in (int(x) for x in m.group(1).split(",")) if n in cites]
        if not known:
            continue
        core = a.text[pos : m.start()].rstrip()
        lead = core[: len(core) - len(core.lstrip())]
        body = safe_text(core.lstrip())
        if any(not c.supported for c in known):
            flagged += 1
            body = _unsupported(body)
        parts.append(f"{safe_text(lead)}{body}{_sup(known, turn)}")
        pos = m.end()
    parts.append(safe_text(a.text[pos:]))
    return "".join(parts), flagged


def _meta(a: Answer, flagged: int) -> str:
    n = len(a.citations)
    parts = [f'<span class="badge">{safe_text(backend_label(a.backend))}</span>']
    if a.abstained:
        parts.append("<span>No answer in the indexed articles</span>")
    else:
        parts.append(f"<span>{n} source{'s' if n != 1 else ''}</span>")
    if flagged:
        parts.append(f'<span class="flag">⚠ {flagged} underlined sentence{"s are" if flagged > 1 else " is"} '
                     "not supported by the cited paragraph</span>")
    parts.append('<button type="button" class="rag-copy">Copy</button>')
    searched = a.query or a.question
    query = (f'<div class="rag-meta rag-searched"><span>Searched for: <span class="rag-query">{safe_text(searched)}'
             '</span></span><button type="button" class="rag-rerun">Edit and re-run</button></div>')
    notice = f'<div class="rag-meta rag-notice">⚠ {safe_text(a.notice)}</div>' if a.notice else ""
    return f'<div class="rag-meta">{" ".join(parts)}</div>{query}{notice}'


def render_answer(a: Answer, turn: int) -> str:
    """The checked answer as chat HTML: inline [n] markers link to the source cards (#src-<turn>-<n>);
    an unsupported sentence is underlined and its marker flagged; an abstention is styled apart;
    then the back-end, the searched query (editable), a copy button and any notice. A hidden
    Markdown copy of the answer with its sources is what the copy button copies."""
    if a.abstained:  # its markers point at the closest passages, which the panel shows as such
        html_ = _body_from_markers(a, turn)[0] if a.citations else safe_text(a.text)
        body = f'<div class="rag-answer abstained"><span class="rag-icon">∅</span> {html_}</div>'
        flagged = 0
    else:
        html_, flagged = _body_from_sentences(a, turn) if a.sentences else _body_from_markers(a, turn)
        body = f'<div class="rag-answer">{html_}</div>'
    copy = f'<span class="rag-md">{safe_text(copy_text(a))}</span>'
    return guard(f'<div class="rag-msg">{body}{_meta(a, flagged)}{copy}</div>', a.text)


def render_draft(text: str, status: str | None = None, checking: bool = False) -> str:
    """An answer while it is produced: a status line ("waiting for the language model"), then the
    streamed text. An LLM's text is an unchecked draft, shown muted with "checking…" so it is never
    mistaken for the checked answer that replaces it."""
    label = status or ("Draft, checking against the sources…" if checking else "Answering…")
    return (f'<div class="rag-msg"><div class="rag-answer draft">{safe_text(text)}<span class="cursor">▍</span>'
            f'</div><div class="rag-meta"><span class="rag-status" role="status">{safe_text(label)}</span>'
            "</div></div>")


def copy_text(a: Answer) -> str:
    """The answer as Markdown with its numbered sources appended: what "Copy" puts on the clipboard.

    Markdown images and links from the sources are reduced to text, like on the page."""
    lines = [clean_text(a.text).strip()]
    if a.citations:
        lines += ["", "Sources:"]
        for c in a.citations:
            date = f" ({c.date})" if c.date else ""
            flag = " (not supported)" if not c.supported else ""
            lines.append(f"[{c.marker}] {clean_text(c.title)}{date}, {_where(c)}{flag}: “{_quote(c)}”")
    return "\n".join(lines)


# --- the sources panel ---------------------------------------------------------------------------------


def _spans(quotes: Iterable[Sequence[int]], n: int) -> list[tuple[int, int]]:
    "Quote spans clamped to [0, n], sorted, overlaps merged."
    out: list[tuple[int, int]] = []
    for s, e in sorted((max(0, int(s)), min(n, int(e))) for s, e in quotes):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def highlight(text: str, quotes: Iterable[Sequence[int]]) -> str:
    """A paragraph as HTML with the quoted spans in <mark>; each piece sanitised on its own, so the
    offsets index the original text.

    >>> highlight("One <b>. Two.", [(9, 13)])
    'One &lt;b&gt;. <mark>Two.</mark>'
    """
    out, pos = [], 0
    for s, e in _spans(quotes, len(text)):
        out.append(safe_text(text[pos:s]))
        out.append(f"<mark>{safe_text(text[s:e])}</mark>")
        pos = e
    out.append(safe_text(text[pos:]))
    return "".join(out)


def _quote(c: Citation, limit: int = 260) -> str:
    spans = _spans(c.quotes, len(c.text))
    q = " … ".join(c.text[s:e].strip() for s, e in spans) if spans else c.text
    return clip(clean_text(q), limit)


def _source_card(c: Citation, turn: int) -> str:
    bad = not c.supported
    flag = ('<span class="src-flag">⚠ not supported: the sentence citing it says more than this paragraph'
            "</span>") if bad else ""
    quotes = ",".join(f"{int(s)}-{int(e)}" for s, e in c.quotes)
    return (
        f'<details class="src{" bad" if bad else ""}" id="{anchor(turn, c.marker)}" data-doc="{safe_text(c.doc_id)}" '
        f'data-para="{int(c.paragraph)}" data-quotes="{quotes}">'
        f'<summary><span class="src-n">[{c.marker}]</span> <span class="src-title">{safe_text(c.title)}</span>'
        f'<span class="src-where">{_date(c.date)} · {_where(c)}</span>{flag}'
        f'<span class="src-quote">{safe_text(_quote(c))}</span></summary>'
        f'<p class="src-para">{highlight(c.text, c.quotes)}</p>'
        f'<p class="src-ref">{safe_text(c.doc_id)} · {_where(c)} · characters {int(c.start)}–{int(c.end)}</p>'
        '<button type="button" class="open-article">Read the full article</button></details>'
    )


def _uncited(a: Answer, turn: int) -> str:
    "Retrieved but not cited: collapsed, with rank and score, so a reader can see what was left out."
    cited = {(c.doc_id, c.paragraph) for c in a.citations}
    rows = []
    for rank, h in enumerate(a.hits, 1):
        if h.key in cited:
            continue
        rows.append(
            f'<li class="hit" data-doc="{safe_text(h.doc_id)}" data-para="{int(h.paragraph)}" data-rank="{rank}">'
            f'<span class="hit-rank">#{rank}</span> <span class="hit-score">score {h.score:.3f}</span> '
            f'<span class="src-title">{safe_text(h.title)}</span> <span class="src-where">{_where(h)}</span>'
            f'<span class="hit-text">{safe_text(clip(h.text, 300))}</span>'
            '<button type="button" class="open-article">Read the full article</button></li>')
    if not rows:
        return ""
    n = len(rows)
    return (f'<details class="uncited"><summary>{n} more passage{"s" if n != 1 else ""} retrieved but not cited'
            f'</summary><ol class="hits">{"".join(rows)}</ol></details>')


EMPTY_SOURCES = ('<div class="src-panel"><p class="src-empty">The sources of each answer appear here: the '
                 "article, its date and paragraph, with the cited sentence highlighted. Hover over or focus "
                 "a <strong>[n]</strong> marker for a preview; open it here or read the whole article.</p></div>")


def render_sources(turns: Sequence[Answer]) -> str:
    "The sources panel: every answer of the conversation, newest first and open, older ones folded."
    if not turns:
        return EMPTY_SOURCES
    out = []
    for t in range(len(turns) - 1, -1, -1):
        a = turns[t]
        head = (f'<summary class="turn-q"><span class="turn-n">Q{t + 1}</span> '
                f'<span class="q-text">{safe_text(clip(a.question, QUESTION_CLIP))}</span>'
                f'<span class="badge">{safe_text(backend_label(a.backend))}</span></summary>')
        query = (f'<p class="turn-query">Searched for: <span class="rag-query">{safe_text(a.query)}</span></p>'
                 if a.query else "")
        if a.abstained:
            body = '<p class="src-none">The indexed articles do not answer this question.' + (
                " The closest they come:</p>" + "".join(_source_card(c, t) for c in a.citations)
                if a.citations else "</p>")
        else:
            body = "".join(_source_card(c, t) for c in a.citations)
        notice = f'<p class="src-notice">⚠ {safe_text(a.notice)}</p>' if a.notice else ""
        opened = " open" if t == len(turns) - 1 else ""
        out.append(f'<details class="turn" id="turn-{t}"{opened}>{head}{query}{notice}{body}{_uncited(a, t)}</details>')
    return guard(f'<div class="src-panel">{"".join(out)}</div>', "The sources could not be shown safely.")


# --- the article reader and the collection --------------------------------------------------------------


def render_article(doc: Document, focus: int, quotes: Iterable[tuple[int, int, int]] = ()) -> str:
    """A whole article for the reader: every paragraph numbered (id "art-p-<n>"), the cited spans
    marked, the paragraph `focus` flagged for the script to scroll into view.

    quotes: (paragraph, start, end) with offsets into that paragraph's text."""
    by_para: dict[int, list[tuple[int, int]]] = {}
    for p, s, e in quotes:
        by_para.setdefault(int(p), []).append((int(s), int(e)))
    paras = []
    for p in doc.paragraphs:
        cls = "art-p" + (" cited" if p.number in by_para else "") + (" focus" if p.number == focus else "")
        page = f'<span class="art-page">page {p.page}</span>' if p.page else ""
        paras.append(f'<p class="{cls}" id="art-p-{p.number}"><span class="art-n" aria-hidden="true">{p.number}'
                     f"</span>{page}{highlight(p.text(doc.text), by_para.get(p.number, ()))}</p>")
    n = len(doc.paragraphs)
    head = (f'<header><h2 class="reader-title" tabindex="-1">{safe_text(doc.title)}</h2>'
            f'<p class="reader-meta">{safe_text(_date(doc.date).capitalize())} · {n} paragraph{"s" if n != 1 else ""}'
            f" · <code>{safe_text(doc.doc_id)}</code></p></header>")
    return guard(f'<div class="reader-doc">{head}{"".join(paras)}</div>', doc.title)


def parse_quotes(raw: str, limit: int = 200) -> list[tuple[int, int, int]]:
    """The reader's highlight spans as sent by the page ("para:start-end;..."), bounded and validated:
    anything malformed is dropped, never an error.

    >>> parse_quotes("3:0-10;3:12-20;x;4:5-1;-1:0-2")
    [(3, 0, 10), (3, 12, 20)]
    """
    out = []
    for item in str(raw)[:20_000].split(";")[:limit]:
        m = re.fullmatch(r"(\d{1,6}):(\d{1,9})-(\d{1,9})", item.strip())
        if m and int(m[2]) < int(m[3]):
            out.append((int(m[1]), int(m[2]), int(m[3])))
    return out


def collection_summary(docs: Sequence[Document]) -> str:
    """What the collection covers, for the landing page: how many articles, which years, their titles.

    >>> collection_summary([])
    '<p class="collection">No articles are indexed yet: add some in the Articles tab.</p>'
    """
    if not docs:
        return '<p class="collection">No articles are indexed yet: add some in the Articles tab.</p>'
    from ..answer.dates import lead_date

    # the years the articles cover: their publication dates, else the date their lead states
    when = [d.date or (lead_date(d.paragraph_text(1)) if d.paragraphs else "") for d in docs]
    years = sorted({w[:4] for w in when if w})
    span = f", {years[0]}–{years[-1]}" if len(years) > 1 else (f", {years[0]}" if years else "")
    newest = sorted(docs, key=lambda d: d.date or "", reverse=True)
    titles = " · ".join(f"<span>{safe_text(clip(d.title, 90))}</span>" for d in newest[:6])
    more = f" · and {len(docs) - 6} more" if len(docs) > 6 else ""
    n = len(docs)
    return guard(f'<p class="collection"><strong>{n} news article{"s" if n != 1 else ""}{span}:</strong> '
                 f"{titles}{more}</p>", f"{n} articles")


def render_articles(docs: Iterable[Document], uploads: Path, snapshot: str = "") -> str:
    "The Articles tab: a table of the indexed articles with their titles and publication dates."
    docs = sorted(docs, key=lambda d: d.date or "", reverse=True)
    rows = []
    for d in docs:
        uploaded = Path(d.path).parent == uploads
        origin = '<span class="badge up">uploaded</span>' if uploaded else '<span class="badge">collection</span>'
        rows.append(f'<tr><td class="art-title">{safe_text(d.title)}<br><small>{safe_text(d.doc_id)}</small></td>'
                    f'<td>{safe_text(d.date) if d.date else "—"}</td><td class="num">{len(d.paragraphs)}</td>'
                    f"<td>{origin}</td></tr>")
    paragraphs = sum(len(d.paragraphs) for d in docs)
    caption = (f'<p class="art-summary"><strong>{len(docs)}</strong> article{"s" if len(docs) != 1 else ""} · '
               f"<strong>{paragraphs}</strong> paragraphs"
               + (f' · index snapshot <code>{safe_text(snapshot)}</code>' if snapshot else "") + "</p>")
    table = ('<table class="articles"><thead><tr><th scope="col">Article</th><th scope="col">Published</th>'
             '<th scope="col">Paragraphs</th><th scope="col">Origin</th></tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table>')
    return guard(f'<div class="art-panel">{caption}{table}</div>', "The article list could not be shown safely.")
