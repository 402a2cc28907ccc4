"""Citation markers and the support check, the same for every back-end.

A reply cites sources as [n] (or [n, m]). Validation:
  - markers that point at no offered source are removed;
  - markers are renumbered 1..m in order of first use, and citations listed in that order;
  - each sentence is checked against every paragraph it cites. Supported means: most of the
    sentence's content words occur in the paragraph (token overlap, as in ALCE-style offline
    judges) AND every number, date and name in the sentence occurs there too;
  - a sentence with no marker is kept only if some offered paragraph supports it (the marker is
    then added); otherwise it is dropped, so no uncited claim reaches the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import STOPWORDS, sentence_spans, terms
from .types import AnswerSentence, Citation, Hit

MARKER = re.compile(r"\s*\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_LEAD = re.compile(rf"(?:{MARKER.pattern})+")
MIN_OVERLAP = 0.6
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"\b[A-Z][A-Za-z’'\-]+(?:\s+[A-Z][A-Za-z’'\-]+)*")
_NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "first", "second"}
_SENTENCE_STARTERS = STOPWORDS | {"professor", "prof", "dr", "mr", "ms"}


@dataclass(frozen=True)
class Support:
    supported: bool
    overlap: float  # share of the sentence's content words found in the paragraph
    missing: tuple[str, ...]  # numbers and names absent from the paragraph


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _names(sentence: str) -> list[str]:
    "Capitalised words, except a sentence's first word when it is an ordinary word."
    names = []
    for m in _NAME.finditer(sentence):
        words = m.group().split()
        if m.start() == 0 or sentence[: m.start()].rstrip().endswith((".", ":", "“", '"')):
            while words and words[0].lower() in _SENTENCE_STARTERS:
                words = words[1:]
        names.extend(w for w in words if w.lower() not in STOPWORDS)
    return names


def check_support(sentence: str, paragraph: str) -> Support:
    """Is the sentence backed by the paragraph?

    >>> p = "The award ceremony took place on October 5, 2023, during the IACH annual meeting held in Paris."
    >>> check_support("The IACH award was presented in Paris on October 5, 2023.", p).supported
    True
    >>> check_support("The IACH award was presented in London in 2019.", p).missing
    ('2019', 'London')
    """
    sent_terms = set(terms(sentence))
    para_terms = set(terms(paragraph))
    overlap = len(sent_terms & para_terms) / len(sent_terms) if sent_terms else 0.0
    para_numbers = _numbers(paragraph)
    para_lower = paragraph.lower()
    missing = sorted(n for n in _numbers(sentence) if n not in para_numbers)
    missing += [n for n in dict.fromkeys(_names(sentence)) if n.lower() not in para_lower
                and n.lower().rstrip("’'s") not in para_lower]
    return Support(overlap >= MIN_OVERLAP and not missing, overlap, tuple(missing))


@dataclass(frozen=True)
class Claim:
    text: str  # the sentence without its markers
    markers: tuple[int, ...]  # as written by the back-end


def split_claims(reply: str) -> list[Claim]:
    """Sentences of a reply with the markers that follow them ("... award [1]." or "... award. [1]").

    >>> [(c.text, c.markers) for c in split_claims("It won [1]. It grew. [2, 3] Done. [1][4]")]
    [('It won.', (1,)), ('It grew.', (2, 3)), ('Done.', (1, 4))]
    """
    claims = []
    spans = sentence_spans(reply)
    for i, (s, e) in enumerate(spans):
        # markers written just after a sentence's period belong to that sentence
        nxt = spans[i + 1][0] if i + 1 < len(spans) else len(reply)
        tail = reply[e:nxt]
        chunk = reply[s:e]
        lead = _LEAD.match(chunk)
        if lead and claims:  # "... award. [1][2] Next": markers trailing the previous sentence
            prev = claims.pop()
            extra = tuple(n for m in MARKER.finditer(lead.group()) for n in _ints(m.group(1)))
            claims.append(Claim(prev.text, prev.markers + extra))
            chunk = chunk[lead.end():]
        markers = tuple(n for m in MARKER.finditer(chunk + tail) for n in _ints(m.group(1)))
        text = MARKER.sub("", chunk).strip()
        text = re.sub(r"\s+([.,;:!?])", r"\1", text)
        if text:
            claims.append(Claim(text, markers))
    return claims


def _ints(group: str) -> tuple[int, ...]:
    return tuple(int(x) for x in group.split(","))


@dataclass(frozen=True)
class Validated:
    text: str
    citations: tuple[Citation, ...]
    dropped: tuple[str, ...]  # sentences removed: uncited and unsupported
    sentences: tuple[AnswerSentence, ...] = ()  # the kept sentences, each with its own support verdict


def validate(reply: str, offered: list[Hit]) -> Validated:
    "Check a back-end's reply against the sources it was offered (see the module docstring)."
    claims = split_claims(reply)
    renumber: dict[int, int] = {}  # offered index (1-based) -> marker shown
    verdicts: dict[int, list[bool]] = {}
    quotes: dict[int, list[tuple[int, int]]] = {}
    out, dropped, sentences = [], [], []
    for claim in claims:
        valid = [m for m in dict.fromkeys(claim.markers) if 1 <= m <= len(offered)]
        if not valid:
            valid = _best_supporting(claim.text, offered)
            if not valid:
                dropped.append(claim.text)
                continue
        shown, backed = [], []
        for m in valid:
            hit = offered[m - 1]
            support = check_support(claim.text, source_context(hit))
            backed.append(support.supported)
            renumber.setdefault(m, len(renumber) + 1)
            verdicts.setdefault(m, []).append(support.supported)
            span = _find(hit.text, claim.text)
            if span:
                quotes.setdefault(m, []).append(span)
            shown.append(renumber[m])
        out.append(f"{claim.text} " + "".join(f"[{n}]" for n in shown))
        sentences.append(AnswerSentence(claim.text, tuple(shown), any(backed)))
    citations = tuple(
        Citation(
            marker=shown, doc_id=h.doc_id, title=h.title, date=h.date, paragraph=h.paragraph, start=h.start,
            end=h.end, text=h.text, score=h.score, supported=all(verdicts[m]), quotes=tuple(quotes.get(m, ())),
            page=h.page,
        )
        for m, shown in sorted(renumber.items(), key=lambda kv: kv[1])
        for h in [offered[m - 1]]
    )
    return Validated(" ".join(out), citations, tuple(dropped), tuple(sentences))


def source_context(hit: Hit) -> str:
    """What a citation vouches for: its paragraph, and the record of the article it belongs to (title
    and publication date), which the reader sees beside every citation."""
    from .answer.dates import human

    return f"{hit.title}\n{human(hit.date)}\n{hit.text}"


def _best_supporting(sentence: str, offered: list[Hit]) -> list[int]:
    best = max(
        ((check_support(sentence, source_context(h)), i) for i, h in enumerate(offered, 1)),
        key=lambda si: si[0].overlap,
        default=None,
    )
    return [best[1]] if best and best[0].supported else []


def _find(paragraph: str, sentence: str) -> tuple[int, int] | None:
    """Where a quoted sentence sits in its paragraph, for highlighting (None for a paraphrase). A
    sentence that introduces its quote ("“Title” (date): quote") is found by the quote."""
    for probe in (sentence.rstrip(".!?"), sentence.split(": ", 1)[-1].rstrip(".!?")):
        i = paragraph.find(probe)
        if i >= 0 and probe:
            return i, i + len(probe)
    return None
