"""A question set: one JSON record per line (the project's own is evals/questions.jsonl).

    id, question, answerable   the question and whether the articles answer it
    gold                       short verbatim quotes of the supporting passages (survive re-chunking)
    key_facts                  facts the answer must state, each a list of acceptable alternatives
    critical                   a critical question that passed in the baseline must keep passing
    split                      "calib" (threshold calibration) or "test" (held out from calibration)
    doc_ids, tags              the articles the gold comes from; question kinds

Only the eval harness reads question sets: nothing else in rag/ may.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..config import checkout
from ..errors import RagError

SPLITS = ("all", "calib", "test")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answerable: bool
    gold: tuple[str, ...]
    key_facts: tuple[tuple[str, ...], ...]
    critical: bool
    split: str
    doc_ids: tuple[str, ...]
    tags: tuple[str, ...]


def parse(record: dict) -> Question:
    "One record, checked: a malformed record is an error naming the question, never a silent skip."
    qid = record.get("id", "?")
    try:
        q = Question(
            id=str(record["id"]), question=str(record["question"]), answerable=bool(record["answerable"]),
            gold=tuple(record["gold"]), key_facts=tuple(tuple(alts) for alts in record["key_facts"]),
            critical=bool(record["critical"]), split=str(record["split"]),
            doc_ids=tuple(record.get("doc_ids", ())), tags=tuple(record.get("tags", ())),
        )
    except (KeyError, TypeError) as e:
        raise ValueError(f"question {qid}: missing or malformed field {e}") from None
    if q.split not in SPLITS[1:]:
        raise ValueError(f"question {qid}: split must be calib or test, not {q.split!r}")
    if q.answerable and not (q.gold and q.key_facts and all(q.key_facts)):
        raise ValueError(f"question {qid}: an answerable question needs gold quotes and key facts")
    if not q.answerable and (q.gold or q.key_facts or q.critical):
        raise ValueError(f"question {qid}: an unanswerable question has no gold, key facts or critical flag")
    return q


def project_file(name: str) -> Path | None:
    "A file of the project's regression set (evals/NAME in the checkout), or None outside a checkout."
    root = checkout()
    return root / "evals" / name if root else None


def default_questions() -> Path:
    "The project's own question set, evals/questions.jsonl; it exists only in a checkout."
    path = project_file("questions.jsonl")
    if path is None or not path.exists():
        raise RagError("no question set: pass one with --questions FILE.jsonl (the project's own set, "
                       "evals/questions.jsonl, is only in a checkout of the repository)")
    return path


def load(split: str = "all", path: Path | None = None) -> list[Question]:
    "The questions of a split ('all', 'calib' or 'test') of a set (default: the project's), in file order."
    path = path or default_questions()
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}. Valid splits: {', '.join(SPLITS)}")
    questions = [parse(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: duplicate question ids")
    return [q for q in questions if split == "all" or q.split == split]
