"""Fact questions: the best sentence answers, if the judge says it does (rag/answer/answerability.py).

Up to two more sentences join when they score close to the best and add something the question asks
for: a question term not yet covered ("When and where ...?"), another article, or another named
thing of the kind asked for ("What awards ...?").
"""

from __future__ import annotations

from dataclasses import replace

from ...config import Settings
from ...generation import Reply
from ...types import Evidence
from ..analysis import analyse, parts
from ..answerability import judge, judged
from ..compose import abstain, reading_order, repeats, reply, with_items
from ..sentences import Candidate, candidates, named_things

JOIN_RATIO = 0.75  # a further sentence must score at least this share of the best
NAME_JOIN_RATIO = 0.6  # ... or this share, when it names another thing of the kind asked for


def answer(evidence: Evidence, settings: Settings) -> Reply:
    if evidence.analysis.period and evidence.analysis.period.order:
        from .listing import extreme

        return extreme(evidence, settings)
    split = parts(evidence.analysis.question)
    if len(split) == 1:
        got = choose(evidence, settings)
        return got if isinstance(got, Reply) else reply(with_items(((c.hit, c.text) for c in got), evidence.corpus))
    # "Which scientist lectured in Tianjin, and which institute does Huang direct?": each question of
    # the message is answered (or not) on its own, each with its own names, then together
    chosen: list[Candidate] = []
    unanswered: list[Reply] = []
    for part in split:
        got = choose(replace(evidence, question=part, analysis=analyse(part, evidence.analysis.injection)), settings)
        if isinstance(got, Reply):
            unanswered.append(got)
        else:
            chosen += [c for c in got if c.text not in {x.text for x in chosen}]
    if not chosen:
        return abstain(evidence, unanswered[0].closest)
    caveat = " ".join(r.abstain for r in unanswered)
    return reply(with_items(((c.hit, c.text) for c in reading_order(chosen)), evidence.corpus), caveat=caveat)


def choose(evidence: Evidence, settings: Settings) -> list[Candidate] | Reply:
    "The sentences that answer, in reading order, or the abstention Reply."
    ranked = candidates(evidence)
    best = judged(evidence, ranked)
    if best is None:
        return abstain(evidence)
    verdict = judge(best, evidence.analysis, evidence.corpus, ranked)
    if not verdict.answerable(settings.abstain_threshold):
        return abstain(evidence, (best.hit,), verdict.missing)
    qterms = set(evidence.analysis.terms)
    names = named_things(best, evidence.analysis)
    chosen, covered, docs = [best], best.terms & qterms, {best.hit.doc_id}
    for cand in ranked[1:]:
        if len(chosen) >= settings.max_answer_sentences:
            break
        # another person of the same article ("Who spoke at the opening?" can be three; one from
        # another article spoke at another event), another place of any ("In which cities were the
        # workshop and the conference held?")
        same = cand.hit.doc_id == best.hit.doc_id or evidence.analysis.answer_type != "person"
        new_names = named_things(cand, evidence.analysis) - names if same else set()
        if cand.score < (NAME_JOIN_RATIO if new_names else JOIN_RATIO) * best.score:
            continue
        if (best.type_ok and not cand.type_ok) or not cand.period_ok or (best.anchored and not cand.anchored):
            continue
        if names and not new_names:
            continue  # naming things of a kind: only another named thing adds to the answer
        if not ((cand.terms & qterms) - covered or cand.hit.doc_id not in docs or new_names):
            continue
        if repeats(cand, chosen):
            continue
        chosen.append(cand)
        covered |= cand.terms & qterms
        docs.add(cand.hit.doc_id)
        names |= new_names
    return reading_order(chosen)
