"""Answering: question analysis, conversation, answerability and one strategy per question kind.

    analysis.py        what a question asks for (kind, answer type, names, period, instructions)
    conversation.py    keeps the subject across turns
    sentences.py       scores the evidence's sentences against the question
    slots.py           does a sentence hold the kind of answer asked for (a date, a count, a person ...)
    dates.py           dates in text and questions, periods, a schedule's day headings
    spelling.py        typo correction against the articles' own words
    answerability.py   does the best sentence answer, or only share the topic?
    synthetic.py       unanswerable variants of questions, to fit the answerability judge
    kinds/             fact, list, collection, summary, compare
    compose.py         chosen sentences into a cited reply; the abstention that says what is missing
    extractive.py      the offline back-end: dispatches to the strategy of the question's kind
"""
