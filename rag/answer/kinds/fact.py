"""Fact questions: the best sentence answers, if the judge says it does (rag/answer/answerability.py).

Up to two more sentences join when they score close to the best and add something the question asks
for: a question term not yet covered ("When and where ...?"), another article, or another named
thing of the kind asked for ("What awards ...?").
"""

from __future__ import annotations

import re
from dataclasses import replace

from ...config import Settings
from ...generation import Reply
from ...types import Analysis, Evidence, Hit, Period
from .. import dates
from ..analysis import CARRIED, analyse, origins, parts, states_origin
from ..answerability import CONSIDERED, judge, judged, lacks, question_names
from ..compose import abstain, reading_order, repeats, reply, with_items
from ..conversation import FOLLOWED
from ..sentences import CREDIT_LINE, LOOKBACK, Candidate, candidates, continues, credit_lines, named_things
from ..slots import checkable, person_names, qualifiers, slot_values

JOIN_RATIO = 0.75  # a further sentence must score at least this share of the best
NAME_JOIN_RATIO = 0.6  # ... or this share, when it names another thing of the kind asked for
MAX_SCANNED = 200  # paragraphs of an article read for a day's schedule
DAY_SENTENCES = 5  # "What happened on August 26?": at most this many sentences of that day
# "Who delivered speeches at the opening?", "In which cities ...?": each further sentence naming
# another one adds to the answer, up to this many; a question asking for one ("Who gave the talk on
# X?", "Where was it presented?") takes no other sentence's names, and stops at max_answer_sentences
NAMED_SENTENCES = 6
_MANY_ASKED = re.compile(r"^\W*(?:(?:in|at|from|to|for|on)\s+)?(?:(?:which|what)\s+(?!(?:is|was|has|does)\b)(?:\w+\s+)?\w+s\b|(?:who|where)\s+(?:were|are|have)\b"
                         r"|(?:list|name)\b|who\s+\w+\s+(?:\w+\s+)?\w+s\b"
                         # "Who spoke or hosted at the opening?": the doers of two acts, each named
                         r"|who\s+\w+(?:\s+(?:at|in|on|to|for|with|by))?\s+(?:or|and)\s+(?!(?:what|which|who|whom|when|where|why|how)\b)\w+)"
                         r"|\b(?:everyone|everybody|all|each|both)\b", re.I)
_PERSON = re.compile(r"\b(?:he|she|him|her|his|hers)\b", re.I)
_POINTS_BACK = re.compile(r"\b(?:it|its|they|them|their|he|him|his|she|her|this|that|these|those|there)\b", re.I)
_AND = re.compile(r"\band\b", re.I)
# two subjects joined ("the workshop and the conference"), not two kinds ("centres and facilities")
SUBJECTS = re.compile(r"\w\s+and\s+(?:the|a|an|his|her|their|its)\s", re.I)


def joins_subjects(question: str, names: list[str]) -> bool:
    """Does the question join subjects: "the workshop and the conference", or a name on either side of
    an "and" ("Huang and Jun Ma")? Not two kinds of thing about one ("What challenges and priorities
    did Jun Ma name?").

    >>> joins_subjects("Where were the cell therapy workshop and the CSCO conference held?", ["CSCO"])
    True
    >>> joins_subjects("What challenges and priorities did Jun Ma name in China?", ["Jun", "Ma", "China"])
    False
    """
    return bool(SUBJECTS.search(question)) or any(
        any(n in question[: m.start()] for n in names) and any(n in question[m.end() :] for n in names)
        for m in _AND.finditer(question))


