"""Answering: question analysis, conversation, answerability and one strategy per question kind.

    analysis.py        what a question asks for (kind, answer type, names, period, instructions)
    conversation.py    keeps the subject across turns
    sentences.py       scores the evidence's sentences against the question
    answerability.py   does the best sentence answer, or only share the topic?
    kinds/             fact, list, collection, summary, compare
    extractive.py      the offline back-end: dispatches to the strategy of the question's kind
"""
