"""Conversation: keep the subject across turns, so a follow-up is searched as the question it means.

Two referents are tracked through the turns, oldest first, from questions *and* answers:

    person   what "he", "she", "his", "her" point at: the person a question names (when it does not
             itself say "he"), else the first person its answer names
    topic    what "it", "that", "they", "there", "the meeting" point at: the names and noun phrases a
             question names (when it does not itself lean on the topic)

A question that leans on the conversation (a pronoun, or no name of its own) is searched with the
referent it needs appended: "When was it held?" after "What was discussed at the CSCO meeting?" and
"Who chaired it?" is searched as "When was it held? (CSCO meeting)". The articles cited by the
turn the referent came from are the conversation's focus: retrieval ranks their paragraphs higher.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..text import terms
from ..types import Answer, Context
from . import dates
from .analysis import specific_terms
from .slots import person_names

# (and "the chair", "the professor" on their own: the one the conversation is about, where "the chair
# of the IACH", "the speaker at the forum" name someone new)
_PERSONAL = re.compile(r"\b(?:he|him|his|she|her|hers|himself|herself)\b|\b(?:that|this|the same)\s+(?:person|man|woman|"
                       r"speaker|professor|doctor|expert|scientist|researcher|official)\b"
                       r"|\bthe\s+(?:chair|chairman|chairwoman|president|director|professor|speaker|laureate|winner|"
                       r"recipient|honoree)\b(?!\s*(?:of|at|from|for|in|who|whom|that|which)\b|\s+(?-i:[A-Z]))", re.I)
_THING = re.compile(r"\b(?:it|its|it's|they|them|their|theirs|this|that|these|those|there|then|the same|"
                    r"such|above|former|latter)\b", re.I)


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str
    cited: tuple[tuple[str, int], ...] = ()  # paragraphs the answer cited (doc_id, number), when known

    @property
    def docs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(doc_id for doc_id, _ in self.cited))


def turns(history) -> list[Turn]:
    """Accept (question, answer) pairs, where the answer is text or an Answer, or OpenAI/Gradio-style
    message dicts (content as text or a list of text blocks)."""
    if not history:
        return []
    out: list[Turn] = []
    if isinstance(history[0], dict):
        pending = None
        for m in history:
            content = m.get("content")
            if isinstance(content, list):  # Gradio 6: a list of content blocks
                content = " ".join(b.get("text", "") for b in content if isinstance(b, dict))
            if m.get("role") == "user":
                pending = str(content or "")
            elif m.get("role") == "assistant" and pending is not None:
                out.append(Turn(pending, str(content or "")))
                pending = None
        return out
    for q, a in history:
        if isinstance(a, Answer):
            cited = () if a.abstained else tuple(dict.fromkeys((c.doc_id, c.paragraph) for c in a.citations))
            out.append(Turn(str(q), a.text, cited))
        else:
            out.append(Turn(str(q), str(a)))
    return out


def _phrases(question: str) -> list[str]:
    """The names a question gives, kept together as written: 'Jun Ma', 'CSCO' from "Where does Jun Ma
    work, and what is CSCO?". Names carry a follow-up's subject; the nouns around them vary.

    >>> _phrases("What does the Python 3.8 article say, and what did Jun Ma say?")
    ['Python 3.8', 'Jun Ma']
    """
    names = set(specific_terms(question))
    out = []
    for m in re.finditer(r"[A-Z0-9][\w’'&\-]*(?:\.\d+)*(?:\s+[A-Z0-9][\w’'&\-]*(?:\.\d+)*)*", question):
        kept = " ".join(w for w in m.group().split() if re.sub(r"['’]s$", "", w).strip(".'’-") in names)
        # a day of the month alone ("21" of "on August 21") names nothing: the date is carried whole, if at all
        if not kept or re.fullmatch(r"\d{1,2}", kept):
            continue
        # "the Tianjin workshop", "Huang's treatment": a name qualifying a noun names that thing, and
        # "it" means it, not anything else of Tianjin's
        if kept == m.group() and (noun := _QUALIFIED.match(question, m.end())) and \
                (_DETERMINER.search(question, 0, m.start()) or re.search(r"['’]s$", kept)):
            kept = f"{kept} {noun.group(1)}"
        if kept not in out:
            out.append(kept)
    return out


# "What does the Python 3.8 article say about assignment expressions?": the thing asked about, which no
# name carries; "that feature", "it" in the next questions mean it (the name only places it)
_ABOUT = re.compile(r"\babout\s+(?:the\s+|a\s+|an\s+)?((?:[a-z][\w\-]*\s+){0,3}[a-z][\w\-]*)"
                    r"\s*(?:[?,;.]|$|\b(?:in|of|at|for|on|from|and|or|that|which)\b)")
_NOT_TOPIC = {"it", "its", "them", "him", "her", "this", "that", "these", "those", "what", "which", "whom", "who",
              "how", "why", "when", "where", "all", "everything", "anything", "something", "one", "each", "any"}


def topics(question: str) -> list[str]:
    """What a question asks about: its names (_phrases), then a thing it asks "about" in lower case.

    >>> topics("What does the Python 3.8 article say about assignment expressions?")
    ['Python 3.8', 'assignment expressions']
    >>> topics("What do the articles say about it?")
    []
    """
    out = _phrases(question)
    if (m := _ABOUT.search(question)) and m.group(1).split()[0] not in _NOT_TOPIC:
        out.append(m.group(1))
    return out


# (not after "did", "will" ...: "When did the IACH give ..." is followed by a verb)
_DETERMINER = re.compile(r"(?<!\bdid )(?<!\bdoes )(?<!\bdo )(?<!\bwill )(?<!\bcan )(?<!\bwould )(?<!\bcould )"
                         r"\b(?:the|this|that|its|their|his|her)\s+\Z", re.I)
# the noun, after an adjective if one comes first ("the IACH annual meeting"); not a participle ("the
# IACH based", "the 2024 Tandem Meetings held") nor a verb taking an object ("the IACH give Huang")
_QUALIFIED = re.compile(r"\s+((?:[a-z]+(?:al|ic|ive|ous|ary|ern)\s+)?(?![a-z]+ed\b|(?:held|made|given|done|seen|known|taken|won|"
                        r"led|built|set|put|run|born|chosen|found|met|said|told|sent|spent|paid|shown|begun|written|"
                        r"brought|bought|kept|left|lost|read|heard|hit|cut)\b)[a-z]{3,})\b(?!\s+(?:the|a|an|[A-Z])\b)")


def leans_on_context(question: str) -> bool:
    "A pronoun, or no name of its own: the question means something said earlier."
    return bool(_PERSONAL.search(question) or _THING.search(question) or not specific_terms(question))


@dataclass
class _State:
    person: str = ""
    person_docs: tuple[str, ...] = ()
    topic: str = ""
    topic_docs: tuple[str, ...] = ()


# A follow-up asking for something not yet said ("What else did he report?", "Who else spoke?"): the
# last answer's sentences are what it does not want again.
# (or what came before it: "What position did he hold before that?" is not the one just said)
_ELSE = re.compile(r"\b(?:else|besides|another|apart from (?:that|this)|in addition to (?:that|this)|other than (?:that|this)"
                   r"|before (?:that|this|then)|previously|formerly)\b|\bbefore\s*[?.!]*$"  # "What post did he hold before?"
                   r"|\b(?:what|which|any)\s+other\b|\b(?:tell me )?more about\b", re.I)
# A question asking what came next ("What did they discuss after his talk?", "Where did they go that
# afternoon?"): news tells events in order, so the answer is in the paragraphs after the last answer's,
# or (a question on its own) in the sentence after the event's (rag/answer/kinds/fact.py).
FOLLOWED = re.compile(r"\b(?:after(?:wards)?|then|next|later|subsequently|following|"
                   r"that (?:morning|afternoon|evening|night|day|week))\b", re.I)
NEAR = 2  # paragraphs after each one the last answer cited (which itself may go on after the sentence given)
# "And the day after that?", "What happened the next day?": a day counted from the one the last turn
# was about, which a schedule names by its date
_NEXT_DAY = re.compile(r"\b(?:on\s+)?the\s+(?:(?:next|following)\s+day|day\s+after(?:\s+(?:that|it|this))?)\b", re.I)
_PREVIOUS_DAY = re.compile(r"\b(?:on\s+)?the\s+(?:(?:previous|preceding)\s+day|day\s+before(?:\s+(?:that|it|this))?)\b", re.I)


def context(question: str, history: Sequence[Turn]) -> tuple[str, Context]:
    """The query to search and what the conversation tells retrieval and answering (a Context).

    >>> context("Who chaired it?", [Turn("What was discussed at the CSCO meeting?", "...")])[1].carried
    'CSCO meeting'
    """
    query, focus, named, carried = resolve(question, history)
    if not history or query == question and not focus:
        return query, Context()
    last = history[-1]
    # both want something the last answer did not say
    said = re.sub(r"\s*\[\d+\]", "", last.answer) if _ELSE.search(question) or FOLLOWED.search(question) else ""
    # "When was that?", "Which country is she from?", "How many of them were there?": a question with
    # (almost) nothing of its own asks about what the last answer cited, where it is, or just after;
    # so does one about a thing the conversation told of ("Who wrote the PEP behind that module?":
    # release notes credit it after what the last answer cited)
    bare = len(terms(question)) <= 1 and not specific_terms(question)
    # ... and so does one pointing at a thing no earlier question named: "Who reported those figures?"
    # means the figures the last answer gave
    named = named or bool((m := _THAT_NOUN.search(question)) and m.group(1).lower() not in _NOT_REFERENT)
    # ... unless it names the day it wants ("the day after that" made a date): the date places it
    dated = _relative_day(question, last) != question
    near = tuple((doc_id, number + i) for doc_id, number in last.cited for i in range(NEAR + 1)) \
        if (FOLLOWED.search(question) or bare or named) and not dated else ()
    return query, Context(focus, near, said, carried)


def resolve(question: str, history: Sequence[Turn]) -> tuple[str, tuple[str, ...], bool, str]:
    """(the query to search, the doc_ids the conversation is about, whether the question points at a
    thing an earlier turn named, what it carried into the query) for a question in a conversation.

    >>> h = [Turn("What was discussed at the CSCO meeting?", "..."), Turn("Who chaired it?", "Professor Jun Ma chaired it.")]
    >>> resolve("When was it held?", h)[0]
    'When was it held? (CSCO meeting)'
    >>> resolve("Where does he work?", h)[0]
    'Where does he work? (Jun Ma)'
    >>> resolve("Which syntax goes with them?", [Turn("What are exception groups in Python 3.11?", "...")])[0]
    'Which syntax goes with them? (exception groups; Python 3.11)'
    """
    if not history or not leans_on_context(question):
        return question, (), False, ""
    said = _relative_day(question, history[-1])
    state = _State()
    for turn in history:
        _advance(state, turn)
    carried, focus = [], ()
    if (m := _PERSONAL.search(question)) and state.person:
        focus = state.person_docs
        if m.group().lower().split()[0] in ("that", "this", "the"):
            # "What position does that person hold?": the person stands in the phrase's place (its
            # words "that person" ask about nobody in particular)
            said = said.replace(m.group(), state.person, 1)
        else:
            carried.append(state.person)
    # "Who wrote the PEP behind that module?": the module an earlier turn named ("the zoneinfo module")
    named, named_docs = _named_before(question, history)
    if named and named.lower() not in said.lower():
        carried.append(named)
        focus = focus or named_docs  # ... and the articles that told about it
    # "Which syntax goes with them?", "Who contributed the implementation?" after "What are exception
    # groups?": the things the reader asked to have explained, which no name carries
    if not named and (_THEM.search(question) or not specific_terms(question)) and (things := _defined_before(history)) \
            and things.lower() not in said.lower():
        carried.append(things)
    # "it"/"there" point at the topic; a question with no name of its own and no "he"/"she" does too
    leans_on_topic = _THING.search(_PERSONAL.sub(" ", question)) or (not specific_terms(question) and not carried
                                                                      and said == question)
    # (when "he" carried the person, "it" is the topic's other thing: "Where was he when he received it?"
    # after "Who gave Huang the Distinguished Service Award?" is about Huang and about the award)
    if leans_on_topic and state.topic and not named:
        rest = [t for t in state.topic.split("; ") if not any(t in c or c in t for c in carried)]
        if rest and (not any(state.topic in c or c in state.topic for c in carried) or _IT.search(question)):
            carried.append("; ".join(rest))
            focus = focus or state.topic_docs
    # a question that already names its referent (an edited earlier query, "When was it held? (CSCO)")
    # keeps its focus but is not extended again
    carried = [c for c in carried if c.lower() not in said.lower()]
    if not carried:
        return said, focus, bool(named), ""
    return f"{said} ({'; '.join(carried)})", focus, bool(named), "; ".join(carried)


_IT = re.compile(r"\bit\b", re.I)
_THAT_NOUN = re.compile(r"\b(?:that|this|these|those|the same|the said|the above)\s+([a-z]{3,})\b", re.I)
# nouns of time point at where the last answer was ("that afternoon": FOLLOWED), people at the person
_NOT_REFERENT = {"day", "morning", "afternoon", "evening", "night", "week", "month", "year", "time", "one", "way",
                 "person", "man", "woman", "speaker", "professor", "doctor", "expert", "scientist", "researcher",
                 "official", "is", "was", "are", "were", "has", "had", "will", "would", "can", "could", "did", "does",
                 "who", "which", "days", "years", "times", "people",
                 # a domain, not a thing said: "What challenges remain in this field?"
                 "field", "area", "domain", "discipline", "topic", "subject", "regard", "respect", "case", "matter",
                 "context", "kind", "sort", "type", "country", "world"}


def _named_before(question: str, history: Sequence[Turn]) -> tuple[str, tuple[str, ...]]:
    """For "that module", "this award": the latest earlier question (else answer) that named one with
    its own words ("the zoneinfo module", "the CIBMTR Distinguished Service Award"), as it named it,
    and the articles that turn's answer cited (where the thing is told about).

    >>> _named_before("Where was that award presented?", [Turn("Who received the CIBMTR Distinguished Service Award?", "")])
    ('CIBMTR Distinguished Service Award', ())
    """
    m = _THAT_NOUN.search(question)
    if not m or m.group(1).lower() in _NOT_REFERENT:
        return "", ()
    noun = m.group(1).lower()
    rx = re.compile(rf"\b((?:[\w.’'\-]+\s+){{1,3}}){noun}s?\b", re.I)
    # the reader's own questions first: an answer names other things of the kind in passing
    for turn, text in [(t, t.question) for t in reversed(history)] + [(t, t.answer) for t in reversed(history)]:
        for found in rx.finditer(text):
            words_ = found.group(1).split()
            while words_ and _bare(words_[0]) in _NAMING_STOP:
                words_ = words_[1:]  # "What is the zoneinfo module": "zoneinfo module"
            if words_ and _bare(words_[-1]) not in _NAMING_STOP:
                return " ".join(words_ + [found.group().split()[-1]]), turn.docs
    # ... else the name the last question gave: "What did they see at Juventas?", then "Who from that
    # company gave a lecture?" (a company is called by its name, not "the Juventas company"), or the
    # thing it asked about: "that feature" after "What does the 3.8 article say about assignment expressions?"
    if history and (phrases := topics(history[-1].question)):
        return phrases[-1], history[-1].docs
    return "", ()


_THEM = re.compile(r"\b(?:they|them|their)\b", re.I)
# "What are exception groups in Python 3.11?": the things asked about, up to what places them
_DEFINED = re.compile(r"^\s*what\s+are\s+(?:the\s+)?((?:[a-z][\w\-]*\s+){0,3}[a-z][\w\-]*s)\b"
                      r"\s*(?:\?|$|(?:in|of|at|for|on|from|added|introduced|used)\b)", re.I)


def _defined_before(history: Sequence[Turn]) -> str:
    """The plural things the latest earlier "What are X?" asked about, as it worded them.

    >>> _defined_before([Turn("What are exception groups in Python 3.11?", "")])
    'exception groups'
    """
    for turn in reversed(history):
        if m := _DEFINED.match(turn.question):
            return m.group(1)
    return ""


def _bare(word: str) -> str:
    return re.sub(r"['’]s$", "", word.lower())


_NAMING_STOP = {"the", "a", "an", "this", "that", "these", "those", "which", "what", "whose", "his", "her", "its",
                "their", "our", "your", "of", "in", "on", "at", "for", "to", "and", "or", "with", "by", "from",
                "new", "same", "other", "another", "each", "every", "any", "some", "is", "was", "did", "does"}


def _relative_day(question: str, last: Turn) -> str:
    """The question with "the next day" / "the day before" replaced by the date it means, counted
    from the day the last question (else its answer) named.

    >>> _relative_day("And on the day after that?", Turn("What happened on August 21?", ""))
    'And on August 22?'
    """
    for rx, step in ((_NEXT_DAY, 1), (_PREVIOUS_DAY, -1)):
        m = rx.search(question)
        if not m:
            continue
        named = [d for d in dates.mentions(last.question) or dates.mentions(last.answer) if d.start[5:] != "01-01"
                 or d.end[5:] != "12-31"]
        if not named:
            return question
        iso = (named[0].end if step > 0 else named[0].start).replace("????", "2001")
        try:
            day = dt.date.fromisoformat(iso) + dt.timedelta(days=step)
        except ValueError:
            return question
        known = not named[0].start.startswith("????")
        said = f"{dates.MONTHS[day.month - 1].capitalize()} {day.day}" + (f", {day.year}" if known else "")
        return f"{question[: m.start()]}on {said}{question[m.end() :]}"
    return question


_ASKS_WHO = re.compile(r"\s*(?:and\s+)?who\b", re.I)


def _advance(state: _State, turn: Turn) -> None:
    q = turn.question
    personal = bool(_PERSONAL.search(q))
    named_people = [p for p in person_names(q) if not personal]
    if named_people:
        state.person, state.person_docs = named_people[0], turn.docs
    elif (not personal or _ASKS_WHO.match(q)) and (people := [p for p in person_names(turn.answer)
                                                                  if set(p.split()).isdisjoint(state.person.split())]):
        # (a "who" question's answer names the next person spoken of, though the question said "him" of
        # another: after "Who praised him?", "that person" is the one who praised)
        state.person, state.person_docs = people[0], turn.docs
    phrases = topics(q)
    if phrases and not _THING.search(q) or phrases and not state.topic:
        state.topic, state.topic_docs = "; ".join(phrases), turn.docs
    elif not state.topic_docs and turn.docs:
        state.topic_docs = turn.docs