def answer(evidence: Evidence, settings: Settings) -> Reply:
    if evidence.analysis.period and evidence.analysis.period.order:
        from .listing import extreme

        return extreme(evidence, settings)
    split = parts(evidence.analysis.question)
    if len(split) == 1:
        got = choose(evidence, settings)
        return got if isinstance(got, Reply) else reply(with_items(stated(got, evidence), evidence.corpus),
                                                        lead=_which_article(evidence, got))
    # "Which scientist lectured in Tianjin, and which institute does Huang direct?": each question of
    # the message is answered (or not) on its own, each with its own names, then together
    chosen: list[Candidate] = []
    unanswered: list[Reply] = []
    before: Analysis | None = None  # the part before's
    for i, part in enumerate(split):
        sub = replace(evidence, question=part, analysis=analyse(part, evidence.analysis.injection))
        if chosen and _POINTS_BACK.search(part):
            # "..., and when was it presented?": "it" is what the part before asked about ("the award
            # the IACH gave Huang"), told about in its article around the sentence that answered; "Who
            # is its president, and what post did he hold before?": "he" is the person that answer named
            named = [n for n in person_names(chosen[-1].text) if n.lower() not in split[i - 1].lower()] \
                if before and before.answer_type == "person" and _PERSON.search(part) else []
            # (who "he" is replaces the subject the conversation carried into the query's end)
            said = f"{CARRIED.sub('', part)} ({named[0]})" if named else f"{part} ({split[i - 1]})"
            sub = replace(sub, analysis=analyse(said, evidence.analysis.injection), hits=_around(evidence, chosen))
            if named:  # ... and what else is asked of him is another sentence's to tell, as a follow-up's is
                sub = replace(sub, context=replace(sub.context, said=" ".join(c.text for c in chosen)))
        elif chosen and before and _one_value_each(sub.analysis, before, chosen[0].text):
            # "When was 2.2 first released, and when did 2.2.2 come out?": two dates asked, and the sentence
            # that answered the first states one; the second is another sentence's, so that one ranks lower
            sub = replace(sub, context=replace(sub.context, said=" ".join(c.text for c in chosen)))
        before = sub.analysis
        got = choose(sub, settings)
        if isinstance(got, Reply):
            unanswered.append(got)
        else:
            chosen += [c for c in got if c.text not in {x.text for x in chosen}]
    if not chosen:
        return abstain(evidence, unanswered[0].closest)
    caveat = " ".join(r.abstain for r in unanswered)
    return reply(with_items(stated(reading_order(chosen), evidence), evidence.corpus), caveat=caveat)


def _one_value_each(analysis: Analysis, before: Analysis, sentence: str) -> bool:
    "Do this part and the one before ask for a value of the same type, which the sentence states only once?"
    kind = analysis.answer_type
    return checkable(analysis) and kind == before.answer_type and len(set(slot_values(kind, sentence))) <= 1


def _on(c: Candidate, period) -> bool:
    "Is the sentence dated (by its own words or its schedule day) within the period?"
    return any(dates.within_period(m, period) for m in c.when)


def _day_paragraphs(evidence: Evidence, hit: Hit) -> list[Hit]:
    "The paragraphs after this one up to the schedule's next day heading (LOOKBACK at most)."
    info = evidence.corpus.document(hit.doc_id)
    out = []
    for n in range(hit.paragraph + 1, min(hit.paragraph + LOOKBACK, info.paragraphs) + 1):
        para = evidence.corpus.paragraph(hit.doc_id, n)
        if dates.dateline(para.text):
            break
        out.append(para)
    return out


# "the final day", "day two", "on the opening day": a day counted in a schedule's day headings
_ORDINAL_DAY = re.compile(r"\b(first|opening|second|third|fourth|fifth|last|final|closing)\s+day\b"
                          r"|\bday\s+(one|two|three|four|five|[1-9])\b"
                          r"|\bat the (end|close|conclusion|start|beginning|outset) of\b", re.I)  # "at the end of the course"
_ORDINALS = {"first": 0, "opening": 0, "one": 0, "1": 0, "second": 1, "two": 1, "2": 1, "third": 2, "three": 2, "3": 2,
             "fourth": 3, "four": 3, "4": 3, "fifth": 4, "five": 4, "5": 4, "last": -1, "final": -1, "closing": -1,
             "end": -1, "close": -1, "conclusion": -1, "start": 0, "beginning": 0, "outset": 0}


