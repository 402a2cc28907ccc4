"""`rag eval --export FILE`: every question's answer in the record schema LLM-judge frameworks read.

One record per question carries both schemas, so the same file loads into either framework (each
ignores the other's keys: both build their records with pydantic models that ignore extra fields):

    RAGAS  SingleTurnSample         user_input, response, retrieved_contexts, retrieved_context_ids,
                                    reference, reference_contexts
           EvaluationDataset.from_jsonl(FILE.jsonl) / from_list(json.load(FILE.json))
    DeepEval LLMTestCase            input, actual_output, retrieval_context, expected_output, context, name, tags
           LLMTestCase(**record) / EvaluationDataset.add_test_cases_from_json_file(FILE.json, ...)

Field by field:
    user_input, input                        the question
    response, actual_output                  the answer text, with its [n] markers
    retrieved_contexts, retrieval_context    the paragraphs the back-end answered from, best first
    retrieved_context_ids                    their ids, "doc_id:paragraph"
    reference, expected_output               the ground truth: the record's `reference` when the question
                                             set has one, else its key facts joined with "; " (the first
                                             alternative of each), or CANNOT_ANSWER for an unanswerable
                                             question; null when the set says nothing
    reference_contexts, context              the gold quotes (null when the set has none)
    metadata                                 id, answerable, abstained, back-end, and the cited paragraphs
                                             (marker, doc_id, title, paragraph, page, char offsets, text,
                                             supported)

FILE.jsonl gets one record per line (RAGAS's from_jsonl); FILE.json a JSON array (DeepEval's
add_test_cases_from_json_file, RAGAS's from_list).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from ..generation import CANNOT_ANSWER
from ..types import Answer
from .dataset import Question

# The field names each framework reads; a test checks every record against them.
RAGAS_FIELDS = ("user_input", "response", "retrieved_contexts", "reference", "reference_contexts")
DEEPEVAL_FIELDS = ("input", "actual_output", "retrieval_context", "expected_output", "context")
FORMATS = (".jsonl", ".json")


def ground_truth(q: Question) -> str | None:
    "The reference answer a judge compares with (see the module docstring)."
    if q.reference:
        return q.reference
    if not q.answerable:
        return CANNOT_ANSWER
    if q.key_facts:
        return "; ".join(alternatives[0] for alternatives in q.key_facts)
    return None


def record(q: Question, answer: Answer) -> dict:
    "One question's export record."
    contexts = [h.text for h in answer.hits]
    truth = ground_truth(q)
    gold = list(q.gold) or None
    cited = [{"marker": c.marker, "doc_id": c.doc_id, "title": c.title, "paragraph": c.paragraph, "page": c.page,
              "start": c.start, "end": c.end, "text": c.text, "supported": c.supported} for c in answer.citations]
    return {
        "user_input": q.question, "response": answer.text, "retrieved_contexts": contexts,
        "retrieved_context_ids": [f"{h.doc_id}:{h.paragraph}" for h in answer.hits],
        "reference": truth, "reference_contexts": gold,
        "input": q.question, "actual_output": answer.text, "retrieval_context": contexts,
        "expected_output": truth, "context": gold, "name": q.id, "tags": list(q.tags),
        "metadata": {"id": q.id, "answerable": q.answerable, "abstained": answer.abstained,
                     "backend": answer.backend, "citations": cited},
    }


def check_path(path: Path) -> Path:
    "Refuse an export path we cannot write before the run, not after it."
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"--export {path.name}: use a .jsonl (one record per line) or .json (an array) file")
    if not path.parent.is_dir():
        raise ValueError(f"--export {path}: the folder {path.parent} does not exist")
    return path


def write(path: Path, pairs: Iterable[tuple[Question, Answer]]) -> int:
    "Write the records (format by suffix, atomically); return how many."
    records = [record(q, a) for q, a in pairs]
    if path.suffix.lower() == ".jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    else:
        text = json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return len(records)
