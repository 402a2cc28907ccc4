"""Candidate sentences: every sentence of the evidence's paragraphs, scored against the question.

A sentence's score combines
  - dense similarity of its vector (computed at index time) with the query vector;
  - coverage: the IDF-weighted share of the question's content terms it contains (half credit for
    terms found elsewhere in its paragraph or the article title), each term also weighted by how
    well it separates the candidates: the topic every candidate shares says little about which one
    answers, the focus much;
  - the paragraph's retrieval score, as a small prior;
  - the question's names it states, each weighted by how few candidates state it;
  - a bonus when it states exactly the kind of thing asked (a definition, a named award, members of
    the kind: "enterprises including ..."), or sits where the conversation points ("after that");
and is cut when the sentence lacks what the question asks for: its answer type (a date for "when",
a number for "how many", a person for "who" ...; has_slot), the question's period ("in 2025"), a
future statement for a question about the future, or repeats the last answer for "what else".

`Candidate` keeps the parts, so answerability (rag/answer/answerability.py) can judge the best one.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..text import STOPWORDS, terms
from ..types import Analysis, Corpus, Evidence, Hit, Sentence
from . import dates

W_DENSE, W_COVER, W_PARA = 0.5, 0.5, 0.1
# A question naming someone or something is about the sentences that name it: the share of the
# question's names a sentence states itself ("Dr. Jing Zhao spoke ... What was the topic?" is answered
# by the sentence naming Jing Zhao, not by one naming another Zhao)
W_NAMES = 0.15
CONTEXT_WEIGHT = 0.5  # a question term found elsewhere in the paragraph (or the title) counts this much
TYPE_PENALTY = 0.6  # score factor when the sentence lacks the kind of answer asked for
PERIOD_PENALTY = 0.5  # ... or states only dates outside the question's period
BONUS = 0.1  # the sentence states exactly the kind of thing asked for (a definition, a named award)
TEMPLATE_PENALTY = 0.5  # ... of a sentence whose shape TEMPLATE_ARTICLES or more of the evidence's articles repeat
TEMPLATE_ARTICLES = 3
SAID_PENALTY = 0.4  # "What else ...?": score factor of a sentence the last answer already gave

_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
                 r"thousand|million|billion|dozen|half|double|twofold|threefold|fourfold|tenfold|twentyfold|"
                 r"several|dozens|hundreds|thousands")
# a count or measure, not an ordinal ("the 8th symposium" says nothing about how many)
# (even glued to the next word, as scraped text has it: "the 35thanniversary")
_COUNT = re.compile(rf"\d+(?:[.,]\d+)*(?!\d|st|nd|rd|th)(?:\s*(?:%|percent|per cent))?|\b(?:{_NUMBER_WORDS})\b", re.I)
# "What was the budget?" is answered by an amount of money, not by the number of trainees
# (lower case: "the Spanish Organ Donation Foundation" names no sum)
_MONEY_Q = re.compile(r"\b(?:budget|cost|costs|price|fee|fees|salary|funding|revenue|spending|spent|paid|pay|"
                      r"how much money|money|cash|prize money|worth|investment|invested)\b")
_MONEY = re.compile(r"[$€£¥]|\b(?:dollars?|euros?|pounds?|yuan|rmb|cny|usd|eur|gbp|yen|rupees?|francs?|"
                    r"(?:thousand|million|billion|trillion)\b)", re.I)
# Words that head an organisation, event or thing rather than a person: "Peking University" is no
# one's name. General English, so it holds on any corpus of news.
_NOT_PERSON = re.compile(r"\b(?:University|Hospital|Institute|Institution|Society|Center|Centre|Academy|Committee|"
                         r"Association|Foundation|Ministry|Department|Conference|Congress|Meeting|Meetings|Award|"
                         r"Protocol|Laboratory|Lab|Bank|Company|Group|Council|Commission|Organization|"
                         r"Organisation|Agency|Office|Bureau|School|College|Forum|Symposium|Workshop|Program|"
                         r"Programme|Project|Team|Network|Journal|News|Day|Week|Year|Street|Road|City|Province|"
                         r"Republic|Union|Party|Corporation|Inc|Ltd|Hall|Park|Museum|Station|Airport|Board|"
                         r"Federation|Alliance|Council|Court|Church|Club|Press|Times|Post|Daily|Health|Medical|"
                         r"Medicine|Science|Sciences|Research|Clinical|International|National|Chinese|American|"
                         r"European|Asian|Global|World|General|Disease|Diseases|Syndrome|Syndromes|Therapy|Cancer)\b")
_HONORIFIC = r"(?:Prof\.?|Professor|Dr\.?|Mr\.?|Mrs\.?|Ms\.?|Sir|Dame|President|Director|Chair(?:man|woman)?|Dean|Minister|Secretary)"
# "Dr.. Dina Garniasih": scraped news doubles a title's full stop now and then
_TITLED = re.compile(rf"\b{_HONORIFIC}\.?\s+([A-Z][\w’'\-]+(?:\s+[A-Z][\w’'\-]+){{0,2}})")
# A run of capitalised words, joined by the small words names and organisations contain.
_CAPRUN = re.compile(r"[A-Z][\w’'\-]*\.?(?:\s+(?:(?:&|of|and|the|for|de|van|von|da|di|le|la)\s+)*[A-Z][\w’'\-]*\.?)*")
_FUTURE_Q = re.compile(r"\b(?:will|next|upcoming|future|plan(?:s|ned)? to|going to)\b", re.I)
_FUTURE_S = re.compile(r"\b(?:will|would|next|upcoming|future|plans?|planned|aims?|intends?|going to|forward|ahead|"
                       r"prospects?|to be held|shall|expects?|expected)\b", re.I)
_LIST_ITEM = re.compile(r"^(?:\d{1,2}[.)]|[•·▪●◦\-*–])\s")


# What people do in news sentences, right after their name: "Michael Verneris told the meeting".
_ACTS = (r"said|says|told|tells|delivered|presented|presents|gave|gives|introduced|lectured|shared|noted|praised|"
         r"reported|emphasi[sz]ed|explained|spoke|speaks|chaired|chairs|hosted|hosts|signed|received|receives|won|"
         r"wins|led|leads|founded|serves|served|stated|added|announced|highlighted|discussed|described|welcomed|"
         r"attended|joined|visited|warned|argued|believes|believed|thanked|opened|closed|addressed|is|was|has|had|"
         r"did|does|made|makes|wrote|writes|created|developed|designed|implemented|contributed|proposed|invented|"
         r"built|established|launched|organi[sz]ed|completed|performed|conducted|taught|published|suggested|"
         r"recommended|pointed")
# ... or a title after the comma, capitalised as titles are ("Zhao Weihua, Party secretary", ", Vice President
# of"), told from a place's region ("San Antonio, Texas, the") by the lower-case word that follows it
_ROLE_AFTER = re.compile(rf"^(?:’s?|'s?)?\s*(?:,\s*(?:the\s+|a\s+|an\s+)?[a-z]|,\s*(?:[A-Z][a-z]+\s+){{1,2}}(?!and\b|or\b)[a-z]"
                         rf"|\s+(?:{_ACTS})\b|\s*\()")
# "contributed by Emily Morehouse", "an interview with Jun Ma", "shrunk thanks to Fredrik Lundh"
_BY = re.compile(r"\b(?:by|with|thanks to|according to|courtesy of)\s+$")
_PLACE_BEFORE = re.compile(r"(?:\b(?:in|at|to|from|near|across|throughout|within|visited|toured|reached|"
                           r"such as|including|like)|\b(?:city|town|province|state|capital|region|county|country) of)"
                           r"\s+(?:the\s+)?$")


def _runs(text: str):
    "Capitalised runs, without a leading ordinary word, month or honorific: (name, start, end)."
    for m in _CAPRUN.finditer(text):
        words = m.group().split()
        start = m.start()
        while words and (words[0].lower() in STOPWORDS or words[0].lower().rstrip(".") in dates.MONTHS
                         or re.fullmatch(_HONORIFIC, words[0])):
            start = text.index(words[1], start + len(words[0])) if len(words) > 1 else m.end()
            words = words[1:]
        if words:
            yield " ".join(words).rstrip(".’'"), start, m.end()


@functools.lru_cache(maxsize=8192)
def person_names(text: str) -> list[str]:
    """Names of people: a name after an honorific ("Professor Jun Ma"), or a run of two or three
    capitalised words, naming no organisation or event, that is followed by what people do in
    news sentences: a role after a comma ("Michael Verneris, chair of ..."), a verb of speech or
    action ("... told the meeting"), or a bracket; or that follows "by" ("contributed by Emily Morehouse").

    >>> person_names("The award went to Professor Jun Ma of Peking University, said Michael Verneris.")
    ['Jun Ma']
    >>> person_names("Michael Verneris, chair of the committee, spoke. Multiple Myeloma committees met.")
    ['Michael Verneris']
    >>> person_names("Tim Peters did much of the benchmarking, thanks to Fredrik Lundh.")
    ['Tim Peters', 'Fredrik Lundh']
    """
    out = [m.group(1) for m in _TITLED.finditer(text) if not _NOT_PERSON.search(m.group(1))]
    for name, start, end in _runs(text):
        cue = _ROLE_AFTER.match(text[end:]) or _BY.search(text[:start])
        # (a run opening with an acronym is a title or an organisation: "CTO of Juventas")
        if 2 <= len(name.split()) <= 3 and not _NOT_PERSON.search(name) and cue and not re.match(r"[A-Z]{2,}\b", name) \
                and not any(name in o or o in name for o in out):
            out.append(name)
    return out


# An institution is where something happened after a verb of going or meeting ("visited Tianjin
# University", "held at the Peking Union Medical College"), not in an affiliation ("Director of the
# Institute at Peking University")
_VISITED = re.compile(r"\b(?:visited|visit|toured|tour|went to|go to|moved to|travel(?:l)?ed to|returned to|arrived at|"
                      r"held at|took place at|hosted at|met at|gathered at|convened at)\s+(?:the\s+)?$", re.I)


def _places(sentence: str, institutions: bool = False) -> list[str]:
    """Names that can be places: capitalised runs naming no organisation, event or person, after a
    preposition of place, a visit, or in a list ("held in Paris", "countries such as South Korea,
    Italy and France", "toured Juventas’ industrial base"). With `institutions`, organisations count
    too: "Where did they go?" is answered by "visited Tianjin University", "Which city?" is not."""
    people = person_names(sentence)
    out: list[str] = []
    after = -1  # end of the last place found: "from Thailand, Belarus, and Egypt" goes on listing places
    for name, start, end in _runs(sentence):
        listed = after >= 0 and bool(_LIST_ON.fullmatch(sentence[after:start]))
        # an acronym marks an organisation or a programme ("the CSCO Leukemia committee"), not a place
        if name not in people and (listed or _PLACE_BEFORE.search(sentence[:start])) \
                and not re.search(r"\b[A-Z]{3,}\b", name) \
                and (not _NOT_PERSON.search(name) or institutions and _VISITED.search(sentence[:start])):
            # "Italy and France" is two places (an organisation's "and" is ruled out above)
            out += [part for part in re.split(r"\s+and\s+", name) if part not in people]
            after = end
        else:
            after = -1
    return out


_LIST_ON = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)(?:the\s+)?")


def slot_values(answer_type: str | None, sentence: str, where: bool = False) -> list[str]:
    """The values of the asked-for type a sentence states: its dates, numbers, people or places
    (institutions too, for a "where" that names no kind of place)."""
    if answer_type == "date":
        return [sentence[slice(*m.span)] for m in dates.mentions(sentence)]
    if answer_type == "number":
        text = sentence
        for m in reversed(dates.mentions(sentence)):
            text = text[: m.span[0]] + " " + text[m.span[1] :]
        return _COUNT.findall(text)
    if answer_type == "person":
        return person_names(sentence)
    if answer_type == "place":
        return _places(sentence, institutions=where)
    return []



def has_slot(analysis: Analysis, sentence: str) -> bool:
    """Does the sentence hold what the question asks for, beyond what the question itself says? An
    answer to "Which hotel in Haikou hosted it?" must name something other than Haikou; one to "How
    old is Jun Ma?" must state a number. Questions of no particular type always pass."""
    kind = analysis.answer_type
    if not names_kind(analysis, sentence):
        return False
    if kind == "expansion":
        abbr = re.escape(analysis.noun)
        return bool(re.search(rf"\(\s*{abbr}\s*\)|\b{abbr}\s*\(", sentence))
    if kind not in ("date", "number", "person", "place"):
        return True  # "which <noun>" names too many kinds of thing to check; a named one scores a bonus instead
    asked = analysis.question.lower()
    where = bool(re.match(r"\s*(?:and\s+)?where\b", asked))  # names no kind of place: any will do
    values = slot_values(kind, sentence, where)
    if kind == "number" and _MONEY_Q.search(asked) and not _MONEY.search(sentence):
        return False
    if kind == "number" and _DURATION_Q.search(asked):
        # "How long did the workshop last?" is answered by a span of time ("from August 15 to 29",
        # "a two-week course"), not by a day of it
        return bool(_DURATION.search(sentence))
    if kind == "number" and _AGE_Q.search(asked) and not _AGE.search(sentence):
        return False  # "How old was he?" is answered by an age, not by "3-year survival"
    if kind == "number" and re.search(r"\bhow many\b", asked):
        # a count, not the length of something ("a two-week course" says nothing of how many came)
        values = [v for v in values if not re.search(rf"\b{re.escape(v)}[- ](?:year|month|week|day|hour|minute)s?\b",
                                                     sentence, re.I)]
        # ... nor a share or a factor ("from 20 to 70 percent", "a twentyfold increase" say how much
        # something changed, not how many there are), nor a vague quantity ("several participants")
        values = [v for v in values if not re.search(r"%|percent|per cent|fold$|^(?:several|dozens|hundreds|thousands)$",
                                                     v, re.I)]
    if kind == "date" and _YEAR_Q.search(asked):
        # "In what year ...?" is not answered by "August 22": the sentence must state a year itself
        values = [v for v in values if re.search(r"\b\d{4}\b", v)]
    return any(v.lower() not in asked for v in values)


def names_kind(analysis: Analysis, sentence: str) -> bool:
    """A question asking which hotel, university or hospital is answered by a sentence naming one, and
    English names those by their kind ("Peking University", "the Hilton Hotel"): a sentence that names
    a city but no hotel, or a person but no university, does not say. True for other questions."""
    m = _BUILT_PLACE.search(analysis.question)
    if not m:
        return True
    kind = m.group(1).split()
    # "hotel(s)", "universit(y|ies)": the stem; "convention center/centre": the first word, then either spelling
    said = rf"\b{re.escape(kind[0])}\s+cent(?:er|re)" if len(kind) > 1 else rf"\b{kind[0][:4]}"
    return bool(re.search(said, sentence, re.I))


_DURATION_Q = re.compile(r"\bhow long\b(?!\s+(?:ago|after|before|since))|\b(?:for )?how many (?:days|weeks|months|years|hours)\b"
                         r"|\b(?:what|which) (?:was|is) the (?:duration|length)\b", re.I)
_DURATION = re.compile(rf"\b(?:\d+(?:\.\d+)?|{_NUMBER_WORDS}|a|an)[- ](?:days?|weeks?|months?|years?|hours?|minutes?|decades?)\b"
                       r"|\bfrom\s+\w+\s+\d{1,2}(?:st|nd|rd|th)?\s+(?:to|until|through)\s+(?:\w+\s+)?\d{1,2}\b"
                       r"|\b\d{1,2}\s*[-–]\s*\d{1,2}\b|\b(?:weeks?|months?|years?|decades?|days?)[- ]long\b", re.I)
_AGE_Q = re.compile(r"\bhow old\b|\b(?:what|which)\s+age\b|\bat what age\b", re.I)
_AGE = re.compile(r"\b\d{1,3}[- ]years?[- ]old\b|\b\d{1,3}-year-old\b|\baged?\s+\d{1,3}\b|\bage of \d{1,3}\b|"
                  r"\bin (?:his|her|their) (?:twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)\b", re.I)
_YEAR_Q = re.compile(r"\b(?:what|which)\s+years?\b|\byear\s+(?:was|were|did|does)\b", re.I)
# Places a name after "in" does not identify by itself: a hotel, venue or building is called one
# ("the Hilton Hotel", "the venue"), where a city or country is just named ("held in Paris").
_BUILT_PLACE = re.compile(r"\b(?:which|what)\s+(?:\w+\s+)?(hotel|venue|building|site|hall|stadium|campus|room|"
                          r"auditorium|theat(?:er|re)|restaurant|airport|station|facility|hospital|university|"
                          r"college|school|museum|(?:convention|conference|exhibition|congress)\s+cent(?:er|re))s?\b"
                          # the head noun, not a modifier ("which hospital centres" asks for centres)
                          r"(?=\s*[?,.;]|\s*$|\s+(?:is|was|are|were|did|does|do|has|have|had|will|would|can|could|in|at|"
                          r"of|for|on|to|by|with|from|that|where|or|and|hosted|held|houses?)\b)", re.I)


def definition_pattern(analysis: Analysis) -> re.Pattern | None:
    """For "What is X?", a sentence that defines X: "X is ...", "... known as X", "X (...) refers to".

    >>> from rag.answer.analysis import analyse
    >>> bool(definition_pattern(analyse("What is the Beijing Protocol?")).search("a method known as the “Beijing Protocol.”"))
    True
    """
    m = re.match(r"\s*(?:what|who)\s+(?:exactly\s+|really\s+|actually\s+)?(?:is|are|was|were)\s+(?:the\s+|a\s+|an\s+)?"
                 r"(.{2,60}?)\s*\??\s*$", analysis.question, re.I)
    if not m:
        return None
    x = r"\W{0,3}\s*".join(map(re.escape, m.group(1).split()))
    q = r"[“\"‘'(]?"
    return re.compile(rf"\b(?:known as|called|named|termed|dubbed)\s+(?:the\s+)?{q}{x}"
                      rf"|\b{x}\W{{0,3}}\s+(?:\([^)]*\)\s+)?(?:is|are|was|were|refers to|means|,)\b", re.I)


def named_pattern(analysis: Analysis) -> re.Pattern | None:
    """For "which/what <noun>" questions, a proper name headed by that noun: "What awards..." ->
    "Distinguished Service Award", "Which university..." -> "Peking University"."""
    if not analysis.noun or analysis.answer_type == "expansion":
        return None
    return re.compile(rf"(?:[A-Z][\w’'&.-]*\s+){{1,6}}{analysis.noun.capitalize()}\w*\b")


def members_pattern(analysis: Analysis) -> re.Pattern | None:
    """For "which/what <noun>s" questions, a sentence naming members of that kind: "enterprises
    including Union Precision, Vcanbio ...", "countries such as South Korea"."""
    if not analysis.noun or analysis.answer_type == "expansion":
        return None
    return re.compile(rf"\b{re.escape(analysis.noun)}\w*\s*(?:,\s*)?(?:including|such as|like|namely|:)\s+(?:the\s+)?[A-Z]",
                      re.I)


CHECKED_TYPES = ("date", "number", "person", "place", "expansion")


def checkable(analysis: Analysis) -> bool:
    """Can a sentence be checked for what the question asks? Answer types a sentence can be checked
    for reliably (a date, a number, a person's name, a place, the expansion of an abbreviation), a
    question about the future, a question asking which hotel or university. Other "which <noun>"
    questions name too many kinds of thing to check."""
    return analysis.answer_type in CHECKED_TYPES or asks_future(analysis) or bool(_BUILT_PLACE.search(analysis.question))


def named_things(c: Candidate, a: Analysis) -> set[str]:
    """What a sentence names of the kind asked for, beyond what the question names: the people of a
    "who" question, the places of a "where", the named things of a "which awards". A further sentence
    adds to an answer when it names something new. (Not a "when" or "how many": those ask for one
    value, and another date or number is about something else.)"""
    named = named_pattern(a)
    found = set(named.findall(c.text)) if named else set()
    if a.answer_type not in ("person", "place"):
        return found
    return found | {v for v in slot_values(a.answer_type, c.text) if v.lower() not in a.question.lower()}


def asks_future(analysis: Analysis) -> bool:
    "A question about what will happen: only a sentence about the future answers it."
    return bool(_FUTURE_Q.search(analysis.question))


def is_list_item(sentence: str) -> bool:
    "A numbered or bulleted line: '1. Insufficient ...', '• Chair, ...'."
    return bool(_LIST_ITEM.match(sentence))


def is_heading(sentence: str) -> bool:
    "A label, not a statement: no closing punctuation, short, not a list item."
    return (not sentence.rstrip("\"'”’)").endswith((".", "!", "?")) and len(sentence.split()) < 8
            and not is_list_item(sentence))


@dataclass(frozen=True)
class Candidate:
    score: float
    hit: Hit  # the paragraph it is in
    sentence: Sentence
    text: str
    terms: frozenset[str]
    dense: float
    cover: float  # own coverage of the question's weighted terms, 0..1
    context: float  # coverage by the sentence, its paragraph and its article title together, 0..1
    type_ok: bool  # it states a value of the asked-for type that the question does not (has_slot)
    period_ok: bool
    anchored: bool  # where the conversation points: "what came next" is in or after the last answer's paragraphs
    year: str | None  # the year its year-less dates are in (paragraph, article or publication)
    dates: tuple[dates.Mention, ...]  # the dates the sentence states, years resolved
    vec: np.ndarray  # the sentence's vector
    day: Dateline | None = None  # the schedule day it is told under, for questions about dates

    @property
    def when(self) -> tuple[dates.Mention, ...]:
        "The dates it states, else its schedule day's."
        return self.dates or ((self.day.date,) if self.day else ())


@dataclass(frozen=True)
class Dateline:
    "A schedule's day heading ('August 28:') that a sentence below it is dated by."

    hit: Hit  # the paragraph holding the heading
    text: str  # as written
    date: dates.Mention  # year resolved


LOOKBACK = 8  # paragraphs above a sentence searched for the day heading it is told under


def dateline(corpus: Corpus, hit: Hit, offset: int, year: str | None) -> Dateline | None:
    """The day heading a sentence (at char `offset` of the article) is told under: the last one above
    it in its paragraph, else in the paragraphs before, up to a heading without a date (a new
    section: "Program Implementation") or LOOKBACK paragraphs."""
    above = hit.text[: max(offset - hit.start, 0)]
    for n in range(hit.paragraph, max(hit.paragraph - LOOKBACK, 0), -1):
        para = hit if n == hit.paragraph else corpus.paragraph(hit.doc_id, n)
        text = above if n == hit.paragraph else para.text
        found = dates.dateline(text)
        if found:
            (date,) = dates.resolve([found[1]], year) or [found[1]]
            return Dateline(para, found[0], date)
        if n != hit.paragraph and is_heading(para.text.split("\n", 1)[0].strip()):
            return None
    return None


def _discrimination(term: str, pool: list[frozenset[str]]) -> float:
    """How well a question term tells the candidate sentences apart, in (0, 1]: a term in every
    candidate (the topic) says little about which one answers; a term in few (the focus) says much."""
    n = len(pool)
    df = sum(term in p for p in pool)
    return math.log((n + 1) / (df + 0.5)) / math.log((n + 1) / 0.5) if n else 1.0


def candidates(evidence: Evidence, hits: Sequence[Hit] | None = None, analysis: Analysis | None = None,
               qvec: np.ndarray | None = None) -> list[Candidate]:
    """Every non-heading sentence of the hits (default: the evidence's), best first. `analysis` and
    `qvec` default to the evidence's; a comparison scores each side against its own."""
    hits = list(evidence.hits if hits is None else hits)
    analysis = analysis or evidence.analysis
    qvec = evidence.qvec if qvec is None else qvec
    corpus: Corpus = evidence.corpus
    if not hits:
        return []
    per_para, vectors = corpus.sentences([h.key for h in hits])
    texts = [[h.text[s.start - h.start : s.end - h.start] for s in sents] for h, sents in zip(hits, per_para, strict=True)]
    pool = [frozenset(terms(t)) for ts in texts for t in ts]
    qterms = list(dict.fromkeys(analysis.terms))
    weights = dict(zip(qterms, corpus.idf(qterms), strict=True))
    qweight = {t: weights[t] * _discrimination(t, pool) for t in qterms}
    total = sum(qweight.values()) or 1.0
    dense = vectors @ qvec if len(vectors) else np.zeros(0)
    defines = definition_pattern(analysis) if analysis.answer_type == "definition" else None
    named = named_pattern(analysis)
    members = members_pattern(analysis)
    future = asks_future(analysis)
    top = max((h.score for h in hits), default=1.0) or 1.0
    said = _plain(evidence.context.said)
    lowered = [t.lower() for ts in texts for t in ts]
    # A sentence every article repeats with other numbers ("This article explains the new features in
    # Python 3.9, compared to 3.8.") is the collection's template, not news: it matches a question's
    # names in every article and tells nothing about any
    shapes: dict[str, set[str]] = {}
    for hit, ts in zip(hits, texts, strict=True):
        for t in ts:
            shapes.setdefault(_shape(t), set()).add(hit.doc_id)
    # a name most candidates state ("Huang" in questions about Huang) tells them apart no better than the topic
    qnames = {n: math.log((len(lowered) + 1) / (sum(n in t for t in lowered) + 0.5)) / math.log((len(lowered) + 1) / 0.5)
              for n in (x.lower() for x in analysis.specific if not x.isdigit())}
    near = set(evidence.context.near)
    dated = analysis.answer_type == "date" or analysis.period is not None  # schedule days matter
    dated_in = analysis.period is not None and (analysis.period.start or analysis.period.end) is not None
    out: list[Candidate] = []
    at = 0
    for hit, sents, ts in zip(hits, per_para, texts, strict=True):
        context_terms = set(terms(hit.text)) | set(terms(hit.title))
        context = sum(qweight[t] for t in qterms if t in context_terms)
        para = max(hit.score, 0.0) / top
        # the year a year-less date ("August 26: ...", "On February 23rd") is in: its paragraph's first
        # year, else the publication's, else its article's (a schedule states the year once, in the lead)
        year = dates.first_year(hit.text) or (hit.date or "")[:4] or dates.first_year(corpus.article(hit.doc_id).text) or None
        paragraph_day = dateline(corpus, hit, hit.end, year) if dated else None
        intro: frozenset[str] = frozenset()
        for j, (s, text) in enumerate(zip(sents, ts, strict=True)):
            d = float(dense[at + j])
            # "However, challenges remain: 1. Insufficient drugs ... 2. ...": an item says what it is
            # an instance of only through the sentence introducing the list, so it shares its words
            item = is_list_item(text)
            if not item:
                intro = pool[at + j] if text.rstrip().endswith(":") else frozenset()
            if is_heading(text):
                continue
            found = tuple(dates.resolve(dates.mentions(text), dates.first_year(text), year))
            # a sentence of a schedule is dated by its day's heading: "On which day did X lecture?" is
            # answered by "In the morning, X presented ..." under "August 28:", and "What did they do
            # on August 20?" by the sentences under "August 20:" (whose words they share). Not a
            # question about the future: a schedule tells what was done.
            day = (paragraph_day if paragraph_day is None or paragraph_day.hit.key != hit.key
                   else dateline(corpus, hit, s.start, year)) if dated and not found and not future else None
            sterms = pool[at + j] | intro if item else pool[at + j]
            if day is not None:
                sterms |= frozenset(terms(day.text))
            own = sum(qweight[t] for t in qterms if t in sterms)
            cover = (own + CONTEXT_WEIGHT * (context - own)) / total
            score = W_DENSE * d + W_COVER * cover + W_PARA * para
            if qnames:
                low = lowered[at + j]
                score += W_NAMES * sum(w for n, w in qnames.items() if n in low) / len(qnames)
            slot = has_slot(analysis, text) or (day is not None and analysis.answer_type == "date"
                                                and has_slot(analysis, f"{day.text} {text}"))
            # a question about what will happen is answered only by a sentence about the future
            type_ok = slot and (not future or bool(_FUTURE_S.search(text)))
            if not type_ok:
                score *= TYPE_PENALTY
            period_ok = _in_period(found or ((day.date,) if day else ()), analysis)
            if not period_ok:
                score *= PERIOD_PENALTY
            elif dated_in and any(dates.within_period(m, analysis.period) for m in found or ((day.date,) if day else ())):
                # "What happened on August 22?": a sentence dated that day says; an undated one, or one
                # spanning more ("from August 15 to 29"), may not be about it
                score += BONUS
            if any(p is not None and p.search(text) for p in (defines, named, members)):
                score += BONUS
            if hit.key in near:
                score += BONUS  # "What did they do next?": the last answer's paragraphs and those after
            if said and _plain(text) in said:  # a sentence the last answer gave
                score *= SAID_PENALTY
            # (one stating a date is each article's record of it: "Python 3.9 was released on October 5, 2020.")
            if not found and len(shapes[_shape(text)]) >= TEMPLATE_ARTICLES:
                score *= TEMPLATE_PENALTY
            out.append(Candidate(score, hit, s, text, sterms, d, own / total, context / total, type_ok, period_ok,
                                 hit.key in near, year, found, vectors[at + j], day))
        at += len(sents)
    return sorted(out, key=lambda c: -c.score)


def _shape(sentence: str) -> str:
    "A sentence with its numbers and dates blanked: the same shape in many articles is a template."
    return re.sub(r"\d[\d.,:/-]*", "#", _plain(sentence))


def _plain(sentence: str) -> str:
    return " ".join(sentence.split()).rstrip(".").lower()


def _in_period(found: tuple[dates.Mention, ...], analysis: Analysis) -> bool:
    "A sentence fits a period when a date it states falls in it; one stating no date is not ruled out."
    p = analysis.period
    if p is None or (p.start is None and p.end is None) or not found:
        return True
    return any(dates.overlaps(m, p) for m in found)


def in_period(c: Candidate, period) -> bool:
    """A list item fits a period when its sentence states a date in it, or, stating none, its
    paragraph does ("Which events took place in 2025?")."""
    if period is None or (period.start is None and period.end is None):
        return True
    return any(dates.overlaps(m, period) for m in precise(item_dates(c)))


def precise(found: Sequence[dates.Mention]) -> list[dates.Mention]:
    """The dates to place an item by: a bare year ("the 2025 CSCO Conference") only when nothing more
    precise is stated ("From January 17 to 19, 2025, the 2025 CSCO Conference" is in January)."""
    exact = [m for m in found if not (m.start.endswith("-01-01") and m.end.endswith("-12-31"))]
    return exact or list(found)


def period_fit(c: Candidate, period) -> tuple[bool, bool, int]:
    """How exactly an item is dated in a period, best first: by its own sentence rather than its
    paragraph, by a date inside the period rather than one overlapping it ("on August 26" is not
    answered by "from August 15 to 29"), and by the narrowest date."""
    own = [m for m in precise(c.dates) if dates.overlaps(m, period)]
    found = own or [m for m in precise(item_dates(c)) if dates.overlaps(m, period)]
    inside = [m for m in found if dates.within_period(m, period)]
    return (not own, not inside, min((dates.days(m) for m in inside or found), default=10**6))


def item_dates(c: Candidate) -> tuple[dates.Mention, ...]:
    """The dates a sentence states, else its schedule day's, else its paragraph's, else its article's
    publication date."""
    found = c.when or tuple(dates.resolve(dates.mentions(c.hit.text), c.year))
    if not found and c.hit.date and re.fullmatch(r"\d{4}-\d\d-\d\d", c.hit.date):
        found = (dates.Mention(c.hit.date, c.hit.date, (0, 0), True),)
    return found
