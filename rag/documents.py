"""Load articles (.txt, .md, .html, .pdf, .docx) and split them into clean, numbered paragraphs.

Plain text and Markdown are split at blank lines; HTML, PDF and Word files are read by
rag.readers into blocks first (a paragraph, heading, list item, table row or code block each).
The seed files are raw web captures, so cleaning removes what is not article body, by shape rather
than by file: breadcrumb lines ("Home» News» ..."), the title and date header, placeholder lines
("Article content") and trailing link lists ("Latest News" and what follows). Cleaning never rewrites
text: every paragraph is a span (start, end) of Document.text, so a citation points at the exact
characters of the article. Bad files are skipped with a named reason; they never stop the run.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .collection import SUFFIXES, Skipped, list_files
from .dates import header_date, lede_month
from .errors import DocumentError
from .readers import Block, Extracted
from .types import Document, Paragraph

__all__ = ["SUFFIXES", "Skipped", "clean", "decode", "extract", "iter_article_paths", "read_bytes", "read_document",
           "slug"]

# Bumped whenever reading or cleaning changes what an article's text, paragraphs, title or date
# are: an index built by another version is then stale and rebuilt (its vectors mostly cached).
READER_VERSION = 5  # 3: an HTML list item wrapping its text in <p> keeps its bullet; 4: numbered h1s; 5: table rows
MAX_TITLE_WORDS = 25
MAX_HEADING_WORDS = 12
MAX_EXTRACT_TITLE_CHARS = 90
HEADER_LINES = 4  # the title, date and byline of an article sit in its first few lines

_CRUMB = re.compile(r"^(home|首页)\s*[»>›/|]|(\s[»›]\s?.*){2,}|»\s*\S.*»", re.IGNORECASE)
_CRUMB_MAX_CHARS = 300  # breadcrumbs are short; the check is not run over long lines
_TRAILER = re.compile(
    r"^(latest|related|recent|popular|more|top|recommended)\s+(news|articles|stories|posts|reads|reading)\b",
    re.IGNORECASE,
)
# Placeholders left where a web capture dropped an image, ad or widget.
_PLACEHOLDERS = {"article content", "advertisement", "skip to content", "share this article", "share", "print"}
_LIST_ITEM = re.compile(r"^(\d{1,2}[.)]|[•·▪●◦\-*–])\s")
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(?=\S)")  # "## Section": the marks are not part of the text
_MD_RULE = re.compile(r"^([=\-*_~#])(\s*\1){2,}$")  # setext underlines and thematic breaks: formatting only
_ISO_LINE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$")
_MAGIC = {
    b"\x89PNG": "PNG image",
    b"GIF8": "GIF image",
    b"\xff\xd8\xff": "JPEG image",
    b"PK\x03\x04": "ZIP archive",
    b"\x7fELF": "executable",
    b"MZ": "Windows executable",
    b"\x1f\x8b": "gzip archive",
}


def sha256_file(path: Path) -> str:
    "The sha256 of a file's bytes, read in 1 MB blocks (snapshot files and models can be large)."
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def iter_article_paths(roots) -> list[Path]:
    "Article files under the given files/folders, sorted; hidden files and outside symlinks excluded."
    return list_files(roots).files


def decode(data: bytes, name: str = "file") -> str:
    """Bytes to text, or a DocumentError naming the reason. Never drops bytes silently."""
    if not data.strip():
        raise DocumentError(f"{name}: empty file")
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            raise DocumentError(f"{name}: binary file ({kind}), not a text article")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise DocumentError(f"{name}: has a UTF-16 byte-order mark but is not valid UTF-16") from e
    if b"\x00" in data[:8192]:
        raise DocumentError(f"{name}: binary file (contains NUL bytes), not a text article")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DocumentError(
            f"{name}: not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); "
            "re-save the file as UTF-8"
        ) from e


def is_html(path: Path, text: str) -> bool:
    if path.suffix.lower() in {".html", ".htm"}:
        return True
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html"))


def read_bytes(path: Path, max_bytes: int | None = None) -> bytes:
    """A regular file's bytes. The size is checked before anything is read, and no more than the
    limit is ever read, so a huge (or sparse, or growing) file costs nothing."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise DocumentError(f"{path.name}: not a regular file")
            if max_bytes is not None and st.st_size > max_bytes:
                raise DocumentError(f"{path.name}: {st.st_size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
            data = f.read(max_bytes + 1 if max_bytes is not None else -1)
    except OSError as e:
        raise DocumentError(f"{path.name}: cannot read ({e.strerror})") from e
    if max_bytes is not None and len(data) > max_bytes:
        raise DocumentError(f"{path.name}: over the {max_bytes / 1e6:.0f} MB limit (it grew while being read)")
    return data


def extract(path: Path, data: bytes) -> Extracted | str:
    "A reader's blocks for a structured format (decided by content, not only the suffix), or plain text."
    name = path.name
    suffix = path.suffix.lower()
    if suffix == ".pdf" and not data.startswith(b"%PDF"):
        raise DocumentError(f"{name}: not a PDF file (it does not start with %PDF)")
    if suffix == ".docx" and not data.startswith(b"PK\x03\x04"):
        raise DocumentError(f"{name}: not a Word .docx file (it is not a ZIP archive)")
    if data.startswith(b"%PDF"):
        from .readers.pdf import read_pdf

        return read_pdf(data, name)
    if data.startswith(b"PK\x03\x04"):
        from .readers.docx import is_docx, read_docx

        if is_docx(data):
            return read_docx(data, name)
        raise DocumentError(f"{name}: binary file (ZIP archive), not an article; .docx is the Word format rag reads")
    text = decode(data, name)
    if is_html(path, text):
        from .readers.html import read_html

        return read_html(text)
    return text


def read_document(path: Path, doc_id: str | None = None, max_bytes: int | None = None,
                  data: bytes | None = None) -> Document:
    "Read and clean one article. Raises DocumentError with the file name and reason."
    path = Path(path)
    if data is None:
        data = read_bytes(path, max_bytes)
    got = extract(path, data)
    text, blocks = (got, None) if isinstance(got, str) else (got.text, got.blocks)
    title, date, paragraphs = clean(text, blocks)
    if not paragraphs:
        raise DocumentError(f"{path.name}: no article text found after cleaning")
    if not isinstance(got, str):
        title = got.title or title
        date = got.date or date
    return Document(
        doc_id=doc_id or slug(path.stem),
        path=str(path),
        title=title,
        date=date,
        sha256=hashlib.sha256(data).hexdigest(),
        text=text,
        paragraphs=paragraphs,
    )


def slug(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "article"


# --- cleaning -------------------------------------------------------------------------------------


@dataclass
class _Line:
    start: int
    end: int
    text: str  # stripped
    gap_before: bool  # a blank (or dropped) line precedes it
    keep: bool = True
    kind: str = "text"  # a reader's block kind: "text", "heading", "item" or "code"
    page: int | None = None


def _lines(text: str) -> list[_Line]:
    "Plain text's lines; a Markdown heading line starts after its '#' marks."
    out, gap = [], False
    for m in re.finditer(r"[^\n]*", text):
        raw = m.group()
        stripped = raw.strip()
        if not stripped:
            gap = True
            continue
        if _MD_RULE.match(stripped):
            continue  # an underline or a rule: neither text nor a paragraph break of its own
        lead = len(raw) - len(raw.lstrip())
        start = m.start() + lead
        kind = "text"
        if md := _MD_HEADING.match(stripped):
            start += md.end()
            stripped = stripped[md.end():].rstrip("# \t") or stripped
            kind = "heading"
        out.append(_Line(start, start + len(stripped), stripped, gap, kind=kind))
        gap = False
    return out


def _block_lines(text: str, blocks: tuple[Block, ...]) -> list[_Line]:
    "A reader's blocks as lines: each stands alone, a code block keeps its inner lines."
    return [_Line(b.start, b.end, text[b.start:b.end].strip(), True, kind=b.kind, page=b.page) for b in blocks]


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def _is_sentence_end(s: str) -> bool:
    return s.rstrip("\"'”’)]").endswith((".", "!", "?", ";", ","))


def _titleish(s: str) -> bool:
    short = len(s) <= 40 * MAX_TITLE_WORDS and len(s.split()) <= MAX_TITLE_WORDS  # length first: lines can be MBs
    return short and not _is_sentence_end(s) and not s.endswith(":")


def _crumb(line: _Line, anywhere: bool) -> bool:
    if line.kind == "code" or len(line.text) > _CRUMB_MAX_CHARS:
        return False
    return bool(_CRUMB.search(line.text) if anywhere else _CRUMB.match(line.text))


def clean(text: str, blocks: tuple[Block, ...] | None = None) -> tuple[str, str | None, tuple[Paragraph, ...]]:
    """Title, publication date and paragraph spans of an article's text (split at blank lines, or
    given as a reader's blocks).

    >>> title, date, paras = clean("Home» News» Big news\\n\\nBig news\\n2024-01-02\\n\\nIt happened.\\n")
    >>> title, date, [p.number for p in paras]
    ('Big news', '2024-01-02', [1])
    """
    lines = _lines(text) if blocks is None else _block_lines(text, blocks)
    title, date = None, None

    # Header: breadcrumbs, then an optional title line and date line (either order).
    i = 0
    while i < len(lines) and _crumb(lines[i], anywhere=True):
        lines[i].keep = False
        i += 1
    for line in lines[i : i + HEADER_LINES]:
        if line.kind == "code":
            break
        if title is None and _titleish(line.text) and not _ISO_LINE.match(line.text) and not header_date(line.text):
            title = line.text
            line.keep = False
        elif date is None and (d := header_date(line.text)):
            date = d
            line.keep = False
        else:
            break

    # Placeholders and repeated short lines (widgets) anywhere; the title repeated in the body.
    # Only short lines can be any of these, so long ones are not normalised at all.
    short_lines = [line for line in lines if line.kind != "code" and len(line.text) <= _CRUMB_MAX_CHARS]
    counts = Counter(_norm(line.text) for line in short_lines)
    for line in short_lines:
        n = _norm(line.text)
        short = len(n.split()) <= 5
        if n in _PLACEHOLDERS or (short and counts[n] >= 3) or (title and n == _norm(title)) or _crumb(line, False):
            line.keep = False

    # Trailer: "Latest News" and everything after it.
    for j, line in enumerate(lines):
        if line.keep and line.kind != "code" and _TRAILER.match(line.text) and len(line.text.split()) <= 4:
            for rest in lines[j:]:
                rest.keep = False
            break

    groups = _merge(_blocks(lines))
    paragraphs, seen = [], set()
    for group in groups:
        # Key on the body, not its heading: captures repeat a paragraph under a new heading.
        key = _norm(" ".join(line.text for line in group[-1].lines))
        if group[-1].lines[0].kind != "code":  # a snippet may recur on purpose; boilerplate is prose
            if key in seen:
                continue
            seen.add(key)
        first = group[0].lines[0]
        paragraphs.append(Paragraph(len(paragraphs) + 1, first.start, group[-1].lines[-1].end, first.page))

    if title is None:
        title = _first_heading(groups) or _title_from(text, paragraphs)
    if date is None and paragraphs:
        date = lede_month(_lede(text, groups), text)
    return title, date, tuple(paragraphs)


@dataclass
class _Block:
    lines: list[_Line]
    after_drop: bool  # a dropped line (placeholder, widget) sits right before it

    @property
    def heading(self) -> bool:
        first = self.lines[0]
        if first.kind in ("heading", "code", "item"):
            return first.kind == "heading"
        return (len(self.lines) == 1 and len(first.text) <= 40 * MAX_HEADING_WORDS
                and len(first.text.split()) <= MAX_HEADING_WORDS and not _is_sentence_end(first.text))

    @property
    def is_list(self) -> bool:
        return all(line.kind == "item" or (line.kind == "text" and _LIST_ITEM.match(line.text)) for line in self.lines)


def _blocks(lines: list[_Line]) -> list[_Block]:
    "Runs of kept lines, split at blank lines, at dropped lines and around headings and code."
    blocks: list[_Block] = []
    current: list[_Line] = []
    dropped = False
    for line in lines:
        if not line.keep:
            if current:
                blocks.append(_Block(current, dropped))
                current, dropped = [], False
            dropped = True
            continue
        if current and (line.gap_before or line.kind in ("heading", "code") or current[-1].kind in ("heading", "code")):
            blocks.append(_Block(current, dropped))
            current, dropped = [], False
        current.append(line)
    if current:
        blocks.append(_Block(current, dropped))
    return blocks


def _merge(blocks: list[_Block]) -> list[list[_Block]]:
    """Group blocks into paragraphs: a heading joins the block it heads, a line ending in ':' joins
    the list it introduces, and consecutive list items stay together. Nothing joins across a
    dropped line, so a paragraph's span never contains removed boilerplate."""
    groups: list[list[_Block]] = []
    pending: list[_Block] = []  # headings waiting for their body
    for block in blocks:
        if pending and block.after_drop:
            groups.append(pending)
            pending = []
        last = groups[-1][-1] if groups and not pending else None
        if last and not block.after_drop and block.is_list and (last.is_list or last.lines[-1].text.endswith(":")):
            groups[-1].append(block)
        elif block.heading and not block.is_list:
            pending.append(block)
        else:
            groups.append([*pending, block])
            pending = []
    if pending:
        groups.append(pending)
    return groups


def _first_heading(groups: list[list[_Block]]) -> str | None:
    """The article's title when it opens with a heading: a heading block ahead of all body text.
    A heading further down names a section, not the article."""
    if groups and len(groups[0]) > 1 and groups[0][0].heading:
        t = groups[0][0].lines[0].text
        if _titleish(t):
            return t
    return None


def _lede(text: str, groups: list[list[_Block]]) -> str:
    "The first body paragraph (after any heading), where a news story states when it happened."
    for group in groups:
        body = [b for b in group if not b.heading]
        if body:
            return text[body[0].lines[0].start : body[0].lines[-1].end]
    return ""


def _title_from(text: str, paragraphs: list[Paragraph]) -> str:
    """A short extract of the first sentence: the title of last resort, for text without a header
    title or an opening heading. It is kept whole as far as it goes (a lede's date and acronyms:
    the title is embedded and searched with every paragraph of the article); a long sentence is cut at a clause boundary (a comma before a lower-case word, as in
    "X, hosted by ...", but not the "and" of a list) or else at a word, with an ellipsis."""
    if not paragraphs:
        return "Untitled"
    from .text import STOPWORDS, sentence_spans

    first = paragraphs[0].text(text)[: 8 * MAX_EXTRACT_TITLE_CHARS]  # a title needs no more
    s, e = sentence_spans(first)[0]
    sentence = first[s:e].rstrip(".").strip()
    if len(sentence) <= MAX_EXTRACT_TITLE_CHARS:
        return sentence
    for m in re.finditer(r",\s+(?=[a-z])(?!(?:and|or|nor)\b)", sentence[: MAX_EXTRACT_TITLE_CHARS + 1]):
        if m.start() >= MAX_EXTRACT_TITLE_CHARS // 2:
            return sentence[: m.start()]
    words = sentence[:MAX_EXTRACT_TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",;:").split(" ")
    while len(words) > 3 and words[-1].lower() in STOPWORDS:  # not "... honored with the…"
        words.pop()
    return " ".join(words).rstrip(",;:") + "…"
