"""Answer types: does a sentence hold the kind of answer a question asks for?

"When" wants a date, "how many" a count (not an ordinal, a percentage or "several"), "how long" a
span, "how old" an age, a budget an amount of money, "who" a person's name, "where" a place, "which
hotel" a name of that kind, a question about the future a sentence about the future (`has_slot`,
`checkable`). The values a sentence states of a type (`slot_values`, `person_names`) also tell which
further sentences add something to an answer. Each lexicon here is ordinary English for a kind of
question, not words of any article.
"""

from __future__ import annotations

import functools
import re

from ..text import STOPWORDS, terms
from ..types import Analysis
from . import dates
from .analysis import DESCRIBES, ORIGIN

_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
                 r"thousand|million|billion|dozen|half|double|twofold|threefold|fourfold|tenfold|twentyfold|"
                 r"several|dozens|hundreds|thousands")
# a count or measure, not an ordinal ("the 8th symposium" says nothing about how many), nor the
# digits of a name ("CNCT19"; but "bpo-1234" is an issue's number)
# (even glued to the next word, as scraped text has it: "the 35thanniversary")
_COUNT = re.compile(rf"(?<![A-Za-z\d])\d+(?:[.,]\d+)*(?!\d|st|nd|rd|th)(?:\s*(?:%|percent|per cent))?|\b(?:{_NUMBER_WORDS})\b", re.I)
# "What was the budget?" is answered by an amount of money, not by the number of trainees
# (lower case: "the Spanish Organ Donation Foundation" names no sum)
_MONEY_Q = re.compile(r"\b(?:budget|cost|costs|price|fee|fees|salary|funding|revenue|spending|spent|paid|pay|"
                      r"money|cash|worth|investment|invested)\b|(?<!\bin )\bcharge[sd]?\b")  # (not "in charge")
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
                         r"Memorial|Monument|Temple|Square|Garden|Gardens|Tower|Bridge|Palace|Library|Stadium|"
                         r"Medicine|Science|Sciences|Research|Clinical|International|National|Chinese|American|"
                         r"European|Asian|Global|World|General|Disease|Diseases|Syndrome|Syndromes|Therapy|Cancer|"
                         # a title is what someone is, not who ("• Vice Chair, Asian Society of ...")
                         r"Chair|Chairman|Chairwoman|Chairperson|President|Director|Secretary|Editor|Member|"
                         r"Chief|Officer|Vice|Deputy|Former|Honorary)\b")
