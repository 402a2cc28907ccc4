"""Pure helpers for the web UI: sanitising, rendering answers and sources as HTML, checking uploads.

No Gradio import: tests call these directly. The one rule: every character of model or document
text reaches the browser HTML-escaped, with markdown images and links reduced to their text. The
only markup in the output is the markup written here, and its only links are in-page anchors
("#src-<turn>-<n>"), so a poisoned article cannot make the browser fetch anything.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from .documents import SUFFIXES, read_document, slug
from .errors import DocumentError
from .types import Answer, Document

# --- sanitising -----------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Zero-width and bidirectional-override characters: invisible, and able to disguise text.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_URL = r"\((?:[^()\n]|\([^()\n]{0,500}\)){0,2000}\)"  # "(url)", allowing one level of parentheses inside
_MD_IMAGE = re.compile(r"!\[([^\]\n]{0,300})\]" + _URL)
_MD_IMAGE_REF = re.compile(r"!\[([^\]\n]{0,300})\]\[[^\]\n]{0,300}\]")
_MD_LINK = re.compile(r"\[([^\]\n]{0,300})\]" + _URL)
_WS = re.compile(r"\s+")


def _image_text(m: re.Match) -> str:
    alt = m.group(1).strip()
    return f"[image removed: {alt}]" if alt else "[image removed]"


def safe_text(text: str) -> str:
    """Text as inert HTML: markdown images dropped (alt text kept), markdown links reduced to their
    text, control and invisible characters removed, everything else HTML-escaped.

    >>> safe_text('See ![chart](http://evil.example/p.png) and [this](javascript:alert(1)) <b>x</b>')
    'See [image removed: chart] and this &lt;b&gt;x&lt;/b&gt;'
    """
    text = _INVISIBLE.sub("", _CONTROL.sub("", str(text)))
    text = _MD_IMAGE.sub(_image_text, text)
    text = _MD_IMAGE_REF.sub(_image_text, text)
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    return html.escape(text, quote=True)


class _Audit(HTMLParser):
    "Collects what a fragment asks the browser to do: tags, links, sources, handlers, styles."

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            value = value or ""
            if name == "href":
                if not value.startswith("#"):
                    self.problems.append(f"link to {value!r}")
            elif name not in ALLOWED_ATTRS:
                self.problems.append(f"attribute {name}={value!r} on <{tag}>")


ALLOWED_TAGS = {"div", "span", "p", "a", "sup", "mark", "strong", "em", "details", "summary", "section",
                "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "br", "small", "code"}
ALLOWED_ATTRS = {"class", "id", "title", "open", "aria-label", "role", "scope"}


def html_problems(fragment: str) -> list[str]:
    """Everything in an HTML fragment outside the UI's own vocabulary: unknown tags, attributes such
    as src/style/on*, and links that leave the page. Empty for every fragment this module renders.

    >>> html_problems('<a class="cite" href="#src-0-1">[1]</a>')
    []
    >>> html_problems('<img src="//evil.example/x.png">')
    ['tag <img>', "attribute src='//evil.example/x.png' on <img>"]
    """
    audit = _Audit()
    audit.feed(fragment)
    audit.close()
    return audit.problems


def _guard(fragment: str, fallback: str) -> str:
    "The fragment if it audits clean; otherwise the fallback text, fully escaped. Belt and braces."
    return fragment if not html_problems(fragment) else f"<p>{html.escape(fallback)}</p>"


# --- answers --------------------------------------------------------------------------------------

MARKERS = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_META = re.compile(r'<div class="rag-meta[^"]*">.*?</div>', re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def _as_dict(answer: Answer | Mapping) -> Mapping:
    return answer.to_dict() if isinstance(answer, Answer) else answer


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


def _cite_link(c: Mapping, turn: int) -> str:
    where = f"{c['title']}, paragraph {c['paragraph']}"
    if c["supported"]:
        return (f'<a class="cite" href="#{anchor(turn, c["marker"])}" title="{safe_text(where)}">'
                f'[{c["marker"]}]</a>')
    return (f'<a class="cite bad" href="#{anchor(turn, c["marker"])}" '
            f'title="{safe_text("Not supported by " + where)}">[{c["marker"]}⚠]</a>')


def _meta(a: Mapping, extra: str = "") -> str:
    n = len(a["citations"])
    parts = [f'<span class="badge">{safe_text(backend_label(a["backend"]))}</span>']
    if a["abstained"]:
        parts.append("<span>No answer in the indexed articles</span>")
    else:
        parts.append(f"<span>{n} source{'s' if n != 1 else ''} · click a marker to open it</span>")
    out = f'<div class="rag-meta">{" ".join(parts)}{extra}</div>'
    if a.get("notice"):
        out += f'<div class="rag-meta rag-notice">⚠ {safe_text(a["notice"])}</div>'
    return out


def render_answer(answer: Answer | Mapping, turn: int) -> str:
    """The final answer as chat HTML: inline [n] markers link to the sources panel
    (#src-<turn>-<n>); a sentence citing an unsupported paragraph is underlined and its marker
    flagged; an abstention is styled apart; the back-end and any notice follow in a small line."""
    a = _as_dict(answer)
    if a["abstained"]:
        body = f'<div class="rag-answer abstained"><span class="rag-icon">∅</span> {safe_text(a["text"])}</div>'
        return _guard(f'<div class="rag-msg">{body}{_meta(a)}</div>', a["text"])
    cites = {c["marker"]: c for c in a["citations"]}
    text, parts, pos, flagged = a["text"], [], 0, 0
    for m in MARKERS.finditer(text):
        known = [cites[n] for n in (int(x) for x in m.group(1).split(",")) if n in cites]
        if not known:
            continue
        segment = text[pos : m.start()]
        core = segment.rstrip()
        lead = core[: len(core) - len(core.lstrip())]
        body = safe_text(core.lstrip())
        if any(not c["supported"] for c in known):
            flagged += 1
            body = f'<span class="unsupported" title="Not supported by the cited paragraph">{body}</span>'
        parts.append(f'{safe_text(lead)}{body}<sup class="cites">{"".join(_cite_link(c, turn) for c in known)}</sup>')
        pos = m.end()
    parts.append(safe_text(text[pos:]))
    extra = ""
    if flagged:
        extra = (f' <span class="flag">⚠ {flagged} underlined sentence{"s are" if flagged > 1 else " is"} '
                 "not supported by the cited paragraph</span>")
    html_ = f'<div class="rag-msg"><div class="rag-answer">{"".join(parts)}</div>{_meta(a, extra)}</div>'
    return _guard(html_, text)


def render_draft(text: str) -> str:
    "An answer while it streams in: escaped text, a cursor, no links yet."
    return (f'<div class="rag-msg"><div class="rag-answer draft">{safe_text(text)}<span class="cursor">▍</span>'
            '</div><div class="rag-meta"><span>Answering…</span></div></div>')


def render_question(text: str) -> str:
    return safe_text(text)


def plain_text(fragment: str) -> str:
    """A chat message back to plain text (for follow-up history): the meta lines dropped, tags
    removed, entities decoded. Plain text passes through unchanged.

    >>> plain_text('<div class="rag-msg"><div class="rag-answer">A &amp; B.<sup><a class="cite" href="#src-0-1">[1]</a></sup></div><div class="rag-meta"><span>1 source</span></div></div>')
    'A & B.[1]'
    """
    if "<" not in fragment:
        return html.unescape(fragment).strip()
    text = _TAG.sub("", _META.sub("", fragment))
    return _WS.sub(" ", html.unescape(text)).strip().rstrip("▍").strip()


def history_pairs(history: Sequence | None) -> list[tuple[str, str]]:
    """(question, answer) pairs in plain text from a Gradio 6 chat history (message dicts whose
    content is a string or a list of blocks), or from (question, answer) pairs."""
    pairs: list[tuple[str, str]] = []
    pending = None
    for m in history or []:
        if isinstance(m, list | tuple) and len(m) == 2:
            pairs.append((plain_text(str(m[0] or "")), plain_text(str(m[1] or ""))))
            continue
        if not isinstance(m, Mapping) or (m.get("metadata") or {}).get("title"):
            continue  # files, tool/"thought" messages
        content = m.get("content")
        if isinstance(content, list):
            content = " ".join(b.get("text", "") for b in content if isinstance(b, Mapping))
        if not isinstance(content, str):
            continue
        if m.get("role") == "user":
            pending = plain_text(content)
        elif m.get("role") == "assistant" and pending is not None:
            pairs.append((pending, plain_text(content)))
            pending = None
    return pairs


# --- sources ----------------------------------------------------------------------------------------


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


def _quote(c: Mapping, limit: int = 260) -> str:
    spans = _spans(c.get("quotes") or (), len(c["text"]))
    q = " … ".join(c["text"][s:e].strip() for s, e in spans) if spans else c["text"]
    q = _WS.sub(" ", q).strip()
    return q if len(q) <= limit else q[:limit].rsplit(" ", 1)[0] + "…"


def _source_card(c: Mapping, turn: int) -> str:
    bad = not c["supported"]
    flag = ('<span class="src-flag">⚠ not supported: the sentence citing it says more than this paragraph'
            "</span>") if bad else ""
    date = safe_text(c["date"]) if c.get("date") else "undated"
    return (
        f'<details class="src{" bad" if bad else ""}" id="{anchor(turn, c["marker"])}">'
        f'<summary><span class="src-n">[{c["marker"]}]</span> <span class="src-title">{safe_text(c["title"])}</span>'
        f'<span class="src-where">{date} · paragraph {int(c["paragraph"])}</span>{flag}'
        f'<span class="src-quote">{safe_text(_quote(c))}</span></summary>'
        f'<p class="src-para">{highlight(c["text"], c.get("quotes") or ())}</p>'
        f'<p class="src-ref">{safe_text(c["doc_id"])} · paragraph {int(c["paragraph"])} · characters '
        f'{int(c["start"])}–{int(c["end"])}</p></details>'
    )


EMPTY_SOURCES = ('<div class="src-panel"><p class="src-empty">The sources of each answer appear here: the '
                 "article, its date, the paragraph, with the cited sentence highlighted. Click a "
                 "<strong>[n]</strong> marker in an answer to jump to its paragraph.</p></div>")


def render_sources(turns: Sequence[Answer | Mapping]) -> str:
    "The sources panel: every answer of the conversation, newest first and open, older ones folded."
    if not turns:
        return EMPTY_SOURCES
    out = []
    for t in range(len(turns) - 1, -1, -1):
        a = _as_dict(turns[t])
        head = (f'<summary class="turn-q"><span class="turn-n">Q{t + 1}</span> {safe_text(a["question"])}'
                f'<span class="badge">{safe_text(backend_label(a["backend"]))}</span></summary>')
        if a["abstained"]:
            body = '<p class="src-none">No sources: the indexed articles do not answer this question.</p>'
        else:
            body = "".join(_source_card(c, t) for c in a["citations"])
        notice = f'<p class="src-notice">⚠ {safe_text(a["notice"])}</p>' if a.get("notice") else ""
        opened = " open" if t == len(turns) - 1 else ""
        out.append(f'<details class="turn" id="turn-{t}"{opened}>{head}{notice}{body}</details>')
    return _guard(f'<div class="src-panel">{"".join(out)}</div>', "The sources could not be shown safely.")


def render_articles(docs: Iterable[Document], uploads: Path, snapshot: str = "") -> str:
    "The Sources tab: a table of the indexed articles."
    docs = list(docs)
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
    table = ('<table class="articles"><thead><tr><th scope="col">Article</th><th scope="col">Date</th>'
             '<th scope="col">Paragraphs</th><th scope="col">Origin</th></tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table>')
    return _guard(f'<div class="art-panel">{caption}{table}</div>', "The article list could not be shown safely.")


# --- uploads ----------------------------------------------------------------------------------------

UPLOAD_SUFFIXES = tuple(sorted(SUFFIXES))


@dataclass(frozen=True)
class UploadResult:
    name: str  # the file name as uploaded
    ok: bool
    message: str
    stored: str | None = None  # the stored file's name under RAG_HOME/uploads


def stored_name(original: str, sha256: str) -> str:
    """A safe, unique file name for an upload: slugged stem, content hash, lower-case suffix.

    >>> stored_name("../../etc/My Report (final).TXT", "ab" * 32)
    'My-Report-final-ababababab.txt'
    """
    p = Path(original.replace("\\", "/")).name
    stem, suffix = os.path.splitext(p)
    return f"{slug(stem)[:60].strip('-.') or 'article'}-{sha256[:10]}{suffix.lower()}"


def check_upload(path: Path, max_bytes: int, name: str | None = None) -> Document:
    """Read an uploaded file as an article, or raise DocumentError with the reason: a suffix other
    than .txt/.md/.html, over the size limit, empty, binary (by its content, whatever its suffix),
    not UTF-8, or no article text."""
    path = Path(path)
    name = name or path.name
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(f"{name}: {suffix or 'no extension'} files are not accepted; upload .txt, .md or .html")
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(f"{name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    try:
        return read_document(path, max_bytes=max_bytes)
    except DocumentError as e:
        raise DocumentError(str(e).replace(path.name, name, 1)) from e


def add_uploads(paths: Sequence[Path], settings, indexed: Mapping[str, str],
                build: Callable[[], object]) -> list[UploadResult]:
    """Check uploaded files, store the good ones under settings.uploads and rebuild the index once.

    indexed: sha256 -> title of the articles already in the index (duplicates are refused).
    build: rebuilds the index (rag.index.build_index with its arguments bound); it returns a report
    whose `skipped` lists files the build refused. If the build fails, the new files are removed
    again, so the folder and the index agree and nothing already indexed changes."""
    uploads = settings.uploads
    uploads.mkdir(parents=True, exist_ok=True, mode=0o700)
    results: dict[int, UploadResult] = {}
    new: dict[int, tuple[Path, Document]] = {}
    seen: dict[str, str] = {}
    for i, path in enumerate(paths):
        path = Path(path)
        name = path.name
        try:
            doc = check_upload(path, settings.max_file_bytes)
        except DocumentError as e:
            results[i] = UploadResult(name, False, str(e))
            continue
        if doc.sha256 in indexed:
            results[i] = UploadResult(name, False, f"{name}: already indexed, as “{indexed[doc.sha256]}”")
            continue
        if doc.sha256 in seen:
            results[i] = UploadResult(name, False, f"{name}: same content as {seen[doc.sha256]} in this upload")
            continue
        seen[doc.sha256] = name
        dest = uploads / stored_name(name, doc.sha256)
        tmp = uploads / f".{dest.name}.part"
        shutil.copyfile(path, tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, dest)
        new[i] = (dest, doc)
    if new:
        try:
            report = build()
        except Exception as e:
            for dest, _ in new.values():
                dest.unlink(missing_ok=True)
            for i, (_, _doc) in new.items():
                results[i] = UploadResult(Path(paths[i]).name, False,
                                          f"{Path(paths[i]).name}: indexing failed ({e}); the index is unchanged")
            return [results[i] for i in sorted(results)]
        refused = {s.path: s.reason for s in getattr(report, "skipped", ())}
        for i, (dest, doc) in new.items():
            name = Path(paths[i]).name
            if str(dest) in refused:
                dest.unlink(missing_ok=True)
                results[i] = UploadResult(name, False, refused[str(dest)].replace(dest.name, name))
            else:
                n = len(doc.paragraphs)
                results[i] = UploadResult(name, True, f"{name}: added “{doc.title}” ({n} paragraph{'s' if n != 1 else ''})",
                                          dest.name)
    return [results[i] for i in sorted(results)]


def render_upload_results(results: Sequence[UploadResult]) -> str:
    if not results:
        return '<div class="upload-status"><p>Choose one or more .txt, .md or .html files first.</p></div>'
    items = "".join(
        f'<li class="{"ok" if r.ok else "bad"}">{"✓" if r.ok else "✗"} {safe_text(r.message)}</li>' for r in results
    )
    added = sum(r.ok for r in results)
    head = (f"{added} article{'s' if added != 1 else ''} added and searchable now." if added
            else "No article was added; the index is unchanged.")
    return _guard(f'<div class="upload-status"><p><strong>{safe_text(head)}</strong></p><ul>{items}</ul></div>',
                  head)
