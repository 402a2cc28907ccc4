"""Text utilities shared by chunking, answering and the support check: sentence spans with offsets,
and word terms for overlap scoring. Regex-based on purpose: deterministic, fast, no model download.
"""

from __future__ import annotations

import re
from collections.abc import Container
from functools import lru_cache

_ABBREVIATIONS = {
    "dr", "prof", "mr", "mrs", "ms", "st", "no", "vs", "etc", "e.g", "i.e", "jr", "sr", "inc", "ltd",
    "co", "corp", "dept", "univ", "fig", "vol", "approx", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "a.m", "p.m", "ph.d", "m.d",
}
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by whitespace.
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)")
# A number with a decimal point or thousands separators is one word: "Python 3.7" is not about every
# 3 and 7 in the text, an impact factor of "54.4" is not "54", and "10,867" is "10867" as a reader types it
_WORD = re.compile(r"\d+(?:[.,]\d+)+|[A-Za-z0-9][A-Za-z0-9'’\-]*")
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_LINE = re.compile(r"[^\n]+")
_NEXT = re.compile(r"\s*(\S)")  # the first character after a candidate sentence end
_RUN_IN_ITEM = re.compile(r"[:\]]\s+\d{1,3}\Z")
_LOOK_BACK = 32  # a run of letters and dots longer than this before a '.' is no abbreviation
_TAIL = re.compile(rf"(?<![A-Za-z.])[A-Za-z.]{{1,{_LOOK_BACK}}}\Z")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each every few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves tell please give list name describe explain say said
    according article articles mention mentioned state stated""".split()
)


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each sentence, with surrounding whitespace trimmed. Lines are never joined:
    a heading line or a list item is its own sentence. Linear in len(text): every candidate end is
    judged by looking only at the word before it and the character after it, so a megabyte line
    with no sentence end (or a thousand lower-case continuations) costs one pass.

    >>> t = "Prof. Huang spoke. He won 2 awards!\\nAugust 18:"
    >>> [t[s:e] for s, e in sentence_spans(t)]
    ['Prof. Huang spoke.', 'He won 2 awards!', 'August 18:']
    >>> t = "Challenges remain: 1. Few new drugs. [1] 2. Less exchange."
    >>> [t[s:e] for s, e in sentence_spans(t)]
    ['Challenges remain: 1. Few new drugs.', '[1] 2. Less exchange.']
    """
    out = []
    for line in _LINE.finditer(text):
        ls, le = line.span()
        cut = ls
        for m in _END.finditer(text, ls, le):
            if not _next_starts_sentence(text, m.end(), le) or _is_abbreviation(text, m.start()):
                continue
            _trimmed(text, cut, m.end(), offset, out)
            cut = m.end()
        _trimmed(text, cut, le, offset, out)
    return out


def _trimmed(text: str, s: int, e: int, offset: int, out: list[tuple[int, int]]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        out.append((s + offset, e + offset))


def _is_abbreviation(text: str, dot: int) -> bool:
    "Whether the '.' at `dot` ends an abbreviation or an initial rather than a sentence."
    if text[dot] != ".":
        return False
    # A list item's number at the start of a line ("  1. Insufficient development ...") numbers the
    # sentence that follows; it ends nothing.
    head = text[max(0, dot - 4) : dot]
    line_start = head.rfind("\n") + 1 if "\n" in head else (0 if dot <= 4 else None)
    if line_start is not None and re.fullmatch(r"\s*\d{1,3}", head[line_start:]):
        return True
    # ... and so does one run into a line after a colon or a citation marker, as an answer quoting the
    # list joins its items: "challenges remain: 1. Insufficient ... [1] 2. Reduced ..."
    if _RUN_IN_ITEM.search(text, max(0, dot - 8), dot):
        return True
    # The run of letters and dots right before the dot ("e.g", "Prof", "J"), looked for in a
    # bounded window so the check costs the same on a megabyte line.
    m = _TAIL.search(text, max(0, dot - _LOOK_BACK), dot)
    if not m:
        return False
    w = m.group().lstrip(".").lower()
    return bool(w) and (w in _ABBREVIATIONS or len(w) == 1)  # an initial, as in "J. Smith"


def _next_starts_sentence(text: str, pos: int, line_end: int) -> bool:
    m = _NEXT.match(text, pos, line_end)
    return m is None or not m.group(1).islower()


# An ordinal whose superscript suffix lost the space after it when the page was flattened to text
# ("the 35<sup>th</sup> anniversary" -> "35thanniversary", "8thXiaoxiang"): two words
_GLUED_ORDINAL = re.compile(r"(?<![A-Za-z])(\d+(?:st|nd|rd|th))(?=[A-Za-z]{3})")


def words(text: str) -> list[str]:
    """Lower-cased word tokens, a typographic apostrophe written as a plain one (the stemmer drops the
    possessive "'s" only then: "Children’s Hospital" and "children's" are the same word).

    >>> words("Python 3.7 was cited 10,867 times at the 35thanniversary.")
    ['python', '3.7', 'was', 'cited', '10867', 'times', 'at', 'the', '35th', 'anniversary']
    >>> words("Hunan Children’s Hospital")
    ['hunan', "children's", 'hospital']
    """
    return [w.replace(",", "") if _THOUSANDS.match(w) else w.lower().replace("’", "'").strip("'-")
            for w in _WORD.findall(_GLUED_ORDINAL.sub(r"\1 ", text))]


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _analyse(text: str) -> list[str]:
    return _stemmer().stemWords([w for w in words(text) if w not in STOPWORDS and w])


_memo = lru_cache(maxsize=16384)(lambda text: tuple(_analyse(text)))
MEMO_CHARS = 2000  # sentences and questions are memoised; whole articles are not kept alive by the cache


def terms(text: str) -> list[str]:
    """Stemmed content words, stopwords dropped: the analyzer BM25 indexing and querying share, and
    what overlap scores count. Short texts are memoised: answering analyses the same sentences again."""
    return list(_memo(text)) if len(text) <= MEMO_CHARS else _analyse(text)


# Inflections a vocabulary of base words leaves out: it has "toxicity" and "lecture", not "toxicities", "lectured"
_SUFFIXES = ("s", "es", "ed", "d", "ing", "er", "ers", "r", "rs", "ly", "ies", "ied")


def base_form(word: str, vocabulary: Container[str]) -> str | None:
    """The vocabulary's form of a lower-case word: itself, or the word an inflection of it is made
    from; None for a word the vocabulary lacks (names, most technical terms, typos).

    >>> base_form("toxicities", {"toxicity"}), base_form("lectured", {"lecture"}), base_form("haikou", set())
    ('toxicity', 'lecture', None)
    """
    if word in vocabulary:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            for form in (stem, stem + "e", stem + "y"):
                if form in vocabulary:
                    return form
    return None
