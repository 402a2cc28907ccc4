"""Synthetic unanswerable questions, made from answerable ones and the corpus itself.

An answerable question names things its article pairs: a person and an award, an event and a year.
Swap one of them for something the article does not contain, and the question still looks answerable
(every other word matches) while its article no longer answers it:

    "When did the CIBMTR honour Huang?"  ->  "When did the IACH honour Huang?"   (a name from another article)
    "Who spoke at the 2025 conference?"  ->  "Who spoke at the 2021 conference?" (a year the article lacks)

That is the hard case for answerability, and these negatives can be made for any collection:
`rag eval --calibrate` fits the judge on them together with the hand-written calib split.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ..types import Corpus
from .analysis import specific_terms
from .answerability import names_one_thing

MAX_VARIANTS = 3


def negatives(question: str, doc_ids: Sequence[str], corpus: Corpus) -> list[str]:
    "Up to MAX_VARIANTS versions of the question with one specific term swapped out of its articles."
    own = {d for d in doc_ids if d}
    if not own:
        return []
    text = "\n".join(corpus.article(d).text for d in own)
    others = [d.doc_id for d in corpus.documents() if d.doc_id not in own]
    out = []
    # only the names the judge checks: a day of a month or an adjective of origin ("the European
    # organisation") swapped out makes a question that is nonsense ("on August 55") or still answered
    for term in filter(names_one_thing, specific_terms(question)):
        swap = None
        if re.fullmatch(r"(?:19|20)\d\d", term):
            swap = next((str(int(term) + d) for d in (-3, 4, -5, 6) if str(int(term) + d) not in text), None)
        elif day := re.fullmatch(r"([A-Z][a-z]+)\.? (\d{1,2})", term):
            # a day without a year ("on August 26") for another day of that month the article never names
            swap = next((f"{day[1]} {d}" for d in (3, 11, 9, 27, 14) if f"{day[1].lower()} {d}" not in text
                         and str(d) != day[2]), None)
        elif re.fullmatch(r"\d+", term):
            swap = next((str(int(term) * m + 1) for m in (3, 7) if str(int(term) * m + 1) not in text), None)
        elif term[:1].isupper():
            swap = _foreign_name(term, text, corpus, others)
        if swap:
            out.append(re.sub(rf"(?<!\w){re.escape(term)}(?!\w)", swap, question, count=1))
        if len(out) == MAX_VARIANTS:
            break
    return out


def _foreign_name(term: str, text: str, corpus: Corpus, others: Sequence[str]) -> str | None:
    """A name of the same shape (acronym or capitalised word) from another article, absent from this
    one, and a name wherever the collection uses it: a word it also writes in lower case ("Clinical",
    "Engineering" from "Academy of Engineering") swapped in asks about no other thing."""
    acronym = term.isupper()
    counts: Counter[str] = Counter()
    for doc_id in others:
        body = "\n".join(corpus.paragraph(doc_id, n).text for n in range(1, corpus.document(doc_id).paragraphs + 1))
        for name in specific_terms(corpus.paragraph(doc_id, 1).text):
            if name.isupper() == acronym and name[:1].isupper() and name.lower() not in text and len(name) > 2 \
                    and names_one_thing(name) and not re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", body):
                counts[name] += 1
    return counts.most_common(1)[0][0] if counts else None