def schedule_day(evidence: Evidence) -> Evidence:
    """A question about "the final day" or "day two" of an event whose article gives a day heading to
    each day: the question's period becomes that day (its date, as the headings state it)."""
    a = evidence.analysis
    m = _ORDINAL_DAY.search(a.question)
    if not m or (a.period and (a.period.start or a.period.end)) or not evidence.hits:
        return evidence
    doc_id = evidence.hits[0].doc_id
    days: list[dates.Mention] = []
    for n in range(1, min(evidence.corpus.document(doc_id).paragraphs, MAX_SCANNED) + 1):
        days += [d for d in dates.datelines(evidence.corpus.paragraph(doc_id, n).text) if d.start not in {x.start for x in days}]
    at = _ORDINALS[(m.group(1) or m.group(2) or m.group(3)).lower()]
    if len(days) < 2 or at >= len(days):
        return evidence
    day = days[at]
    return replace(evidence, analysis=replace(a, period=Period(day.start, day.end, None, m.group())))


# "Who contributed / implemented / wrote / designed X?", "Who is credited with X?"
_CREDIT_Q = re.compile(r"^\W*(?:and\s+)?who\s+(?:\w+\s+)?(?:contributed|implemented|wrote|designed|proposed|developed|"
                       r"authored|created|ported|fixed|is credited|was credited)\b|\bcontributed by whom\b", re.I)
CREDITED_HITS = 3  # the best hits whose sections' credit lines are read


def _dated_paragraphs(evidence: Evidence, doc_id: str, period, have: set[tuple[str, int]]) -> list[Hit]:
    "An article's paragraphs that state a date in the period, and those under it until the next day heading."
    out: list[Hit] = []
    for n in range(1, min(evidence.corpus.document(doc_id).paragraphs, MAX_SCANNED) + 1):
        hit = evidence.corpus.paragraph(doc_id, n)
        if any(dates.within_period(m, period) for m in dates.mentions(hit.text)):
            out += [h for h in (hit, *_day_paragraphs(evidence, hit)) if h.key not in have and h not in out]
    return out


def stated(chosen: list[Candidate], evidence: Evidence) -> list[tuple[Hit, str]]:
    """The chosen sentences as (paragraph, text); asked when, a sentence told under a schedule's day
    heading comes with it ("August 28: In the morning, ..."), since the sentence itself gives no date."""
    out: list[tuple[Hit, str]] = []
    # ... and so, once, does the day a question counted ("the final day", "day two")
    wants = evidence.analysis.answer_type == "date" or bool(_ORDINAL_DAY.search(evidence.analysis.question))
    shown: set[str] = set()
    for c in chosen:
        # (asked where, a sentence placed by the occasion it happened at comes with the sentence placing
        # that: "On February 23rd, the CIBMTR presented ... [1] The 2024 Tandem Meetings were held ... in San Antonio [2]")
        if c.setting and c.setting.text not in shown:
            shown.add(c.setting.text)
            out += [(c.hit, c.text), (c.setting.hit, c.setting.text)]
            continue
        day = c.day if wants and not c.dates and c.day and c.day.text not in shown else None
        if day is not None:
            shown.add(day.text)
        if day is None:
            out.append((c.hit, c.text))
        elif day.hit.key == c.hit.key:
            out.append((c.hit, f"{day.text} {c.text}"))
        else:
            out += [(day.hit, day.text.rstrip(":–— ")), (c.hit, c.text)]  # "August 28. [1] In the afternoon, ... [2]"
    return out


# "Which release let you mark a test as an expected failure?", "In which article is ... reported?":
# the answer is the article itself, which its sentence does not name
_WHICH_ARTICLE = re.compile(r"^\W*(?:in\s+|from\s+)?(?:which|what)\s+(?:\w+\s+)?(?:release|version|edition|issue|article|"
                            r"report|story|piece|document)s?\b", re.I)


