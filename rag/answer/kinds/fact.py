"""Fact questions: the best sentence answers, if the judge says it does (rag/answer/answerability.py).

Up to two more sentences join when they score close to the best and add something the question asks
for: a question term not yet covered ("When and where ...?"), another article, or another named
thing of the kind asked for ("What awards ...?").
"""

from __future__ import annotations

from ...config import Settings
from ...generation import Reply
from ...types import Evidence
from ..answerability import judge, judged
from ..compose import abstain, reading_order, repeats, reply, with_items
from ..sentences import candidates, named_pattern

JOIN_RATIO = 0.75  # a further sentence must score at least this share of the best
NAME_JOIN_RATIO = 0.6  # ... or this share, when it names another thing of the kind asked for


def answer(evidence: Evidence, settings: Settings) -> Reply:
    if evidence.analysis.period and evidence.analysis.period.order:
        from .listing import extreme

        return extreme(evidence, settings)
    ranked = candidates(evidence)
    best = judged(evidence, ranked)
    if best is None:
        return abstain(evidence)
    verdict = judge(best, evidence.analysis, evidence.corpus, ranked)
    if not verdict.answerable(settings.abstain_threshold):
        return abstain(evidence, (best.hit,), verdict.missing)
    qterms = set(evidence.analysis.terms)
    named = named_pattern(evidence.analysis)
    names = set(named.findall(best.text)) if named else set()
    chosen, covered, docs = [best], best.terms & qterms, {best.hit.doc_id}
    for cand in ranked[1:]:
        if len(chosen) >= settings.max_answer_sentences:
            break
        new_names = set(named.findall(cand.text)) - names if named else set()
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
    return reply(with_items(((c.hit, c.text) for c in reading_order(chosen)), evidence.corpus))
