"""Turning chosen sentences into a Reply: each sentence followed by the marker of its paragraph, sources
numbered in order of first use; and the abstention Reply, which says what the articles lack."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..generation import Reply
from ..types import Corpus, Evidence, Hit
from .analysis import not_stated
from .sentences import Candidate, is_heading, is_list_item, is_table_row

REPEAT_COSINE = 0.92  # a sentence this close to a chosen one repeats it


def reply(items: Iterable[tuple[Hit, str]], **extra) -> Reply:
    "A Reply citing each (paragraph, sentence) item; sources in order of first use."
    sources: dict[tuple[str, int], int] = {}
    hits: list[Hit] = []
    parts = []
    for hit, text in items:
        if hit.key not in sources:
            sources[hit.key] = len(hits) + 1
            hits.append(hit)
        if not text.rstrip("\"'”’)»").endswith((".", "!", "?", ":")):
            text += "."  # a list line or heading becomes a sentence, so it does not run into the next one
        parts.append(f"{text} [{sources[hit.key]}]")
    return Reply(" ".join(parts), tuple(hits), **extra)


INTRO_WORDS = 8  # "He serves as:" right after a chosen sentence goes on with it into its list


def with_items(items: Iterable[tuple[Hit, str]], corpus: Corpus) -> list[tuple[Hit, str]]:
    """A sentence ending in a colon introduces what follows ("our focus will be on two key
    priorities:"): the numbered or bulleted lines right after it in its paragraph complete it. So
    does a short one right after a chosen sentence ("Professor Jun Ma is a leading authority in
    hematologic oncology. He serves as: • Director, ...")."""
    items = list(items)
    out: list[tuple[Hit, str]] = []
    given = {text for _, text in items}
    keys = list(dict.fromkeys(hit.key for hit, _ in items))
    per_para, _ = corpus.sentences(keys) if keys else ([], None)  # one read for the whole answer
    sentences = dict(zip(keys, per_para, strict=True))
    for hit, text in items:
        out.append((hit, text))
        lines = [hit.text[s.start - hit.start : s.end - hit.start] for s in sentences[hit.key]]
        after = [(hit, line) for line in lines[lines.index(text) + 1 :]] if text in lines else []
        if not text.rstrip().endswith(":"):
            if not (len(after) > 1 and after[0][1].rstrip().endswith(":") and len(after[0][1].split()) <= INTRO_WORDS
                    and is_list_item(after[1][1]) and after[0][1] not in given):
                continue
            out.append(after[0])
            given.add(after[0][1])
            after = after[1:]
        elif text in lines and not after:
            after = _next_lines(hit, corpus)  # "The new magic method names are:" ends its paragraph; the table follows
        for where, line in after:
            if not (is_list_item(line) or is_table_row(line)):
                break
            if line not in given:
                out.append((where, line))
                given.add(line)
    return out


def _next_lines(hit: Hit, corpus: Corpus) -> list[tuple[Hit, str]]:
    "The lines of the paragraph after this one, if there is one."
    try:
        nxt = corpus.paragraph(hit.doc_id, hit.paragraph + 1)
    except (KeyError, IndexError):
        return []
    (sents,), _ = corpus.sentences([nxt.key])
    return [(nxt, nxt.text[s.start - nxt.start : s.end - nxt.start]) for s in sents]


def reading_order(chosen: Iterable[Candidate]) -> list[Candidate]:
    "Per article in order of first appearance among the chosen, then by position in the article."
    chosen = list(chosen)
    first = {}
    for c in chosen:
        first.setdefault(c.hit.doc_id, len(first))
    return sorted(chosen, key=lambda c: (first[c.hit.doc_id], c.sentence.start))


def repeats(candidate: Candidate, chosen: Sequence[Candidate]) -> bool:
    if not chosen:
        return False
    return float((np.stack([c.vec for c in chosen]) @ candidate.vec).max()) > REPEAT_COSINE


def abstain(evidence: Evidence, closest: Sequence[Hit] = (), missing: Sequence[str] = (), what: str = "") -> Reply:
    """'The articles don't say when ...', naming what the closest passage lacks when that is known."""
    text = what or not_stated(evidence.question)
    if missing and closest:
        text += f" The closest passage does not mention {_join(missing)}."
    return Reply("", (), abstain=text, closest=tuple(closest))


def _join(items: Sequence[str]) -> str:
    items = list(dict.fromkeys(items))
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def lead(evidence: Evidence, doc_id: str) -> tuple[Hit, str]:
    "An article's first statement: the first sentence of its first paragraphs that is not a heading."
    corpus = evidence.corpus
    for number in range(1, 4):
        try:
            hit = corpus.paragraph(doc_id, number)
        except (KeyError, IndexError):
            break
        (sents,), _ = corpus.sentences([hit.key])
        for s in sents:
            text = hit.text[s.start - hit.start : s.end - hit.start]
            if not is_heading(text):
                return hit, text
    hit = corpus.paragraph(doc_id, 1)
    return hit, hit.text