def _which_article(evidence: Evidence, chosen: list[Candidate]) -> str:
    "For a question asking which article (release, version ...) says something: the article's title, as the lead."
    return f"In “{chosen[0].hit.title}”:" if chosen and _WHICH_ARTICLE.search(evidence.question) else ""


_WHO_IS = re.compile(r"^\s*[Ww]ho\s+(?:is|was)\s+(?:prof(?:essor)?\.?\s+|dr\.?\s+)?([A-Z][\w’'\-]*(?:\s+[A-Z][\w’'\-]*)+)\s*\??\s*$")
IDENTITY_SENTENCES = 3  # sentences saying who a person is, from any article naming them
AROUND = 2  # paragraphs either side of an answer that tell more about what it names


def _around(evidence: Evidence, chosen: list[Candidate]) -> tuple[Hit, ...]:
    "The evidence's passages of the chosen sentences' articles, and the paragraphs around those sentences."
    docs = {c.hit.doc_id for c in chosen}
    hits = {h.key: h for h in evidence.hits if h.doc_id in docs}
    for c in chosen:
        last = evidence.corpus.document(c.hit.doc_id).paragraphs
        for n in range(max(1, c.hit.paragraph - AROUND), min(last, c.hit.paragraph + AROUND) + 1):
            if (c.hit.doc_id, n) not in hits:
                hits[(c.hit.doc_id, n)] = evidence.corpus.paragraph(c.hit.doc_id, n)
    return tuple(hits.values())