_HONORIFIC = r"(?:Prof\.?|Professor|Dr\.?|Mr\.?|Mrs\.?|Ms\.?|Sir|Dame|President|Director|Chair(?:man|woman)?|Dean|Minister|Secretary)"
# "Dr.. Dina Garniasih": scraped news doubles a title's full stop now and then
_TITLED = re.compile(rf"\b{_HONORIFIC}\.?\s+([A-Z][\w’'\-]+(?:\s+[A-Z][\w’'\-]+){{0,2}})")
# A run of capitalised words, joined by the small words names and organisations contain; an initialism
# written with full stops ("the U.S., Europe, and Hong Kong") is one word
_CAPWORD = r"(?:(?:[A-Z]\.){2,}|[A-Z][\w’'\-]*\.?)"
_CAPRUN = re.compile(rf"{_CAPWORD}(?:\s+(?:(?:&|of|and|the|for|de|van|von|da|di|le|la)\s+)*{_CAPWORD})*")
_FUTURE_Q = re.compile(r"\b(?:will|next|upcoming|future|plan(?:s|ned)? to|going to)\b", re.I)
_FUTURE_S = re.compile(r"\b(?:will|would|next|upcoming|future|plans?|planned|aims?|intends?|going to|forward|ahead|"
                       r"prospects?|to be held|shall|expects?|expected)\b", re.I)


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
    >>> person_names("• Vice Chair, Asian Society of Clinical Oncology")  # a title, not a name
    []
    """
    out = [m.group(1) for m in _TITLED.finditer(text) if not _NOT_PERSON.search(m.group(1))]
    for name, start, end in _runs(text):
        cue = _ROLE_AFTER.match(text[end:]) or _BY.search(text[:start])
        # (a run opening with an acronym is a title or an organisation: "CTO of Juventas")
        if 2 <= len(name.split()) <= 3 and not _NOT_PERSON.search(name) and cue and not re.match(r"[A-Z]{2,}\b", name) \
                and not any(name in o or o in name for o in out):
            out.append(name)
    return out


def is_name_of_person(text: str) -> bool:
    """Is the text a name alone, of two or three capitalised words heading no organisation or event?

    >>> is_name_of_person("Prof. Mohamad Mohty"), is_name_of_person("the CSCO Conference"), is_name_of_person("Beijing Protocol")
    (True, False, False)
    """
    return bool(_NAME_ALONE.fullmatch(text.strip())) and not _NOT_PERSON.search(text)


_NAME_ALONE = re.compile(rf"(?:{_HONORIFIC}\s+)?[A-Z][\w’'\-]+(?:\s+[A-Z][\w’'\-]+){{1,2}}")


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
    # a title quoted names no place: "a talk on “CAR-T Cell Therapy in Refractory Autoimmune Hemolytic Anemia”"
    quoted = [m.span() for m in _QUOTE.finditer(sentence)]
    out: list[str] = []
    after = -1  # end of the last place found: "from Thailand, Belarus, and Egypt" goes on listing places
    for name, start, end in _runs(sentence):
        if any(a < start < b for a, b in quoted):
            continue
        listed = after >= 0 and bool(_LIST_ON.fullmatch(sentence[after:start]))
        # an acronym marks an organisation or a programme ("the CSCO Leukemia committee"), not a place,
        # unless the sentence went there ("participants visited BGI Tianjin")
        visited = institutions and bool(_VISITED.search(sentence[:start]))
        if name not in people and (listed or visited or _PLACE_BEFORE.search(sentence[:start])) \
                and (visited or not re.search(r"\b[A-Z]{3,}\b", name) and not _NOT_PERSON.search(name)):
            # "Italy and France" is two places (an organisation's "and" is ruled out above)
            out += [part for part in re.split(r"\s+and\s+", name) if part not in people]
            after = end
        else:
            after = -1
    return out


_QUOTE = re.compile(r"“[^”]*”|\"[^\"]*\"")
_LIST_ON = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)(?:the\s+)?")


_ENUMERATOR = re.compile(r"^\s*\(?\d{1,2}[.)](?=\s)")


def slot_values(answer_type: str | None, sentence: str, where: bool = False) -> list[str]:
    """The values of the asked-for type a sentence states: its dates, numbers, people or places
    (institutions too, for a "where" that names no kind of place).

    >>> slot_values("number", "1. Insufficient development of new drugs."), slot_values("number", "It trained 20 doctors.")
    ([], ['20'])
    """
    if answer_type == "date":
        return [sentence[slice(*m.span)] for m in dates.mentions(sentence)]
    if answer_type == "number":
        # (an item's number, "1. Insufficient development of ...", counts nothing)
        text = _ENUMERATOR.sub(" ", sentence)
        for m in reversed(dates.mentions(text)):
            text = text[: m.span[0]] + " " + text[m.span[1] :]
        return _COUNT.findall(text)
    if answer_type == "person":
        return person_names(sentence)
    if answer_type == "place":
        return _places(sentence, institutions=where)
    return []


# Countries and continents, which are never a city: general geography, the same on any corpus of news
_COUNTRY = re.compile(
    r"(?:the\s+)?(?:Afghanistan|Albania|Algeria|Andorra|Angola|Argentina|Armenia|Australia|Austria|Azerbaijan|Bahamas|"
    r"Bahrain|Bangladesh|Barbados|Belarus|Belgium|Belize|Benin|Bhutan|Bolivia|Bosnia(?: and Herzegovina)?|Botswana|"
    r"Brazil|Brunei|Bulgaria|Burkina Faso|Burundi|Cambodia|Cameroon|Canada|Chad|Chile|China|Colombia|Congo|Costa Rica|"
    r"Croatia|Cuba|Cyprus|Czechia|Czech Republic|Denmark|Djibouti|Dominican Republic|Ecuador|Egypt|El Salvador|"
    r"Eritrea|Estonia|Eswatini|Ethiopia|Fiji|Finland|France|Gabon|Gambia|Georgia|Germany|Ghana|Greece|Guatemala|"
    r"Guinea|Guyana|Haiti|Honduras|Hungary|Iceland|India|Indonesia|Iran|Iraq|Ireland|Israel|Italy|Ivory Coast|Jamaica|"
    r"Japan|Jordan|Kazakhstan|Kenya|Korea|South Korea|North Korea|Kosovo|Kuwait|Kyrgyzstan|Laos|Latvia|Lebanon|"
    r"Lesotho|Liberia|Libya|Liechtenstein|Lithuania|Luxembourg|Madagascar|Malawi|Malaysia|Maldives|Mali|Malta|"
    r"Mauritania|Mauritius|Mexico|Moldova|Monaco|Mongolia|Montenegro|Morocco|Mozambique|Myanmar|Namibia|Nepal|"
    r"Netherlands|New Zealand|Nicaragua|Niger|Nigeria|North Macedonia|Norway|Oman|Pakistan|Palestine|Panama|"
    r"Papua New Guinea|Paraguay|Peru|Philippines|Poland|Portugal|Qatar|Romania|Russia|Rwanda|Saudi Arabia|Senegal|"
    r"Serbia|Sierra Leone|Slovakia|Slovenia|Somalia|South Africa|South Sudan|Spain|Sri Lanka|Sudan|Suriname|Sweden|"
    r"Switzerland|Syria|Taiwan|Tajikistan|Tanzania|Thailand|Togo|Tunisia|Turkey|Türkiye|Turkmenistan|Uganda|Ukraine|"
    r"United Arab Emirates|UAE|United Kingdom|UK|Britain|Great Britain|England|Scotland|Wales|United States(?: of America)?|"
    r"U\.S\.A?\.?|US|USA|America|Uruguay|Uzbekistan|Venezuela|Vietnam|Yemen|Zambia|Zimbabwe|"
    r"Africa|Asia|Europe|North America|South America|Latin America|Oceania|Antarctica|Middle East)")
_TOWN_NOUN = re.compile(r"(?:city|cities|town|towns|metropolis|village|municipality)$")


def has_slot(analysis: Analysis, sentence: str) -> bool:
    """Does the sentence hold what the question asks for, beyond what the question itself says? An
    answer to "Which hotel in Haikou hosted it?" must name something other than Haikou; one to "How
    old is Jun Ma?" must state a number. Questions of no particular type always pass.

    >>> from rag.answer.analysis import analyse
    >>> has_slot(analyse("How much did the firm charge for it?"), "Earlier installers used Wise 5.0a.")
    False
    >>> has_slot(analyse("How much did the firm charge for it?"), "It charged $300 for the licence.")
    True
    """
    kind = analysis.answer_type
    if not names_kind(analysis, sentence):
        return False
    if asks_other_year(analysis) and not _YEAR.search(sentence):
        return False
    if kind == "expansion":
        abbr = re.escape(analysis.noun)
        return bool(re.search(rf"\(\s*{abbr}\s*\)|\b{abbr}\s*\(", sentence))
    if kind not in ("date", "number", "person", "place"):
        return True  # "which <noun>" names too many kinds of thing to check; a named one scores a bonus instead
    asked = analysis.question.lower()
    where = bool(re.match(r"\s*(?:and\s+)?where\b", asked))  # names no kind of place: any will do
    values = slot_values(kind, sentence, where)
    if kind == "person" and _BODY_ACT.search(asked) and not _IN_PERSON.search(asked) \
            or kind == "place" and _WORKS_AT.search(asked):
        # "Who hosted the workshop?": "hosted by the Department of ..."; "Where does he work?": "Director
        # of the Harbin Institute of ..." (where one works, studies or comes from is a body as often as a place)
        values = [*values, *_BODY_NAME.findall(sentence)]
    if kind == "person" and _HOLDER_Q.search(asked) and not _LEADER.search(sentence):
        # "Who is the director of the new centre?" is answered by a sentence giving someone a post that
        # leads something, not by one naming whoever spoke that day
        return False
    if kind == "place" and _TOWN_NOUN.match(analysis.noun):
        # "In which city was it held?" is not answered by "... for the development of HSCT in China"
        values = [v for v in values if not _COUNTRY.fullmatch(v)]
    if kind == "place" and _GONE_Q.search(asked) and _GONE.search(sentence):
        return True  # "Where did they go?": "they visited the pathology center" is where, named or not
    if kind == "number" and _MONEY_Q.search(asked) and not _MONEY.search(sentence):
        return False
    if kind == "number" and _DURATION_Q.search(asked):
        # "How long did the workshop last?" is answered by a span of time ("from August 15 to 29",
        # "a two-week course"), not by a day of it
        return bool(_DURATION.search(sentence))
    if kind == "number" and _AGE_Q.search(asked) and not _AGE.search(sentence):
        return False  # "How old was he?" is answered by an age, not by "3-year survival"
    if kind == "number" and _SHARE_Q.search(asked) and not _SHARE.search(sentence):
        return False  # "What is the survival rate?" is answered by a share ("70 percent"), not by "41 cases"
    if kind == "number" and (counted := _COUNTED.search(asked)) and not _counts_the_kind(counted, sentence):
        return False
    if kind == "number" and re.search(r"\bhow many\b", asked) and _one_of_many(analysis, sentence):
        return False
    if kind == "number" and re.search(r"\bhow many\b", asked):
        # a count, not the length of something ("a two-week course" says nothing of how many came)
        values = [v for v in values if not re.search(rf"\b{re.escape(v)}[- ](?:year|month|week|day|hour|minute)s?\b",
                                                     sentence, re.I)]
        # ... nor a share or a factor ("from 20 to 70 percent", "a twentyfold increase" say how much
        # something changed, not how many there are), nor a vague quantity ("several participants")
        values = [v for v in values if not re.search(r"%|percent|per cent|fold$|^(?:several|dozens|hundreds|thousands)$",
                                                     v, re.I)]
    if kind == "date" and _YEAR_Q.search(asked) and not _DAY_Q.search(asked):
        # "In what year ...?" is not answered by "August 22": the sentence must state a year itself
        # (but "On what date, and in which year ...?" is answered by the date, its year joined)
        values = [v for v in values if re.search(r"\b\d{4}\b", v)]
    return any(v.lower() not in asked for v in values)


_ENUMERATION = re.compile(r"(?:[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*\s*,\s*){2,}(?:and\s+)?[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*")


def _one_of_many(analysis: Analysis, sentence: str) -> bool:
    """Does the question name some, not all, of a list the sentence counts as a whole? "It recruited 20
    physicians from Thailand, Belarus, Vietnam, ..." does not say how many came from Vietnam.

    >>> from rag.answer.analysis import analyse
    >>> s = "It recruited 20 physicians from Thailand, Belarus, Vietnam, and Egypt."
    >>> _one_of_many(analyse("How many physicians came from Vietnam?"), s), _one_of_many(analyse("How many physicians came?"), s)
    (True, False)
    """
    for m in _ENUMERATION.finditer(sentence):
        items = [i for i in re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+", m.group()) if i]
        named = [i for i in items if any(n.lower() in i.lower() for n in analysis.specific)]
        if named and len(named) < len(items):
            return True
    return False


# "How many heart transplants ...?": the thing counted, its last word the noun, the words before it saying
# which of that noun (up to the verb or preposition that ends the phrase)
_COUNT_END = r"(?:has|have|had|did|do|does|were|was|are|is|will|would|could|can|in|at|of|from|for|on|by|per|across|during|over)"
_COUNTED = re.compile(rf"\bhow many\s+((?:(?!(?:{_COUNT_END}|the|and|or)\b)[a-z][\w-]*\s+){{1,2}}?)([a-z][\w-]*?)\s+{_COUNT_END}\b")


def _counts_the_kind(counted: re.Match, sentence: str) -> bool:
    """A sentence counting the noun asked about ("41 cases of liver transplant") but not the kind of it
    asked for ("heart transplants") counts something else; one not stating the noun may word it
    otherwise ("physicians" for "doctors"), and is left to the rest of the judge.

    >>> m = _COUNTED.search("how many heart transplants has the hospital performed?")
    >>> _counts_the_kind(m, "It has completed 41 cases of liver transplant."), _counts_the_kind(m, "It did 3 heart transplants.")
    (False, True)
    """
    said = set(terms(sentence))
    head = terms(counted.group(2))
    if not head or head[0] not in said:
        return True
    return set(terms(counted.group(1))) - _ANY_KIND <= said


# words saying nothing of which kind is counted ("how many different characters": "65,536 distinct characters")
_ANY_KIND = frozenset(terms("different distinct separate individual unique total new other more additional such "
                            "various actual overall exact whole entire"))


# "Which Hong Kong experts spoke?", "Which Peking University scientist lectured?": a name qualifying the
# thing asked for is what the answer must be (not any expert: one from Hong Kong); an adjective of
# origin ("Which Chinese cities") describes rather than names
_QUALIFIED_ASK = re.compile(r"\b(?i:which|what|(?P<names>names?\s+of\s+the))\s+((?:[A-Z][\w’'\-]*\s+){1,3})([a-z]+)")


# ... and so does where the person asked for comes from: "Which speaker came from the University of
# Pennsylvania?" is answered by one the paragraph places there, not by another speaker of the event
_CAME_FROM = re.compile(r"\b(?:comes?|came|is|was|are|were|hails?|hailed)\s+from\s+(?:the\s+)?"
                        r"([A-Z][\w’'\-]*(?:\s+(?:of\s+(?:the\s+)?|and\s+|&\s+)?[A-Z][\w’'\-]*)*)")


def qualifiers(analysis: Analysis) -> tuple[str, ...]:
    """The names qualifying the thing a "which/what" question asks for, which its answer's paragraph states.

    >>> from rag.answer.analysis import analyse
    >>> qualifiers(analyse("Which Hong Kong experts gave talks?")), qualifiers(analyse("Which Chinese cities hosted it?"))
    (('Hong Kong',), ())
    >>> qualifiers(analyse("What are the names of the Hong Kong experts who spoke?"))
    ('Hong Kong',)
    >>> qualifiers(analyse("Which speaker at the workshop came from the University of Pennsylvania?"))
    ('University of Pennsylvania',)
    """
    if analysis.answer_type == "person" and (came := _CAME_FROM.search(analysis.question)):
        return (came.group(1),)  # "Which speaker came from the University of Pennsylvania?"
    m = _QUALIFIED_ASK.search(analysis.question)
    # (the thing asked for comes next: not "what Professor Jun Ma said"; "the names of the Hong Kong
    # experts" asks for experts)
    if not m or analysis.kind not in ("fact", "list") or not m.group("names") and (
            not analysis.noun or not m.group(3).startswith(analysis.noun[:4])):
        return ()
    name = " ".join(w for w in m.group(2).split() if not re.fullmatch(ORIGIN, w))
    return (name,) if name else ()


def post_names(analysis: Analysis) -> tuple[str, ...]:
    """For "Who chairs X?", the names of X, which the answer's paragraph (or its article's lead, which
    says what the article is about) states: "the conference chair, Professor Jun Ma" does not chair
    the MDS committee the article names elsewhere.

    >>> from rag.answer.analysis import analyse
    >>> post_names(analyse("Who was appointed to chair the new MDS committee at the CSCO meeting?"))
    ('MDS', 'CSCO')
    >>> post_names(analyse("Who heads the advisory body of the US-based research organisation?"))
    ()
    """
    m = _HOLDER_Q.search(analysis.question) if analysis.answer_type == "person" else None
    if not m:
        return ()
    # (up to a clause about it: "the centre that the institute opened" is the centre)
    post = re.split(r"\b(?:that|which|who|where|when)\b|,", m.group("post"))[0]
    # (by its names: "the advisory body of the US-based organisation" is not named "US-based")
    return tuple(n for n in analysis.specific if n in post and not DESCRIBES.fullmatch(n))


def names_kind(analysis: Analysis, sentence: str) -> bool:
    """A question asking which hotel, university or hospital is answered by a sentence naming one, and
    English names those by their kind ("Peking University", "the Hilton Hotel"): a sentence that names
    a city but no hotel, or a person but no university, does not say; one asking which journal, by a
    sentence naming where something appeared. True for other questions."""
    if _PUBLICATION_Q.search(analysis.question):
        return bool(_PUBLICATION.search(sentence))
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
_AGE = re.compile(r"\b\d{1,3}[- ]years?[- ]old\b|\b\d{1,3}-year-old\b|\baged?\s+\d{1,3}\b|\bage of \d{1,3}\b|\b\d{1,3}\s+years of age\b|"
                  r"\bin (?:his|her|their) (?:twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)\b", re.I)
# a rate, share or ratio is a part of a whole, written as one ("70 percent", "one in five", "2:1", "halved")
_SHARE_Q = re.compile(r"\b(?:what|which|how (?:high|low|large|big|good))\s+(?:(?:was|is|were|are)\s+)?(?:the\s+|its\s+|their\s+)?"
                      r"(?:(?!(?:did|does|do|has|have|had|will|would|can|could)\b)[\w-]+\s+){0,2}?(?:rate|percentage|percent|proportion|share|fraction|ratio)s?\b", re.I)
_SHARE = re.compile(rf"%|\b(?:percent|per cent|percentage points?|ratio|fold|half|halved|third|quarter)\b|\b\d+\s*:\s*\d+\b"
                    rf"|\b(?:\d+|{_NUMBER_WORDS}|a)\s+(?:in|out of|of every)\s+(?:every\s+)?(?:\d+|{_NUMBER_WORDS})\b|\bper\s+\w+", re.I)
_YEAR_Q = re.compile(r"\b(?:what|which)\s+years?\b|\byear\s+(?:was|were|did|does)\b", re.I)
# Places a name after "in" does not identify by itself: a hotel, venue or building is called one
# ("the Hilton Hotel", "the venue"), where a city or country is just named ("held in Paris").
_BUILT_PLACE = re.compile(r"\b(?:which|what)\s+(?:\w+\s+)?(hotel|venue|building|site|hall|stadium|campus|room|"
                          r"auditorium|theat(?:er|re)|restaurant|airport|station|facility|hospital|university|"
                          r"college|school|museum|(?:convention|conference|exhibition|congress)\s+cent(?:er|re))s?\b"
                          # the head noun, not a modifier ("which hospital centres" asks for centres)
                          r"(?=\s*[?,.;]|\s*$|\s+(?:is|was|are|were|did|does|do|has|have|had|will|would|can|could|in|at|"
                          r"of|for|on|to|by|with|from|that|where|or|and|hosted|held|houses?|[a-z]{3,}ed)\b)", re.I)  # "... reached"


# "In which journal was it published?": a sentence naming where it appeared ("in the Journal of ...",
# "published in Blood"), not one that only says something was published ("has published 118 articles")
# (a journal: a newspaper or an outlet is often named without its kind, "Hematology Frontier interviewed him")
_PUBLICATION_Q = re.compile(r"\b(?:which|what)\s+(?:\w+\s+)?(?:journal|periodical)s?\b"
                            r"(?=\s*[?,.;]|\s*$|\s+(?:is|was|are|were|did|does|do|has|have|had|will|would|can|could|in|"
                            r"of|for|on|to|by|with|that|where|or|and|[a-z]{3,}ed)\b)", re.I)
_PUBLICATION = re.compile(r"\b(?i:journal|periodical)\b"
                          r"|\b(?i:published|appeared|printed|reported)\s+(?:\w+\s+){0,3}?(?i:in)\s+(?:the\s+)?[A-Z]")


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
    if _BODY_NOUN.match(analysis.noun):
        return _BODY_NAME  # "Which organisations ...?" is answered by "the Center for International ... Research"
    if _FIRM_NOUN.match(analysis.noun):
        return _FIRM_NAME  # "Which companies did they visit?": "Concord Biotech"
    return re.compile(rf"(?:[A-Z][\w’'&.-]*\s+){{1,6}}{analysis.noun.capitalize()}\w*\b")


# "Which companies ...?": a firm is seldom called "... Company", but its name often ends in what it is or
# how it is incorporated ("Concord Biotech", "Acme Pharmaceuticals", "Foo Ltd")
_FIRM_NOUN = re.compile(r"(?:compan|firm|enterprise|business|manufacturer|startup|start-up|corporation|vendor|supplier)", re.I)
_FIRM_NAME = re.compile(r"(?:[A-Z][\w’'&.-]*\s+){1,4}(?:Company|Biotech|Biotechnology|Bio|Biosciences?|Biologics|Pharma|"
                        r"Pharmaceuticals?|Therapeutics|Technolog(?:y|ies)|Inc|Ltd|Limited|Corp|Corporation|Co|Group|"
                        r"Holdings|Labs|Systems|Solutions|GmbH|AG|LLC|PLC)\b")
# "Which organisation/institution/body ...?" names no kind its answer is headed by: English names
# organisations by their kind of body ("... Center for ...", "... Academy", "Ministry of ...")
_BODY_NOUN = re.compile(r"(?:organi[sz]|institution|bod|agenc|entit)", re.I)
_BODY_HEADS = ("Center|Centre|Academy|Society|Association|Institute|Foundation|Council|Committee|Ministry|University|"
               "Hospital|Organi[sz]ation|Agency|Department|Bank|Company|Corporation|Federation|Union|Board|"
               "Commission|College|School|Laboratory|Network|Alliance|Consortium|Trust|Fund|Office|Bureau")
# "Who hosted / organised / funded / signed ...?" asks for whoever did it, and bodies do these: a
# ministry hosts, a hospital signs, a foundation funds; and one gives or presents an award ("Who gave
# Huang the award?": "the Center for ... Research presented Professor Huang with the award")
_DAY_Q = re.compile(r"\b(?:what|which)\s+(?:date|day)\b|\bwhen\b", re.I)
_BODY_ACT = re.compile(r"^\s*who\s+(?:\w+\s+)?(?:host|organi[sz]|sponsor|fund|financ|sign|award|grant|launch|found|"
                       r"establish|publish|release|announc|approv|support|run|operat|own|manag|certif|accredit)\w*\b"
                       r"|^\s*who\s+(?:\w+\s+)?(?:gave|give|gives|present|presents|presented|confer\w*|bestow\w*|honou?r\w*)\b"
                       r".*\b(?:awards?|prizes?|honou?rs?|medals?|titles?|certificates?)\b", re.I)
_WORKS_AT = re.compile(r"^\s*(?:and\s+)?where\s+(?:does|did|do|is|was|are|were)\b.*\b(?:work|works|worked|working|based|"
                       r"employed|affiliated|stud(?:y|ies|ied|ying)|teach|teaches|taught|trained|come from|came from)\b", re.I)
_GONE_Q = re.compile(r"^\s*(?:and\s+)?where\s+(?:did|do|does|will|would)\b.*\b(?:go|travel|visit|tour|head)\b", re.I)
_GONE = re.compile(r"\b(?:visited|toured|went to|travel(?:l)?ed to|headed to|moved on to)\s+(?:the\s+|a\s+|an\s+)?\w", re.I)
# ... unless it asks for the person who did it for a body ("Who signed on behalf of the foundation?")
# "Who is the director / head / president of X?": a post leading something, said with any of these words
# ("Michael Verneris, chair of the Advisory Committee" for "Who heads the advisory panel?")
_LEADER_WORDS = (r"director|head|chief|leader|president|chair|chairman|chairwoman|chairperson|dean|principal|"
                 r"ceo|cto|cfo|coo|manager|secretary|governor|mayor|minister|commissioner|superintendent|rector|provost")
# "Who is the director of X?", "Who chairs X?", "Who was appointed to lead X?": the holder of a post
# leading X (group "post": X)
_HOLDER_Q = re.compile(rf"^\s*(?:and\s+)?who\s+(?:(?:is|was|will be|has been|became)\s+(?:the\s+)?(?:\w+\s+)?(?:{_LEADER_WORDS})\s+of"
                       r"|(?:chairs|chaired|heads|headed|leads|led|directs|directed|presides over|presided over)"
                       r"|(?:is|was|will be|has been)\s+(?:appointed|named|elected|chosen|picked)\s+(?:to\s+)?(?:chair|head|lead|direct))"
                       r"\s+(?P<post>.+)", re.I)
_LEADER = re.compile(rf"\b(?:{_LEADER_WORDS}|vice[- ]president|led by|heads|headed|directs|directed|chairs|chaired|leads)\b", re.I)
_IN_PERSON = re.compile(r"\b(?:on behalf of|representing|in the name of|for the \w+ side)\b", re.I)
_BODY_NAME = re.compile(rf"(?:[A-Z][\w’'&.-]*\s+){{0,6}}(?:{_BODY_HEADS})\b(?:\s+(?:of|for|on)\s+(?:(?:and|the)\s+|[A-Z][\w’'&.-]*\s*)+)?")


# "Who were the speakers?", "List the lecturers at ...": people the article names by what they did,
# in its own verb ("Prof. X lectured on ...", "Dr. Y presented ...", "Z delivered a speech")
_ROLE_Q = re.compile(r"\b(speaker|lecturer|presenter|organi[sz]er|host|founder|author|winner)s?\b", re.I)
_ROLE_DOING = {"speaker": "spoke|speech|talk|lectur|present|address|deliver", "lecturer": "lectur|talk|present",
               "presenter": "present", "organiser": "organi[sz]", "organizer": "organi[sz]", "host": "host",
               "founder": "found", "author": "wrote|written|author", "winner": "won|receiv|honou?r|award"}


def doers_pattern(analysis: Analysis) -> re.Pattern | None:
    """For "who were the <role>s" questions, a sentence naming someone doing what the role does (a
    list's items; "Which speaker reported on X?" wants the one who did X, not any speaker).

    >>> from rag.answer.analysis import analyse
    >>> bool(doers_pattern(analyse("List the speakers at the workshop.")).search("Prof. Ruonan Li followed with a talk"))
    True
    """
    m = _ROLE_Q.search(analysis.question) if analysis.answer_type == "person" and analysis.kind == "list" else None
    if not m:
        return None
    return re.compile(rf"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b[^.;:]{{0,60}}?\b(?:{_ROLE_DOING[m.group(1).lower()]})")


def members_pattern(analysis: Analysis) -> re.Pattern | None:
    """For "which/what <noun>s" questions, a sentence naming members of that kind: "enterprises
    including Union Precision, Vcanbio ...", "countries such as South Korea"."""
    if not analysis.noun or analysis.answer_type == "expansion":
        return None
    # ... or introduces them as a list that follows ("However, challenges remain:", "two key priorities:")
    kind = _kinds(analysis.noun)
    return re.compile(rf"\b{kind}\w*\s*(?:,\s*)?(?:including|such as|like|namely|:)\s+(?:the\s+)?[A-Z]"
                      rf"|\b{kind}\w*(?:\s+\w+){{0,2}}\s*:\s*$", re.I)


# The words English uses for one kind of thing: "Which companies did they visit?" is answered by
# "enterprises including Union Precision, ...", "Which nations ...?" by "countries such as ..."
_SAME_KIND = (("compan", "enterprise", "firm", "business", "corporation"), ("countr", "nation"),
              ("citi", "city", "town"), ("organi", "institution", "bod", "agenc"))


def _kinds(noun: str) -> str:
    "The noun, or its words of the same kind, as a regex alternation."
    for group in _SAME_KIND:
        if any(noun.startswith(w) for w in group):
            return "(?:" + "|".join(group) + ")"
    return re.escape(noun)


# "What other title does he hold?", "Which positions does Jun Ma hold?": a sentence giving someone a
# title ("Prof. Tao Cheng, also Director of the National Key Laboratory", "He serves as: • Chair, ...")
_TITLE_Q = re.compile(r"\b(?:what|which|list|name)\s+(?:(?:are|were|is|was)\s+)?(?:all\s+)?(?:of\s+)?(?:the\s+|his\s+|her\s+)?"
                      r"(?:other\s+|else\s+)?(?:titles?|positions?|posts?|roles?|offices?|jobs?)\b", re.I)
_TITLED_AS = re.compile(r"\b(?:Vice\s+|Deputy\s+|Honorary\s+|Former\s+|Executive\s+)?(?:Director|President|Chair(?:man|woman|person)?|"
                        r"Head|Dean|Secretary|Editor(?:-in-Chief)?|Chief|Member|Founder|CEO|CTO|CFO|Professor|Fellow|"
                        r"Academician|Minister|Governor|Mayor)\b(?:\s+of\b|,)", re.I)  # "Mohty, former president of the EBMT"


def title_pattern(analysis: Analysis) -> re.Pattern | None:
    "For a question about someone's titles, a sentence giving one."
    return _TITLED_AS if _TITLE_Q.search(analysis.question) else None


# "Where was the award presented?", "Where was it?": where the event it was part of was held
VENUE = re.compile(r"\b(?:held|took place|hosted|convened|staged|opened)\b[^.;]{0,60}?\b(?:in|at)\s+(?:the\s+)?[A-Z]")


# "Where did the experts come from?", "Where are the trainees from?": where someone is from, not where it was held
_FROM_WHERE = re.compile(r"\bwhere\b[^?]*\b(?:from|come|came|hail|hails|originate|originated)\b|\bfrom where\b", re.I)


def venue_pattern(analysis: Analysis) -> re.Pattern | None:
    """For "where" questions, a sentence saying where something was held: "The 2024 Tandem Meetings
    were held on February 21-24 in San Antonio"."""
    return VENUE if analysis.answer_type == "place" and not _FROM_WHERE.search(analysis.question) else None


CHECKED_TYPES = ("date", "number", "person", "place", "expansion")


def checkable(analysis: Analysis) -> bool:
    """Can a sentence be checked for what the question asks? Answer types a sentence can be checked
    for reliably (a date, a number, a person's name, a place, the expansion of an abbreviation), a
    question about the future, a question asking which hotel, university or journal. Other "which <noun>"
    questions name too many kinds of thing to check."""
    return analysis.answer_type in CHECKED_TYPES or asks_future(analysis) or asks_other_year(analysis) \
        or bool(_BUILT_PLACE.search(analysis.question) or _PUBLICATION_Q.search(analysis.question))


def asks_future(analysis: Analysis) -> bool:
    "A question about what will happen: only a sentence about the future answers it."
    return bool(_FUTURE_Q.search(analysis.question))


# "Who won it the year before Huang did?", "How many were done last year?": another year's occurrence of
# what the articles report. A sentence about the occurrence reported, undated, does not tell of another;
# only one stating a year can.
_OTHER_YEAR_Q = re.compile(r"\b(?:the|a)\s+year\s+(?:before|after|earlier|later|prior)\b|\byears?\s+(?:earlier|later)\b"
                           r"|\b(?:previous|preceding|following|last|prior)\s+year(?:'s|’s)?\b", re.I)
_YEAR = re.compile(r"\b(?:1[89]|20)\d{2}\b")


def asks_other_year(analysis: Analysis) -> bool:
    """A question about another year than the one reported: only a sentence stating a year answers it.

    >>> from rag.answer.analysis import analyse
    >>> asks_other_year(analyse("Who won the award the year before Huang did?")), asks_other_year(analyse("Who won the award?"))
    (True, False)
    """
    return bool(_OTHER_YEAR_Q.search(analysis.question))


def states_future(sentence: str) -> bool:
    "A sentence about what will happen (the only kind that answers a question about the future)."
    return bool(_FUTURE_S.search(sentence))
