"""Citation markers and the support check, the same for every back-end.

A reply cites sources as [n] (or [n, m]). Before validation a reply is cleaned (`clean_reply`): a
reasoning model's <think> block is removed, and other citation styles models use are rewritten as
[n]: [1-3], (Source 1), 【1】, ^1, [^1]. Validation:
  - markers that point at no offered source are removed;
  - markers are renumbered 1..m in order of first use, and citations listed in that order;
  - each sentence is checked against every paragraph it cites. Supported means: most of the
    sentence's content words occur in the paragraph (token overlap, as in ALCE-style offline
    judges) AND every number, date and name in the sentence occurs there too;
  - a sentence with no marker is kept only if some offered paragraph supports it (the marker is
    then added); otherwise it is dropped, so no uncited claim reaches the user;
  - every kept sentence gets its own verdict (AnswerSentence): supported when the paragraphs it
    cites, read together, back it. A citation's flag says whether all sentences citing it are
    backed by that paragraph alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .generation import CANNOT_ANSWER
from .text import STOPWORDS, sentence_spans, terms, words
from .types import AnswerSentence, Citation, Hit

MARKER = re.compile(r"\s*\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_LEAD = re.compile(rf"(?:{MARKER.pattern})+")
MIN_OVERLAP = 0.6
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"\b[A-Z][A-Za-z’'\-]+(?:\s+[A-Z][A-Za-z’'\-]+)*")
_NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "first", "second"}
_SENTENCE_STARTERS = STOPWORDS | {"professor", "prof", "dr", "mr", "ms"}

# Citation styles models write instead of [n]. A list inside one marker may use commas, "and", "&"
# or ranges ("1-3", "1 to 3"); ranges longer than _MAX_RANGE are not expanded (not a citation).
_ITEM = r"\d{1,3}(?:\s*(?:-|–|—|to)\s*\d{1,3})?"
_LIST = rf"{_ITEM}(?:\s*(?:,|;|，|、|\band\b|&)\s*{_ITEM})*"
_STYLES = (
    re.compile(rf"【\s*({_LIST})[^】\n]{{0,20}}】"),  # 【1】, and file-search style 【4:0†source】
    # (Source 1), [Sources 1 and 2], (ref. 3), (Source: [2])
    re.compile(rf"[(\[]\s*(?:sources?|refs?\.?|references?)\s*:?\s*\[?\s*({_LIST})\s*\]?\s*[)\]]", re.I),
    re.compile(rf"\[\^?\s*({_LIST})\s*\]"),  # [1], [1, 2], [1-3], and Markdown footnotes [^1]
    re.compile(r"(?<![\d^])\^\[?(\d{1,3})\]?(?![\d.,]\d)"),  # ^1, ^[1]; not 10^6 or x^2.5
)
_MAX_RANGE = 20
_REASONING_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.S | re.I)
_REASONING_CLOSE = re.compile(r"</(think|thinking|reasoning)>", re.I)
_REASONING_OPEN = re.compile(r"<(think|thinking|reasoning)>", re.I)
_ANSWER_LABEL = re.compile(r"^\s*(?:final\s+)?answer\s*:\s*", re.I)


def _expand(group: str) -> list[int] | None:
    "The numbers in a marker's list, ranges expanded; None when a range is not a citation range."
    out: list[int] = []
    for item in re.split(r"\s*(?:,|;|，|、|\band\b|&)\s*", group.strip()):
        bounds = [int(x) for x in re.findall(r"\d+", item)]
        if len(bounds) == 2:
            lo, hi = bounds
            if not 0 < lo <= hi or hi - lo > _MAX_RANGE:
                return None
            out.extend(range(lo, hi + 1))
        elif bounds:
            out.append(bounds[0])
    return out or None


def normalise_citations(text: str) -> str:
    """Every citation style models use, rewritten as [n] or [n, m].

    >>> normalise_citations("Paris (Source 1). Lyon 【2】. Nice [3-5]. Metz^6. Brest [^7]. Tours (Sources 1 and 2).")
    'Paris [1]. Lyon [2]. Nice [3, 4, 5]. Metz [6]. Brest [7]. Tours [1, 2].'
    >>> normalise_citations("10^6 cells in 2019 [2019-2024]")
    '10^6 cells in 2019 [2019-2024]'
    """
    def repl(m: re.Match) -> str:
        numbers = _expand(m.group(1))
        if numbers is None:
            return m.group(0)
        space = "" if m.start() == 0 or text[m.start() - 1].isspace() else " "
        return space + "[" + ", ".join(map(str, numbers)) + "]"

    for style in _STYLES:
        text = style.sub(repl, text)
    return text


def strip_reasoning(text: str) -> str:
    """A reply without a reasoning model's thinking: <think>...</think> blocks, a leading block
    whose opening tag the chat template supplied (only </think> appears), and an unclosed block.

    >>> strip_reasoning("The user asks... </think>  Paris [1].")
    'Paris [1].'
    >>> strip_reasoning("<think>hmm</think>Paris [1]. <think>more")
    'Paris [1].'
    """
    text = _REASONING_BLOCK.sub("", text)
    closes = list(_REASONING_CLOSE.finditer(text))
    if closes:
        text = text[closes[-1].end():]
    opened = _REASONING_OPEN.search(text)
    if opened:
        text = text[: opened.start()]
    return text.strip()


def clean_reply(reply: str) -> str:
    "A back-end's reply as validation reads it: reasoning removed, citations as [n], no 'Answer:' label."
    return normalise_citations(_ANSWER_LABEL.sub("", strip_reasoning(reply)))


def is_cannot_answer(reply: str) -> bool:
    """Is the reply the cannot-answer phrase itself (any case, punctuation, quotes or markers)?
    A reply that merely contains it - an echoed prompt quotes it - is not an abstention.

    >>> is_cannot_answer('"I cannot answer this from the articles" [1]')
    True
    >>> is_cannot_answer("If the sources do not contain the answer, reply exactly: " + CANNOT_ANSWER)
    False
    """
    return words(MARKER.sub(" ", clean_reply(reply))) == _CANNOT_ANSWER_WORDS


_CANNOT_ANSWER_WORDS = words(CANNOT_ANSWER)


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
    The reply is expected in [n] style already (see clean_reply).

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
    claims = split_claims(clean_reply(reply))
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
        # Backed by one paragraph it cites, or by them read together (a sentence may join two facts).
        together = len(valid) > 1 and check_support(
            claim.text, "\n".join(source_context(offered[m - 1]) for m in valid)).supported
        sentences.append(AnswerSentence(claim.text, tuple(shown), any(backed) or together))
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
