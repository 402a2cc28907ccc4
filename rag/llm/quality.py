"""Is a model's reply fit to show? Small and base models fail in recognisable ways; each check below
names one kind of failure, seen from real servers, and says why it disqualifies the whole reply.
A disqualified reply is replaced by the offline extractive answer (rag.pipeline), with the reason.

The same kind of check guards the follow-up rewrite: a rewritten query that echoes the prompt or
drifts away from the conversation is not used (the offline rewrite stands).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ..citations import clean_reply, validate
from ..text import STOPWORDS, terms, words
from ..types import Hit
from .prompt import echoed_runs, labels

_FENCE = re.compile(r"<<<|>>>|[<＜‹«]\s*/?\s*(?:END\s+)?SOURCE\b|\bEND SOURCE\b|\bSOURCE \[\d+\]", re.I)
_HEX_TOKEN = re.compile(r"\b[0-9a-f]{16}\b", re.I)
REPEAT_WORDS = 4  # word n-grams for the repetition check
MIN_DISTINCT = 0.5  # share of distinct REPEAT_WORDS-grams below which a reply loops
_QUESTION_WORDS = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how"}
MAX_QUERY_WORDS = 60


def unusable(reply: str, offered: Sequence[Hit], *, boundary: str = "") -> str | None:
    """Why the reply cannot be shown, or None. `boundary`: the fence token the prompt used.

    >>> hit = Hit("d", "T", None, 1, 0, 40, "The prize was awarded in Paris in June.", 1.0)
    >>> unusable("The prize was awarded in Paris [1].", [hit]) is None
    True
    >>> unusable("Article: T\\nThe prize was awarded in Paris [1].", [hit])
    "it repeats the prompt's layout ('Article:')"
    """
    text = clean_reply(reply)
    if not text.strip():
        return "it was empty" + (" apart from its reasoning" if reply.strip() else "")
    why = _degenerate(text, boundary)
    if why:
        return why
    checked = validate(text, list(offered))
    if not any(s.supported for s in checked.sentences):
        return "none of its sentences is supported by the sources"
    return None


def degenerate(reply: str, boundary: str = "") -> str | None:
    """The checks that need no sources, so they also run on a partial reply while it streams: a
    reply that starts copying the prompt is stopped there, not read to the end."""
    return _degenerate(clean_reply(reply), boundary)


def _degenerate(text: str, boundary: str) -> str | None:
    # Base models continue the prompt instead of answering it: the instructions come back first.
    if echoed_runs(text):
        return "it repeats the prompt's instructions"
    label = labels().search(text)
    if label:
        return f"it repeats the prompt's layout ({label.group().strip()!r})"
    # Fence lines and the boundary token belong to the prompt; showing them would leak its structure.
    if _FENCE.search(text) or (boundary and boundary.lower() in text.lower()) or _HEX_TOKEN.search(text):
        return "it repeats the source fences of the prompt"
    if _loops(text):
        return "it repeats itself"
    return None


def _loops(text: str) -> bool:
    """The same sentence twice, or a long reply made of few distinct phrases: a model stuck in a loop.
    A real answer of 1-4 sentences never repeats a sentence."""
    sentences = [" ".join(words(s)) for s in re.split(r"(?<=[.!?])\s+|\n+", text)]
    counts = Counter(s for s in sentences if len(s.split()) >= 3)
    if counts and max(counts.values()) > 1:
        return True
    ws = words(text)
    grams = [tuple(ws[i : i + REPEAT_WORDS]) for i in range(len(ws) - REPEAT_WORDS + 1)]
    return len(grams) >= 30 and len(set(grams)) / len(grams) < MIN_DISTINCT


def bad_rewrite(query: str, question: str, history_text: str) -> str | None:
    """Why a model's standalone rewrite of a follow-up question cannot be used, or None.

    It must read as a search query about this conversation: no prompt text, not much longer than a
    question, and built from the conversation's words - it keeps at least one content word of the
    follow-up, and most of its content words occur in the question or the history (a rewrite may
    add the name "it" refers to, not new facts).

    >>> bad_rewrite("When was the CSCO meeting held?", "When was it held?", "What was discussed at the CSCO meeting?")
    >>> bad_rewrite("Rewrite the follow-up question below as one standalone search query", "When was it held?", "CSCO")
    "it repeats the prompt's instructions"
    """
    if not query.strip():
        return "it was empty"
    if _FENCE.search(query) or _HEX_TOKEN.search(query):
        return "it repeats the source fences of the prompt"
    if labels().search(query):
        return "it repeats the prompt's layout"
    if echoed_runs(query):
        return "it repeats the prompt's instructions"
    if len(words(query)) > MAX_QUERY_WORDS:
        return f"it is longer than {MAX_QUERY_WORDS} words"
    own = set(terms(query))
    asked = {t for t in terms(question) if t not in _QUESTION_WORDS}
    known = set(terms(question)) | set(terms(history_text))
    if asked and not own & asked:
        return "it drops what the follow-up asks about"
    if own and len(own & known) < len(own) / 2:
        return "most of its words are not from the conversation"
    if not own and not [w for w in words(query) if w not in STOPWORDS]:
        return "it has no content words"
    return None
