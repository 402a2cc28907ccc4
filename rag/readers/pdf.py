"""PDF to article text: the text layer, page by page (pypdf, BSD licence), rebuilt into paragraphs.

A PDF has no paragraphs, only positioned lines. pypdf reports each piece of text with its text and
transformation matrices, so every extracted line gets its height on the page and its font size.
A paragraph ends where the gap to the next line is clearly larger than the page's usual line
spacing, where the font size changes (a heading), or where the text moves back up (a new column).
Lines of a paragraph are joined with a space; a paragraph cut by a page break is joined to its
continuation when its last sentence is unfinished, and keeps the page it starts on. Running
headers and footers (the same line at the top or bottom of most pages, page numbers aside) and
bare page numbers are dropped.

The text built here is Document.text for a PDF, so paragraph offsets are exact spans of it.
A PDF without a text layer (a scan) is refused with that reason: nothing to index without OCR.
"""

from __future__ import annotations

import io
import re
import statistics
from dataclasses import dataclass

from ..errors import DocumentError
from . import Extracted, TextBuilder

# A gap this many times the usual line spacing separates paragraphs (browsers and word processors
# put about half a line of space between paragraphs, i.e. ~1.5x; wrapped lines sit at 1.0x).
PARAGRAPH_GAP = 1.3
SIZE_CHANGE = 0.12  # relative font-size change that starts a new block (headings)
MARGIN_BAND = 0.06  # top and bottom share of the page where running headers and footers sit
SMALLER = 0.9  # a margin line set this much smaller than the body text is a print header/footer
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_PAGE_NUMBER = re.compile(r"^(page\s*)?[-–(\[]?\s*\d{1,4}\s*([-–)\]]|(/|of)\s*\d{1,4})?\s*$", re.I)
_UNFINISHED = re.compile(r"[^.!?:;\"”’)\]]$")
_FILENAME_TITLE = re.compile(r"\.(html?|txt|md|pdf|docx?|odt|rtf)$|^untitled$|^microsoft word - ", re.I)


@dataclass
class _Line:
    text: str
    y: float  # baseline height on the page (PDF units, up is larger)
    x: float
    size: float  # effective font size


def read_pdf(data: bytes, name: str) -> Extracted:
    try:
        from pypdf import PdfReader
    except ImportError as e:  # a broken install; pypdf is a dependency
        raise DocumentError(f"{name}: reading PDF needs pypdf: pip install pypdf") from e
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"{name}: the PDF is password-protected; save an unprotected copy and add that")
        pages = [_page_lines(page) for page in reader.pages]
        bands = [_margin_bands(page) for page in reader.pages]
        meta_title = (reader.metadata or {}).get("/Title")
    except DocumentError:
        raise
    except Exception as e:  # pypdf raises many types on malformed files
        raise DocumentError(f"{name}: not a readable PDF ({type(e).__name__}: {str(e)[:120]})") from e
    _drop_running_lines(pages, bands)
    if not any(line.text.strip() for lines in pages for line in lines):  # at most a print header and footer
        raise DocumentError(f"{name}: the PDF has no text layer (a scanned or image-only PDF); "
                            "run OCR on it (e.g. ocrmypdf) and add the result")
    out = TextBuilder()
    pending: list[str] = []  # lines of the paragraph being built
    pending_page = 0
    pending_size = 0.0
    full = 0  # characters in a full-width line of the previous page
    for number, lines in enumerate(pages, 1):
        leading = _usual_leading(lines)
        prev: _Line | None = None
        for line in lines:
            starts_block = prev is None or _breaks(prev, line, leading)
            if prev is None and pending and not _continues(pending[-1], pending_size, full, line):
                starts_block = True
            elif prev is None and pending:
                starts_block = False  # the paragraph goes on from the last page
            if starts_block and pending:
                out.add(_join(pending), page=pending_page)
                pending = []
            if not pending:
                pending_page = number
            pending.append(line.text.strip())
            pending_size = line.size
            prev = line
        if lines:
            full = sorted(len(line.text) for line in lines)[int(0.9 * (len(lines) - 1))]
    if pending:
        out.add(_join(pending), page=pending_page)
    title = str(meta_title).strip() if meta_title else None
    if title and (_FILENAME_TITLE.search(title) or len(title.split()) < 2):
        title = None  # a producer's placeholder, not the article's title
    return out.build(title)


