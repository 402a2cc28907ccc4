"""Dates in text and in questions, as ranges of ISO days, so "in 2025" can be compared with
"from January 17 to 19, 2025" and "the most recent" can order events.

News text states dates in a few shapes: "October 5, 2023", "5 October 2023", "February 21-24",
"from August 15 to 29, 2025", "2022-08-17", "May 2024", a bare year. A month and day without a year
("On February 23rd") takes the year of the nearest context: the paragraph, else the article's
publication date, else its first stated year (`resolve`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..types import Period

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
_ABBR = {m[:3]: i for i, m in enumerate(MONTHS, 1)} | {"sept": 9}
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"((?:19|20)\d\d)"
_TO = r"\s*(?:-|–|—|to|until|through)\s*"

# Most specific shapes first; each match consumes its text so a day range is not read twice.
_SHAPES = [
    ("iso", re.compile(rf"\b{_YEAR}[-/.](\d{{1,2}})[-/.](\d{{1,2}})\b")),
    # August 15 to September 2, 2025 / August 15 to 29, 2025 / February 21-24 / October 5, 2023
    ("mdy", re.compile(rf"\b({_MONTH})\s+{_DAY}(?:{_TO}(?:({_MONTH})\s+)?{_DAY})?(?:,?\s+{_YEAR})?\b", re.I)),
    # 15 to 29 August 2025 / 5 October 2023
    ("dmy", re.compile(rf"\b{_DAY}(?:{_TO}{_DAY})?\s+({_MONTH})(?:,?\s+{_YEAR})?\b", re.I)),
    ("my", re.compile(rf"\b({_MONTH})(?:\s+of)?,?\s+{_YEAR}\b", re.I)),
    ("y", re.compile(rf"\b{_YEAR}\b(?!\s*(?:percent|%|patients|cases|people|participants))")),
]
_DAYS_IN = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class Mention:
    "A date a text states: the span of days it covers, and whether it named its own year."

    start: str  # yyyy-mm-dd, or "????-mm-dd" until `resolve` gives it a year
    end: str
    span: tuple[int, int]  # character offsets in the text
    has_year: bool


def _month(word: str) -> int:
    return _ABBR[word.lower().rstrip(".")[:4] if word.lower().startswith("sept") else word.lower()[:3]]


def _day(y: str, m: int, d: int) -> str:
    return f"{y}-{m:02d}-{min(max(d, 1), _DAYS_IN[m - 1]):02d}"


@functools.lru_cache(maxsize=8192)
def mentions(text: str) -> tuple[Mention, ...]:
    """Every date the text states, in order.

    >>> [(m.start, m.end) for m in mentions("Held from January 17 to 19, 2025 in Haikou; see 2022-08-17.")]
    [('2025-01-17', '2025-01-19'), ('2022-08-17', '2022-08-17')]
    >>> [(m.start, m.end, m.has_year) for m in mentions("On February 23rd, the award")]
    [('????-02-23', '????-02-23', False)]
    """
    taken: list[tuple[int, int]] = []
    out = []
    for shape, rx in _SHAPES:
        for m in rx.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            got = _parse(shape, m)
            if got:
                taken.append(m.span())
                out.append(Mention(got[0], got[1], m.span(), not got[0].startswith("?")))
    return tuple(sorted(out, key=lambda x: x.span))


def _parse(shape: str, m: re.Match) -> tuple[str, str] | None:
    g = m.groups()
    if shape == "iso":
        y, mo, d = g[0], int(g[1]), int(g[2])
        return (_day(y, mo, d),) * 2 if 1 <= mo <= 12 and 1 <= d <= 31 else None
    if shape == "mdy":
        m1, d1, m2, d2, y = g
        mo1 = _month(m1)
        mo2 = _month(m2) if m2 else mo1
        if not 1 <= int(d1) <= 31 or (d2 and not 1 <= int(d2) <= 31):
            return None
        y = y or "????"
        return _day(y, mo1, int(d1)), _day(y, mo2, int(d2 or d1))
    if shape == "dmy":
        d1, d2, mo, y = g
        if not 1 <= int(d1) <= 31:
            return None
        y = y or "????"
        return _day(y, _month(mo), int(d1)), _day(y, _month(mo), int(d2 or d1))
    if shape == "my":
        mo, y = _month(g[0]), g[1]
        return _day(y, mo, 1), _day(y, mo, 31)
    return f"{g[0]}-01-01", f"{g[0]}-12-31"


def resolve(found: Sequence[Mention], *context_years: str | None) -> list[Mention]:
    "Give year-less mentions the first year the context offers (paragraph, then article)."
    year = next((y for y in context_years if y), None)
    if year is None:
        return [m for m in found if m.has_year]
    return [m if m.has_year else Mention(m.start.replace("????", year), m.end.replace("????", year), m.span, False)
            for m in found]


# A schedule gives each day a line of its own, "August 18:" or "August 21: In the morning, ...", and
# tells that day's events in the paragraphs below it without repeating the date.
_DATELINE = re.compile(rf"(?m)^[ \t]*(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?(?:{_MONTH}\s+{_DAY}|{_DAY}\s+{_MONTH})"
                       rf"(?:,?\s+{_YEAR})?\s*[:–—]", re.I)


def dateline(text: str) -> tuple[str, Mention] | None:
    r"""The last day heading a text holds (the one in force at its end), as written and as a date.

    >>> dateline("Daily Summary\n\nAugust 18:\n\nThe program opened.")[0]
    'August 18:'
    """
    found = [m for m in _DATELINE.finditer(text) if mentions(m.group())]
    return (found[-1].group().strip(), mentions(found[-1].group())[0]) if found else None


def datelines(text: str) -> list[Mention]:
    "Every day heading a text holds, in order."
    return [d for m in _DATELINE.finditer(text) for d in mentions(m.group())[:1]]


def first_year(text: str) -> str | None:
    m = re.search(rf"\b{_YEAR}\b", text)
    return m.group(1) if m else None


def days(m: Mention) -> int:
    "How many days a date spans (1 for a day, about 365 for a year)."
    try:
        a, b = dt.date.fromisoformat(m.start.replace("????", "2000")), dt.date.fromisoformat(m.end.replace("????", "2000"))
    except ValueError:
        return 10**6
    return (b - a).days + 1


# days an article states one by one, asked for as a run ("August 25 through August 28": its schedule
# gives "August 25:", "August 26:", ...)
_SPAN = re.compile(r"(?<!\d)\d{1,2}(?:st|nd|rd|th)?\s*(?:through|thru|to|until|till|and|[-–])\s*(?:[A-Za-z]+\.?\s+)?\d{1,2}(?!\d)")


def spans_days(period: Period | None) -> bool:
    """Does the question give its period as a run of days?

    >>> spans_days(period("Who lectured from August 25 through August 28?")), spans_days(period("Who spoke in 2023 and 2024?"))
    (True, False)
    """
    return bool(period and period.text and _SPAN.search(period.text))


def within_period(m: Mention, period: Period) -> bool:
    "Does the date lie wholly in the period?"
    return overlaps(Mention(m.start, m.start, m.span, m.has_year), period) and overlaps(Mention(m.end, m.end, m.span, m.has_year), period)


def overlaps(m: Mention, period: Period) -> bool:
    """Does a date fall in the period? A period of year-less days ("????-08-26") compares month and day."""
    if (period.start or "").startswith("????") or (period.end or "").startswith("????"):
        start, end = (period.start or "")[5:], (period.end or "")[5:]
        return (not start or m.end[5:] >= start) and (not end or m.start[5:] <= end)
    return (period.start is None or m.end >= period.start) and (period.end is None or m.start <= period.end)


# --- periods in questions -------------------------------------------------------------------------

_ORDER = re.compile(r"\b(most recent(?:ly)?|latest|newest|last|earliest|oldest|first)\b", re.I)
# "Put the events in chronological order", "Give me a timeline of the articles", "In what order did the
# events happen?", "from oldest to newest": every item, ordered by date (not the one at an end)
_SEQUENCE = re.compile(r"\bchronolog|\btime\s?line\b|\bin (?:date|time) order\b|\bin (?:what|which) order\b|\bsort(?:ed)? by date\b"
                       r"|\b(?:from )?(?:the )?(?:earliest|oldest|first) to (?:the )?(?:latest|newest|most recent|last)\b", re.I)
_BEFORE = re.compile(rf"\b(before|prior to|earlier than|until|up to)\s+(?:the\s+(?:end|start)\s+of\s+)?({_MONTH}\s+)?{_YEAR}\b", re.I)
_AFTER = re.compile(rf"\b(after|since|later than|from)\s+({_MONTH}\s+)?{_YEAR}\b", re.I)
_BETWEEN = re.compile(rf"\bbetween\s+{_YEAR}\s+and\s+{_YEAR}\b", re.I)
_SEASON = re.compile(rf"\b(spring|summer|autumn|fall|winter)\s+(?:of\s+)?{_YEAR}\b", re.I)
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (1, 2)}
# "Which releases came out in October?", "What happened in the summer?": a month or season of any year
_MONTH_ONLY = re.compile(rf"\b(?:in|during|throughout)\s+(?:the\s+month\s+of\s+)?({_MONTH})\b(?![\s,]+\d)", re.I)
_SEASON_ONLY = re.compile(r"\b(?:in|during|throughout)\s+(?:the\s+)?(spring|summer|autumn|fall|winter)\b(?![\s,]+(?:of\s+)?\d)", re.I)
# "first"/"last" order events only when they qualify an event or ask which came first: "the first
# meeting", "which happened first"; in a name ("the 1st Forum", "the First Congress") they do not.
_ORDER_NOUNS = r"(?:event|meeting|conference|article|story|report|item|news|one|ceremony|workshop|symposium|award|thing)s?"


def period(question: str) -> Period | None:
    """The time a question restricts itself to, or the order it asks for.

    >>> period("Which events took place in 2025?")
    Period(start='2025-01-01', end='2025-12-31', order=None, text='2025')
    >>> period("What happened before 2024?").end
    '2023-12-31'
    >>> period("Which of the articles is the most recent?").order
    'latest'
    >>> period("Put the events in chronological order, starting with the earliest.").order
    'chronological'
    >>> period("Which releases came out in October?")
    Period(start='????-10-01', end='????-10-31', order=None, text='October')
    """
    start = end = None
    text = ""
    if m := _BETWEEN.search(question):
        start, end, text = f"{m.group(1)}-01-01", f"{m.group(2)}-12-31", m.group()
    elif m := _BEFORE.search(question):
        y = int(m.group(3))
        if m.group(2):
            mo = _month(m.group(2).strip())
            end = _day(str(y), mo - 1, 31) if mo > 1 else f"{y - 1}-12-31"
        else:
            end = f"{y - 1}-12-31"
        text = m.group()
    elif m := _AFTER.search(question):
        y = int(m.group(3))
        after = m.group(1).lower() in ("after", "later than")
        if m.group(2):
            mo = _month(m.group(2).strip())
            start = _day(str(y), mo + 1, 1) if after and mo < 12 else (f"{y + 1}-01-01" if after else _day(str(y), mo, 1))
        else:
            start = f"{y + 1}-01-01" if after else f"{y}-01-01"
        text = m.group()
    elif m := _SEASON.search(question):
        a, b = _SEASONS[m.group(1).lower()]
        start, end, text = _day(m.group(2), a, 1), _day(m.group(2), b, 31), m.group()
    elif m := _MONTH_ONLY.search(question):
        mo = _month(m.group(1))
        start, end, text = _day("????", mo, 1), _day("????", mo, 31), m.group(1)
    elif m := _SEASON_ONLY.search(question):
        a, b = _SEASONS[m.group(1).lower()]
        start, end, text = _day("????", a, 1), _day("????", b, 31), m.group(1)
    else:
        found = [x for x in mentions(question) if x.has_year]
        # "What did the trainees do on August 26?": a day without a year is a period of the days with
        # that month and day (see overlaps), the year being whichever the articles' schedule has
        found = found or [x for x in mentions(question) if x.start[8:] != "??" and x.start[:4] == "????"]
        if found:
            start, end, text = found[0].start, found[-1].end, question[found[0].span[0] : found[-1].span[1]]
    order = None
    if _SEQUENCE.search(question):
        order = "chronological"
    elif m := _ORDER.search(question):
        word = m.group(1).lower()
        tail = question[m.end() :]
        head = question[: m.start()]
        if word in ("first", "last"):
            qualifies = re.match(rf"\s+(?:\w+\s+){{0,2}}?{_ORDER_NOUNS}\b", tail, re.I)
            # "Which came first?", "Which event was last?"; not the verb: "How long did it last?"
            came = re.search(r"\b(?:came|happened|took place|was held|were held|occurred|published|was|were|is|are)\s*$",
                             head, re.I)
            order = ("latest" if word == "last" else "earliest") if (qualifies or came) else None
        else:
            order = "latest" if word in ("most recent", "most recently", "latest", "newest") else "earliest"
    if start is None and end is None and order is None:
        return None
    return Period(start, end, order, text)


def human(iso: str | None) -> str:
    """An ISO date as news text writes it, at the precision it has (a Document's date can be
    yyyy-mm-dd, yyyy-mm or yyyy); '' for anything else.

    >>> human("2024-02-23"), human("2024-02"), human("2024"), human("2024-13")
    ('February 23, 2024', 'February 2024', '2024', '')
    """
    m = re.fullmatch(r"(\d{4})(?:-(\d\d)(?:-(\d\d))?)?", iso or "")
    if not m:
        return ""
    y, month, day = m.groups()
    if month is None:
        return y
    if not 1 <= int(month) <= 12:
        return ""
    name = MONTHS[int(month) - 1].capitalize()
    return f"{name} {int(day)}, {y}" if day else f"{name} {y}"


def lead_date(text: str) -> str:
    """The first full date a text states (an article's lead, when it carries no publication date:
    news opens with when the event happened), ISO, or ''.

    >>> lead_date("From January 17 to 19, 2025, the conference was held in Haikou.")
    '2025-01-17'
    """
    found = [m for m in mentions(text) if m.has_year]
    return found[0].start if found else ""
