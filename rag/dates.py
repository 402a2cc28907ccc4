"""Publication dates. `Document.date` is when an article was published, never merely the first date
it mentions: a news story is full of event dates ("the meeting was held on May 27, 2022"), and a
reader who sees one of those in the date column is misled about how current the article is.

Where a publication date comes from, most reliable first:
  1. the file's own metadata: HTML <meta>/JSON-LD datePublished/<time>, read by rag.readers.html;
  2. a date line in the article's header (the lines above the body: "2022-08-17",
     "Published: March 3, 2024", "By Jane Doe | Mar. 3, 2024");
  3. a yearless date that opens the lede ("On February 23rd, ...", "BEIJING, Feb. 23 (Xinhua) --").
     A writer leaves out the year only for dates in the year of writing, and a news lede reports
     what just happened, so the story dates from that month. The year is the one the article gives
     alongside the same month elsewhere ("The 2024 Tandem Meetings were held on February 21-24"),
     or the only year it mentions at all. The result is month precision ("2024-02"): the day of
     publication is not stated, and inventing one would be a false precision.
Otherwise the article is undated (None).
"""

from __future__ import annotations

import re

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_MONTH_NUM = {m.lower(): i for i, m in enumerate(_MONTHS, 1)} | {m[:3].lower(): i for i, m in enumerate(_MONTHS, 1)}
_MONTH_NUM["sept"] = 9
_MONTH = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|" \
         r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_RANGE = r"(?:\s*(?:-|–|to)\s*\d{1,2}(?:st|nd|rd|th)?)?"
_ISO = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_MONTH_FIRST = re.compile(rf"\b{_MONTH}\s+{_DAY}{_RANGE},?\s+(\d{{4}})\b")  # February 23rd, 2024
_DAY_FIRST = re.compile(rf"\b{_DAY}{_RANGE}\s+{_MONTH}\s*,?\s+(\d{{4}})\b")  # 23 February 2024
_YEAR = re.compile(r"\b(19\d{2}|20\d{2})\b(?!\s*%)")
# A header line that is a date, maybe with a label or a byline: "Published: 2024-03-03", "By X | May 2, 2023".
HEADER_DATE_MAX_CHARS = 60
_LABEL = re.compile(r"^\s*(published|posted|date|released|issued|first published)(\s+on)?\s*[:\-–]?\s*", re.I)
# The opening of a lede: "On February 23rd," / "On Monday, Feb. 23," / "BEIJING, Feb. 23 (Xinhua) --".
_LEDE_DATE = re.compile(
    rf"^(?:(?:On|From|Between|Since)\s+)?(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?{_MONTH}\s+{_DAY}{_RANGE}\b"
    rf"|^[A-Z][A-Z .'-]{{1,40}}(?:,\s*[A-Za-z .]+)?,\s+{_MONTH}\s+{_DAY}\b"
)
_WITH_YEAR = re.compile(r"\s*,?\s*\d{4}\b")


def _iso(year: int, month: int, day: int | None = None) -> str | None:
    if not (1 <= month <= 12) or (day is not None and not 1 <= day <= 31) or not 1000 <= year <= 2999:
        return None
    return f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day is not None else "")


def _first_date(text: str) -> tuple[int, int, str] | None:
    "(start, end, ISO date) of the first full date (day, month and year) the text states."
    found = []
    if m := _ISO.search(text):
        found.append((m.start(), m.end(), _iso(int(m[1]), int(m[2]), int(m[3]))))
    if m := _MONTH_FIRST.search(text):
        found.append((m.start(), m.end(), _iso(int(m[3]), _MONTH_NUM[m[1].lower()], int(m[2]))))
    if m := _DAY_FIRST.search(text):
        found.append((m.start(), m.end(), _iso(int(m[3]), _MONTH_NUM[m[2].lower()], int(m[1]))))
    found = [f for f in found if f[2]]
    return min(found) if found else None


def find_date(text: str) -> str | None:
    "The first full date (day, month and year) the text states, as ISO yyyy-mm-dd."
    first = _first_date(text)
    return first[2] if first else None


def parse_date(value: str) -> str | None:
    "A metadata value (ISO 8601 such as 2024-02-23T10:00:00Z, or a prose date) as yyyy-mm-dd."
    value = value.strip()
    if m := re.match(r"(\d{4})-(\d{2})-(\d{2})", value):
        return _iso(int(m[1]), int(m[2]), int(m[3]))
    return find_date(value)


def header_date(line: str) -> str | None:
    """The date of a header line that is a date: alone, labelled ("Published: ..."), or in a byline
    ("By Jane Roe | 5 May 2023"). A sentence that mentions a date is not a date line."""
    if len(line) > HEADER_DATE_MAX_CHARS:
        return None
    text = _LABEL.sub("", line)
    found = _first_date(text)
    if not found:
        return None
    rest = re.sub(r"[|·•,;:()\[\]\-–—/]+", " ", text[: found[0]] + " " + text[found[1] :]).split()
    byline = bool(rest) and rest[0].lower() == "by"
    return found[2] if byline or len(rest) <= 2 else None


def lede_month(lede: str, text: str) -> str | None:
    "yyyy-mm from a yearless date opening the lede (see the module doc), or None."
    m = _LEDE_DATE.match(lede.lstrip())
    if not m or _WITH_YEAR.match(lede.lstrip(), m.end()):
        return None
    name = next(g for g in m.groups() if g and g.rstrip(".").lower() in _MONTH_NUM)
    month = _MONTH_NUM[name.rstrip(".").lower()]
    month_word = re.compile(rf"\b{_MONTHS[month - 1][:3]}", re.I)
    same_month, anywhere = set(), set()
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        years = {int(y) for y in _YEAR.findall(sentence)}
        anywhere |= years
        if month_word.search(sentence):
            same_month |= years
    for years in (same_month, anywhere):
        if len(years) == 1:
            return _iso(years.pop(), month)
    return None