def choose(evidence: Evidence, settings: Settings) -> list[Candidate] | Reply:
    "The sentences that answer, in reading order, or the abstention Reply."
    evidence = schedule_day(evidence)
    ranked = candidates(evidence)
    if _CREDIT_Q.search(evidence.question):
        # "Who contributed the implementation of assignment expressions?": the credit line closing the
        # section about them ("(Contributed by Emily Morehouse in bpo-35224.)"), which retrieval, by
        # its words, cannot find
        have = {c.hit.key for c in ranked}
        credits = [h for top in evidence.hits[:CREDITED_HITS] for h in credit_lines(evidence.corpus, top) if h.key not in have]
        if credits:
            ranked = sorted(ranked + candidates(evidence, list(dict.fromkeys(credits))), key=lambda c: -c.score)
    period = evidence.analysis.period
    # "What did the trainees do on August 26?" asks for a day's account: what is dated that day
    # answers, however few of the question's (generic) words it shares, so similarity does not judge it
    answer_type = evidence.analysis.answer_type
    # ... and so does "Who spoke on August 21?", "Where did they go on August 21?": that day's
    # sentences naming a person (a place), wherever under the day's heading they are
    one_day = bool(period and period.start and period.start == period.end and answer_type in (None, "person", "place"))
    # ... and the account starts from a sentence of that day, not the lead of the whole fortnight;
    # when retrieval brought none (or none of the kind asked), the top article's own schedule is read for that day
    on = [c for c in ranked if _on(c, period) and (answer_type is None or c.type_ok)] if one_day else []
    if one_day and not on and ranked:
        ranked = ranked + candidates(evidence, _dated_paragraphs(evidence, ranked[0].hit.doc_id, period,
                                                                 {c.hit.key for c in ranked}))
        on = [c for c in ranked if _on(c, period) and (answer_type is None or c.type_ok)]
    quals = qualifiers(evidence.analysis)
    # ... and so is "Which Indonesian doctor spoke for the trainees?" by where the paragraph places him
    came = origins(evidence.question) if answer_type == "person" else []

    def placed(text: str) -> bool:
        return all(q.lower() in text.lower() for q in quals) and all(states_origin(o, text) for o in came)

    if (quals or came) and ranked and not any(c.type_ok and placed(c.hit.text) for c in ranked[:CONSIDERED]):
        # "Which speaker came from the University of Pennsylvania?": retrieval found the event, not the
        # one paragraph of its article placing a speaker there; that article's paragraphs naming it are read
        # (the best-ranked article stating the question's names: "the Tianjin course" is not Huang's profile)
        asked = question_names(evidence.analysis)
        have = {c.hit.key for c in ranked}
        doc_id = next((c.hit.doc_id for c in ranked[:CONSIDERED] if not lacks(evidence.corpus, c.hit.doc_id, asked)),
                      ranked[0].hit.doc_id)
        naming = [h for n in range(1, min(evidence.corpus.document(doc_id).paragraphs, MAX_SCANNED) + 1)
                  if (h := evidence.corpus.paragraph(doc_id, n)).key not in have and placed(h.text)]
        # (a sentence there of the type asked for is the answer the question points at, first)
        ranked = [c for c in candidates(evidence, naming) if c.type_ok] + ranked
    if came:  # ... and one placing its person itself before its paragraph's others ("Prof. Tao Cheng ... opened")
        ranked, on = (sorted(cs, key=lambda c: not (c.type_ok and placed(c.text))) for cs in (ranked, on))
    best = judged(evidence, on or ranked)
    if best is None:
        return abstain(evidence)
    verdict = judge(best, evidence.analysis, evidence.corpus, ranked)
    if verdict.missing and joins_subjects(evidence.question, question_names(evidence.analysis)):
        # "In which cities were the CSCO conference and the Tianjin workshop held?": each subject is in
        # its own article; a name the answer's article lacks is stated by another candidate's article
        # that lacks a name this one states (two subjects, not one article naming both)
        names = question_names(evidence.analysis)
        own = [n for n in names if n not in verdict.missing]
        if own and all(any(not lacks(evidence.corpus, c.hit.doc_id, [n]) and lacks(evidence.corpus, c.hit.doc_id, own)
                           for c in ranked[:CONSIDERED]) for n in verdict.missing):
            verdict = replace(verdict, missing=())
    # (nor similarity's floor: "What happened on August 26?" is like no sentence at all)
    on_day = one_day and not verdict.missing and not verdict.slot_missing and _on(best, period)
    if not (verdict.answerable(settings.abstain_threshold) or on_day):
        return abstain(evidence, (best.hit,), verdict.missing)
    if one_day:
        # every sentence dated that day in the article that tells it (a schedule's morning, noon and
        # afternoon, in the paragraphs under its day heading), not only the best
        start = best.day.hit if best.day else best.hit  # from the day's heading on
        told = [start, *_day_paragraphs(evidence, start)]
        seen = {c.hit.key for c in ranked}
        pool = ranked + candidates(evidence, [h for h in told if h.key not in seen])
        day = [c for c in pool if c.hit.doc_id == best.hit.doc_id and c.period_ok and _on(c, period)
               and (answer_type is None or c.type_ok) and (not came or placed(c.text))]
        if best in day:
            return reading_order([best] + [c for c in day if c is not best][: DAY_SENTENCES - 1])
    qterms = set(evidence.analysis.terms)
    names = named_things(best, evidence.analysis)
    # the subject a follow-up carries from the conversation ("he" -> Jun Ma) is what every sentence
    # must be about; names the question itself gives may each be in another article
    asked = question_names(evidence.analysis)
    carried = [n for n in asked if n.lower() not in evidence.question.lower()]
    chosen, covered, docs = [best], best.terms & qterms, {best.hit.doc_id}
    sequel = bool(FOLLOWED.search(evidence.question)) and not (period and FOLLOWED.search(period.text))  # not "after 2020"
    many = bool(_MANY_ASKED.search(evidence.question))
    joint = joins_subjects(evidence.question, asked)
    for cand in ranked[1:]:
        if len(chosen) >= NAMED_SENTENCES:
            break
        # another person of the same article ("Who spoke at the opening?" can be three; one from
        # another article spoke at another event), another place of any ("In which cities were the
        # workshop and the conference held?")
        same = cand.hit.doc_id == best.hit.doc_id or evidence.analysis.answer_type != "person"
        # (a place only when more than one is asked for: "Where was it presented?" has one answer,
        # and another sentence's places are about something else)
        wanted = same and (many or evidence.analysis.answer_type != "place")
        new_names = named_things(cand, evidence.analysis) - names if wanted else set()
        # the sentence going on from the answer ("... He holds 22 patents.", "Afterward, participants
        # visited ...") tells the rest of what was asked when it states question words the answer
        # lacks, or when the question asks what followed the answer's event ("After X's lecture,
        # which company did they visit?", "What happened after the talk?")
        reads_on = continues(cand, best) and bool((cand.terms & qterms) - covered or sequel)
        if cand.score < (NAME_JOIN_RATIO if new_names else JOIN_RATIO) * best.score and not reads_on:
            continue
        if (best.type_ok and not cand.type_ok) or not cand.period_ok or (best.anchored and not cand.anchored):
            continue
        if names and not new_names:
            continue  # naming things of a kind: only another named thing adds to the answer
        if came and not placed(cand.text):
            continue  # "Which Indonesian doctor ...?": not the other people of the day
        if len(chosen) >= settings.max_answer_sentences and not (names and new_names and many):
            continue
        if not ((cand.terms & qterms) - covered or cand.hit.doc_id not in docs or new_names or reads_on):
            continue
        if repeats(cand, chosen):
            continue
        if CREDIT_LINE.match(best.text) and CREDIT_LINE.match(cand.text):
            continue  # another credit line credits another section's feature
        if cand.hit.doc_id not in docs and carried and lacks(evidence.corpus, cand.hit.doc_id, carried):
            continue  # "What other positions does he hold? (Jun Ma)": not another article's "Prof. Huang holds ..."
        if cand.hit.doc_id not in docs and asked and not joint and lacks(evidence.corpus, cand.hit.doc_id, asked):
            # "Which countries were the Tianjin trainees from?", "What challenges did Jun Ma name in
            # China?": not an article lacking what the question names (but "the cell therapy workshop
            # and the CSCO conference" may name only one of its subjects)
            continue
        chosen.append(cand)
        covered |= cand.terms & qterms
        docs.add(cand.hit.doc_id)
        names |= new_names
    if (who := _WHO_IS.match(evidence.question)) and evidence.analysis.answer_type == "definition":
        # "Who is Mohamad Mohty?": every sentence that says what he is, in its own words ("Professor
        # Mohamad Mohty, the current president of IACH, ...", "... Mohamad Mohty, former president
        # of the European Society ..."), not the first alone
        said = re.compile(rf"\b{re.escape(who.group(1))}\s*,\s*(?!(?:and|or|but|while|who|which|as)\b)"
                          rf"(?:the\s+|also\s+|an?\s+)?(?:current\s+|former\s+)?[a-zA-Z]", re.I)
        for cand in ranked:
            if len(chosen) >= IDENTITY_SENTENCES:
                break
            if cand not in chosen and said.search(cand.text) and not repeats(cand, chosen):
                chosen.append(cand)
    if evidence.analysis.answer_type == "date" and best.dates and not any(m.has_year for m in best.dates):
        # "On February 23rd, the CIBMTR presented ..." takes its year from the sentence that states
        # the meeting's dates with it ("The 2024 Tandem Meetings were held on February 21-24"): a
        # question asking when is answered with the year, and the reader sees where it comes from
        year_told = next((c for c in ranked if c.hit.doc_id == best.hit.doc_id and c not in chosen and any(
            m.has_year and dates.overlaps(b, Period(m.start, m.end)) for m in c.dates for b in best.dates)), None)
        if year_told is not None:
            chosen.append(year_told)
    return reading_order(chosen)
