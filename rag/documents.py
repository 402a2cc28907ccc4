"""Load articles (.txt, .md, .html) and split them into clean, numbered paragraphs.

The seed files are raw web captures, so cleaning removes what is not article body, by shape rather
than by file: breadcrumb lines ("Home» News» ..."), the title and date header, placeholder lines
("Article content") and trailing link lists ("Latest News" and what follows). Cleaning never rewrites
text: every paragraph is a span (start, end) of the decoded source, so a citation can point at the
exact source characters. Bad files are skipped with a named reason; they never stop the run.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .errors import DocumentError
from .types import Document, Paragraph

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
MAX_TITLE_WORDS = 25
MAX_HEADING_WORDS = 12

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_MONTH_NUM = {m: i for i, m in enumerate(_MONTHS.split("|"), 1)}
_ISO_DATE = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_PROSE_DATE = re.compile(
    rf"\b({_MONTHS})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:\s*(?:-|–|to)\s*\d{{1,2}}(?:st|nd|rd|th)?)?,?\s+(\d{{4}})\b"
)
_CRUMB = re.compile(r"^(home|首页)\s*[»>›/|]|(\s[»›]\s?.*){2,}|»\s*\S.*»", re.IGNORECASE)
_TRAILER = re.compile(
    r"^(latest|related|recent|popular|more|top|recommended)\s+(news|articles|stories|posts|reads|reading)\b",
    re.IGNORECASE,
)
# Placeholders left where a web capture dropped an image, ad or widget.
_PLACEHOLDERS = {"article content", "advertisement", "skip to content", "share this article", "share", "print"}
_LIST_ITEM = re.compile(r"^(\d{1,2}[.)]|[•·▪●◦\-*–])\s")
_MAGIC = {
    b"%PDF": "PDF",
    b"\x89PNG": "PNG image",
    b"GIF8": "GIF image",
    b"\xff\xd8\xff": "JPEG image",
    b"PK\x03\x04": "ZIP archive (or .docx/.xlsx)",
    b"\x7fELF": "executable",
    b"MZ": "Windows executable",
    b"\x1f\x8b": "gzip archive",
}


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def iter_article_paths(roots) -> list[Path]:
    "Article files under the given files/folders, sorted, hidden files excluded."
    out = []
    for root in map(Path, roots):
        if root.is_file():
            out.append(root)
        elif root.is_dir():
            out.extend(
                p
                for p in sorted(root.rglob("*"))
                if p.is_file()
                and p.suffix.lower() in SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(root).parts)
            )
    return out


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


def read_document(path: Path, doc_id: str | None = None, max_bytes: int | None = None) -> Document:
    "Read and clean one article. Raises DocumentError with the file name and reason."
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DocumentError(f"{path.name}: cannot read ({e.strerror})") from e
    if max_bytes is not None and len(data) > max_bytes:
        raise DocumentError(f"{path.name}: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    text = decode(data, path.name)
    html_title = None
    if is_html(path, text):
        from .html import html_to_text

        html_title, text = html_to_text(text)
    title, date, paragraphs = clean(text)
    if not paragraphs:
        raise DocumentError(f"{path.name}: no article text found after cleaning")
    return Document(
        doc_id=doc_id or slug(path.stem),
        path=str(path),
        title=html_title or title,
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


def _lines(text: str) -> list[_Line]:
    out, gap = [], False
    for m in re.finditer(r"[^\n]*", text):
        raw = m.group()
        stripped = raw.strip()
        if not stripped:
            gap = True
            continue
        lead = len(raw) - len(raw.lstrip())
        start = m.start() + lead
        out.append(_Line(start, start + len(stripped), stripped, gap))
        gap = False
    return out


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def _is_sentence_end(s: str) -> bool:
    return s.rstrip("\"'”’)]").endswith((".", "!", "?", ";", ","))


def _titleish(s: str) -> bool:
    return len(s.split()) <= MAX_TITLE_WORDS and not _is_sentence_end(s) and not s.endswith(":")


def find_date(text: str) -> str | None:
    "The first full date the text states, as ISO yyyy-mm-dd."
    candidates = []
    m = _ISO_DATE.search(text)
    if m and 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31:
        candidates.append((m.start(), f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"))
    m = _PROSE_DATE.search(text)
    if m:
        candidates.append((m.start(), f"{int(m.group(3)):04d}-{_MONTH_NUM[m.group(1)]:02d}-{int(m.group(2)):02d}"))
    return min(candidates)[1] if candidates else None


def clean(text: str) -> tuple[str, str | None, tuple[Paragraph, ...]]:
    """Title, date and paragraph spans of an article's text.

    >>> title, date, paras = clean("Home» News» Big news\\n\\nBig news\\n2024-01-02\\n\\nIt happened.\\n")
    >>> title, date, [p.number for p in paras]
    ('Big news', '2024-01-02', [1])
    """
    lines = _lines(text)
    title, date = None, None

    # Header: breadcrumbs, then an optional title line and date line.
    i = 0
    while i < len(lines) and _CRUMB.search(lines[i].text):
        lines[i].keep = False
        i += 1
    for line in lines[i : i + 4]:
        if title is None and _titleish(line.text) and not _ISO_DATE.fullmatch(line.text):
            title = line.text
            line.keep = False
        elif date is None and (d := find_date(line.text)) and len(line.text) <= 40:
            date = d
            line.keep = False
        else:
            break

    # Placeholders and repeated short lines (widgets) anywhere; the title repeated in the body.
    counts = Counter(_norm(line.text) for line in lines)
    for line in lines:
        n = _norm(line.text)
        short = len(n.split()) <= 5
        if (
            n in _PLACEHOLDERS
            or (short and counts[n] >= 3)
            or (title and n == _norm(title))
            or _CRUMB.match(line.text)
        ):
            line.keep = False

    # Trailer: "Latest News" and everything after it.
    for j, line in enumerate(lines):
        if line.keep and _TRAILER.match(line.text) and len(line.text.split()) <= 4:
            for rest in lines[j:]:
                rest.keep = False
            break

    blocks = _blocks(lines)
    groups = _merge(blocks)
    paragraphs, seen = [], set()
    for group in groups:
        # Key on the body, not its heading: captures repeat a paragraph under a new heading.
        key = _norm(" ".join(line.text for line in group[-1].lines))
        if key in seen:
            continue
        seen.add(key)
        start, end = group[0].lines[0].start, group[-1].lines[-1].end
        paragraphs.append(Paragraph(len(paragraphs) + 1, start, end))

    if title is None:
        title = _title_from(text, paragraphs)
    if date is None:
        date = find_date(text)
    return title, date, tuple(paragraphs)


@dataclass
class _Block:
    lines: list[_Line]
    after_drop: bool  # a dropped line (placeholder, widget) sits right before it

    @property
    def heading(self) -> bool:
        t = self.lines[0].text
        return len(self.lines) == 1 and len(t.split()) <= MAX_HEADING_WORDS and not _is_sentence_end(t)

    @property
    def is_list(self) -> bool:
        return all(_LIST_ITEM.match(line.text) for line in self.lines)


def _blocks(lines: list[_Line]) -> list[_Block]:
    "Runs of kept lines, split at blank lines and at dropped lines."
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
        if line.gap_before and current:
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


def _title_from(text: str, paragraphs: list[Paragraph]) -> str:
    if not paragraphs:
        return "Untitled"
    from .text import sentence_spans

    first = paragraphs[0].text(text)
    s, e = sentence_spans(first)[0]
    sentence = first[s:e].rstrip(".")
    if len(sentence) <= 90:
        return sentence
    return sentence[:90].rsplit(" ", 1)[0].rstrip(",;:") + "…"
