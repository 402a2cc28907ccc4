"""Typos in questions: "What are the aims of the Internatinal Acadamy for Clinical Hematolgy?"

BM25 finds nothing for a misspelt word, and the embedder only part of its meaning. A word of the
question that the best-matching articles do not contain and that is no English word (not a whole
word of the embedder's WordPiece vocabulary) is replaced by the articles' word closest to it, within
one edit (two for long words). Real words are left alone: "Which hotel hosted it?" must stay a
question about a hotel, even if the articles only say "hostel".

The words that frame a question are a closed class the articles need not contain: a slip in one
("Whta is ...?", "How meny ...?") is corrected to the one question word within an edit of it, since
it decides what is asked (a thing, a count).
"""

from __future__ import annotations

import re
from collections.abc import Set

from ..text import base_form, terms
from ..types import Evidence
from .answerability import within

ARTICLES = 5  # the best-matching articles whose words can correct the question
MIN_LENGTH = 5  # shorter words are too close to too many others to correct safely
_QUESTION_WORDS = ("what", "when", "where", "which", "who", "whom", "whose", "why", "how")
_AFTER_HOW = ("many", "much", "long", "old", "often", "far")
_PREPOSITIONS = "in|at|on|from|for|to|by|with|of|during|since|until|after|before"


def _dropped(typed: str, word: str) -> bool:
    "Is the typed word the word with one letter left out?"
    return len(word) == len(typed) + 1 and any(word[:i] + word[i + 1 :] == typed for i in range(len(word)))


def _framed(query: str, english: Set[str]) -> str:
    """The question with a misspelt opening question word, or the word after "how", corrected: only
    a word that is no English word and lies within one edit of exactly one candidate.

    >>> _framed("Whta is CSCO? And how meny guidelines?", {"is", "and", "guidelines"})
    'What is CSCO? And how many guidelines?'
    >>> _framed("Wher did he study?", {"did", "he", "study"})
    'Where did he study?'
    >>> _framed("Whos the chair? In wich city?", {"the", "chair", "in", "city"})
    "Who's the chair? In which city?"
    """
    def fix(choices: tuple[str, ...]):
        def sub(m: re.Match) -> str:
            word = m.group(2)
            low = word.lower()
            if low in choices or low in english:
                return m.group()
            # an apostrophe left out: "Whos the president?" is "Who's", not "Whose"
            if low.endswith("s") and low[:-1] in choices:
                return m.group(1) + word[:-1] + "'s"
            near = [c for c in choices if within(low, c, 1)]
            # a letter left out is the commonest slip: "Wher" is "where", not "when"
            near = [c for c in near if _dropped(low, c)] or near
            if len(near) != 1:
                return m.group()
            return m.group(1) + (near[0].capitalize() if word[0].isupper() else near[0])
        return sub

    # (the question word opens a question, or follows its preposition: "In wich city ...?")
    query = re.sub(rf"((?:^\W*|[.?!;]\s+(?:and\s+|or\s+)?)(?:(?:{_PREPOSITIONS})\s+)?)([A-Za-z]{{3,}})", fix(_QUESTION_WORDS),
                   query, flags=re.I)
    return re.sub(r"(\bhow\s+)([A-Za-z]{3,})", fix(_AFTER_HOW), query, flags=re.I)


def correct(query: str, evidence: Evidence, english: Set[str]) -> str:
    """The query with its likely typos corrected against the words of the evidence's top articles
    (unchanged when it has none)."""
    query = _framed(query, english)
    docs = list(dict.fromkeys(h.doc_id for h in evidence.hits))[:ARTICLES]
    vocabulary: set[str] = set()
    for doc_id in docs:
        # (a possessive is the word too: "Chidlren's Hospital" is corrected by "children's")
        vocabulary |= {w.removesuffix("'s") for w in evidence.corpus.article(doc_id).words}
    if not vocabulary:
        return query

    def fix(m: re.Match) -> str:
        word = m.group()
        low = word.lower()
        if len(low) < MIN_LENGTH or low in vocabulary or base_form(low, english) is not None:
            return word
        budget = 1 if len(low) < 8 else 2
        near = [v for v in vocabulary if abs(len(v) - len(low)) <= budget and v.isalpha() and within(low, v, budget)]
        if not near:
            return word
        # the fewest edits, then the word the collection uses most ("Pyton": "python", not "pton")
        distance = {v: 1 if within(low, v, 1) else 2 for v in near}
        rarity = dict(zip(near, evidence.corpus.idf([" ".join(terms(v)) or v for v in near]), strict=True))
        best = min(near, key=lambda v: (distance[v], rarity[v], v))
        return best.capitalize() if word[0].isupper() else best

    return re.sub(r"[A-Za-z]+", fix, query)
