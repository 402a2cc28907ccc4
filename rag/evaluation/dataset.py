"""A question set: one JSON object per line (the project's own is evals/questions.jsonl).

Only `question` is required; every other field adds a measurement:

    question      the question, as a user would ask it
    id            a name for reports (default: "line N")
    answerable    do the articles answer it? (default true). An unanswerable question is scored on
                  whether the assistant abstains, and has no gold, key_facts or reference
    gold          short verbatim quotes of the passages that answer it (they survive re-chunking):
                  scores retrieval (recall, MRR, nDCG) and whether the answer cites a gold paragraph
    key_facts     facts the answer must state; each is a string or a list of acceptable alternatives
    reference     a reference answer in words: exported as the ground truth for LLM judges (--export)
    critical      a critical question that passed in the baseline must keep passing (default false)
    split         "calib" (used by --calibrate) or "test" (held out; the default)
    doc_ids, tags the articles the gold comes from; free-form labels
    kind          what sort of question (KINDS, default "fact"); every metric is also reported per kind
    history       earlier questions of the same conversation, oldest first: the harness asks them in
                  order and passes the answers on as history (default none)

    {"question": "When were the Tandem Meetings held?", "gold": ["held on February 21-24"], "key_facts": ["February 21-24"]}
    {"question": "Who won the 2031 Nobel Prize in Medicine?", "answerable": false}
    {"id": "own-3", "question": "What is the Beijing Protocol?", "reference": "A haploidentical transplant protocol."}

Only the eval harness reads question sets: nothing else in rag/ may.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..config import checkout
from ..errors import RagError

SPLITS = ("all", "calib", "test")
KINDS = ("fact", "paraphrase", "typo", "list", "date", "collection", "summary", "compare", "followup", "absent",
         "out-of-domain", "injection")
FIELDS = ("id", "question", "answerable", "kind", "history", "gold", "key_facts", "reference", "critical", "split",
          "doc_ids", "tags")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answerable: bool = True
    gold: tuple[str, ...] = ()
    key_facts: tuple[tuple[str, ...], ...] = ()
    critical: bool = False
    split: str = "test"
    doc_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    reference: str | None = None
    kind: str = "fact"
    history: tuple[str, ...] = ()


def _strings(value, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must be a list of strings")
    return tuple(value)


def parse(record: dict, default_id: str = "?") -> Question:
    "One record, checked: a malformed record is an error naming the question, never a silent skip."
    if not isinstance(record, dict):
        raise ValueError(f"question {default_id}: expected a JSON object, not {type(record).__name__}")
    qid = str(record.get("id", default_id))
    unknown = sorted(set(record) - set(FIELDS))
    if unknown:
        raise ValueError(f"question {qid}: unknown field(s) {unknown}. Valid fields: {', '.join(FIELDS)}")
    try:
        question = record["question"]
        if not isinstance(question, str) or not question.strip():
            raise TypeError("question must be a non-empty string")
        reference = record.get("reference")
        if reference is not None and not isinstance(reference, str):
            raise TypeError("reference must be a string")
        facts = record.get("key_facts", [])
        if not isinstance(facts, list):
            raise TypeError("key_facts must be a list")
        q = Question(
            id=qid, question=question, answerable=bool(record.get("answerable", True)),
            gold=_strings(record.get("gold", []), "gold"),
            key_facts=tuple((f,) if isinstance(f, str) else _strings(f, "each key fact") for f in facts),
            critical=bool(record.get("critical", False)), split=str(record.get("split", "test")),
            doc_ids=_strings(record.get("doc_ids", []), "doc_ids"), tags=_strings(record.get("tags", []), "tags"),
            reference=reference, kind=str(record.get("kind", "fact")),
            history=_strings(record.get("history", []), "history"),
        )
    except KeyError as e:
        raise ValueError(f"question {qid}: missing field {e}") from None
    except TypeError as e:
        raise ValueError(f"question {qid}: {e}") from None
    if q.kind not in KINDS:
        raise ValueError(f"question {qid}: kind must be one of {', '.join(KINDS)}, not {q.kind!r}")
    if q.split not in SPLITS[1:]:
        raise ValueError(f"question {qid}: split must be calib or test, not {q.split!r}")
    if not all(q.key_facts):
        raise ValueError(f"question {qid}: a key fact needs at least one alternative")
    if not q.answerable and (q.gold or q.key_facts or q.critical or q.reference):
        raise ValueError(f"question {qid}: an unanswerable question has no gold, key facts, reference or "
                         "critical flag")
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
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}. Valid splits: {', '.join(SPLITS)}")
    path = path or default_questions()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise RagError(f"cannot read the question set {path}: {e}") from e
    questions = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}, line {n}: not JSON ({e.msg}); write one JSON object per line") from None
        try:
            questions.append(parse(record, f"line {n}"))
        except ValueError as e:
            raise ValueError(f"{path}, line {n}: {e}") from None
    if not questions:
        raise ValueError(f"{path} holds no questions; write one JSON object per line, e.g. "
                         '{"question": "What is the Beijing Protocol?"}')
    dupes = sorted(i for i, n in Counter(q.id for q in questions).items() if n > 1)
    if dupes:
        raise ValueError(f"{path}: duplicate question ids {dupes}")
    return [q for q in questions if split == "all" or q.split == split]