def _page_lines(page) -> list[_Line]:
    "The page's text lines, in content order, each with its position and font size."
    lines: list[_Line] = []
    current: list[str] = []
    where: list[float] | None = None  # x, y, size of the line's first visible text

    def visit(text, cm, tm, _font, size):
        nonlocal where
        for i, piece in enumerate(text.split("\n")):
            if i:
                end_line()
            if piece.strip():
                a, b, c, d = (tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3],
                              tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3])
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                eff = float(size) * abs(a * d - b * c) ** 0.5
                if where is None:
                    where = [x, y, eff]
                else:
                    where[2] = max(where[2], eff)
            current.append(piece)

    def end_line():
        nonlocal where
        text = "".join(current).translate(_LIGATURES).replace("\u00ad", "")
        if text.strip() and where is not None:
            lines.append(_Line(_clean_spaces(text), where[1], where[0], where[2]))
        current.clear()
        where = None

    page.extract_text(visitor_text=visit)
    end_line()
    return lines


def _clean_spaces(text: str) -> str:
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()


def _usual_leading(lines: list[_Line]) -> float:
    """The page's usual distance between two lines of one paragraph: the tightest common spacing.
    Wrapped lines sit about 1.2 font sizes apart; a page of one-line paragraphs has no such pairs,
    so a spacing far above that is not taken as the line spacing."""
    size = statistics.median(line.size for line in lines) if lines else 12.0
    gaps = [a.y - b.y for a, b in zip(lines, lines[1:], strict=False)
            if a.y - b.y >= 0.5 * min(a.size, b.size) and abs(a.size - b.size) <= SIZE_CHANGE * max(a.size, b.size)]
    if not gaps:
        return 1.2 * size
    tight = min(gaps)
    leading = statistics.median(g for g in gaps if g <= 1.2 * tight)
    return leading if leading <= 1.6 * size else 1.2 * size


def _breaks(prev: _Line, line: _Line, leading: float) -> bool:
    gap = prev.y - line.y
    if gap <= 0.2 * leading:  # the same height or back up: a new column, or text placed out of order
        return abs(gap) > 0.2 * leading or line.x < prev.x
    if abs(prev.size - line.size) > SIZE_CHANGE * max(prev.size, line.size):
        return True
    return gap > PARAGRAPH_GAP * leading


def _continues(last_line: str, size: float, full: int, first: _Line) -> bool:
    """Whether a page's first line continues the paragraph the previous page ended with: that
    paragraph stopped mid-sentence on a full-width line (a short last line ends a paragraph, a
    heading or a caption), and the new line is set in the same size."""
    same_size = abs(size - first.size) <= SIZE_CHANGE * max(size, first.size)
    return same_size and len(last_line) >= 0.75 * full and bool(_UNFINISHED.search(last_line))


def _join(lines: list[str]) -> str:
    out = lines[0]
    for nxt in lines[1:]:
        if out.endswith("-") and len(out) > 1 and out[-2].isalpha() and nxt[:1].islower():
            out += nxt  # a word broken at a hyphen: "well-" + "known"
        else:
            out += " " + nxt
    return out


def _norm_running(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower()).strip()


def _margin_bands(page) -> tuple[float, float]:
    "Heights below and above which a line sits in the page's bottom or top margin."
    box = page.mediabox
    bottom, top = float(box.bottom), float(box.top)
    band = MARGIN_BAND * (top - bottom)
    return bottom + band, top - band


def _drop_running_lines(pages: list[list[_Line]], bands: list[tuple[float, float]]) -> None:
    """Remove running headers and footers and page numbers. A candidate is a line in the top or
    bottom margin of its page, or among the first or last two lines of its content; it goes when it
    is a page number, set smaller than the page's body text (a browser's print header: date, title,
    URL, "1/3"), or repeated (digits aside) on at least half the pages of a multi-page file."""
    edge = 2
    candidates = []
    for lines, (low, high) in zip(pages, bands, strict=True):
        ends = lines[:edge] + lines[-edge:]
        candidates.append({id(line) for line in lines if line.y < low or line.y > high} | set(map(id, ends)))
    counts: dict[str, int] = {}
    for lines, cand in zip(pages, candidates, strict=True):
        for key in {_norm_running(line.text) for line in lines if id(line) in cand}:
            counts[key] = counts.get(key, 0) + 1
    repeated = {k for k, n in counts.items() if len(pages) >= 2 and n >= max(2, len(pages) / 2)}
    for lines, cand, (low, high) in zip(pages, candidates, bands, strict=True):
        inner = [line.size for line in lines if low <= line.y <= high]
        # With nothing between the margins (a scanned page), margin text can only be a print header.
        body = statistics.median(inner) if inner else float("inf")
        lines[:] = [line for line in lines if not (id(line) in cand and (
            _norm_running(line.text) in repeated or _PAGE_NUMBER.match(line.text)
            or ((line.y < low or line.y > high) and line.size < SMALLER * body)))]
