"""The regression gate: compare a run with the committed baseline (evals/baseline.json).

The gate fails when
  - a metric (headline, or retrieval of any mode) is worse than the baseline's by more than the
    tolerance (absolute; "worse" is lower, or higher for the false-abstention rate), or
  - a `critical` question that passed in the baseline fails now.
Latency is reported, never gated: it is machine noise. Every question whose pass/fail flags changed
is listed with the flags that flipped and their values before and after.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .dataset import project_file
from .scoring import METRICS, MODES, RETRIEVAL

DEFAULT_TOLERANCE = 0.02
# per-question flag -> the value that explains it
FLAG_VALUES = {"recall@5": "recall@5", "key_facts": "key_fact_recall", "gold_citation": "gold_citation",
               "cited_gold_share": "cited_gold_share", "abstention": "abstained"}


@dataclass(frozen=True)
class Change:
    id: str
    critical: bool
    before: bool | None  # overall pass in the baseline (None: not in the baseline)
    after: bool
    reasons: tuple[str, ...]

    @property
    def direction(self) -> str:
        if self.before == self.after:
            return "pass" if self.after else "fail"
        return f"{_pf(self.before)}→{_pf(self.after)}"

    def line(self) -> str:
        mark = "✗" if self.before and not self.after else "✓" if self.after and not self.before else "~"
        crit = " (critical)" if self.critical else ""
        return f"  {mark} {self.id}{crit} {self.direction}: {'; '.join(self.reasons)}"


@dataclass
class Verdict:
    tolerance: float
    failures: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _pf(flag: bool | None) -> str:
    return "n/a" if flag is None else "pass" if flag else "fail"


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def default_baseline() -> Path | None:
    "The project's committed baseline, evals/baseline.json (None outside a checkout)."
    return project_file("baseline.json")


def load_baseline(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _round(obj):
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v) for v in obj]
    return obj


def baseline_from(run) -> dict:
    "What --update-baseline commits: the run's settings, every split's numbers, per-question flags."
    return _round({
        "note": "Written by `rag eval --update-baseline`. `rag eval` fails when a metric drops more than "
                "the tolerance below these numbers or a critical question that passes here fails.",
        "created": run.started,
        "backend": run.backend,
        "retriever": run.retriever,
        "k": run.k,
        "abstain_threshold": run.abstain_threshold,
        "corpus": run.corpus,
        "splits": {s: run.summary(s) for s in run.splits},
        "latency": run.latency,
        "questions": {r["id"]: {"critical": r["critical"], "split": r["split"], "pass": r["pass"],
                                "passed": r["passed"], "values": r["values"]} for r in run.records},
    })


def save_baseline(path: Path, run) -> None:
    path.write_text(json.dumps(baseline_from(run), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _metric_failures(current: dict, base: dict, retriever: str, tolerance: float) -> list[str]:
    "Headline metrics, then retrieval of the other modes (the run's own mode is the headline)."
    pairs = [(METRICS[n], n, current["metrics"].get(n), base["metrics"].get(n)) for n in METRICS]
    pairs += [(x, f"{md} {x.name}", current["retrieval_by_mode"][md][x.name],
               base.get("retrieval_by_mode", {}).get(md, {}).get(x.name))
              for md in MODES if md != retriever for x in RETRIEVAL]
    out = []
    for metric, name, value, was in pairs:
        if was is not None and value is None:
            out.append(f"{name}: no value now (baseline {_fmt(was)})")
        elif metric.drop(value, was) > tolerance + 1e-9:
            out.append(f"{name}: {value:.3f} vs baseline {was:.3f} ({value - was:+.3f}; tolerance {tolerance:g})")
    return out


def _explain(flag: str, values: dict) -> str:
    if flag == "abstention":
        return "abstained" if values.get("abstained") else "answered"
    return _fmt(values.get(FLAG_VALUES[flag]))


def _reasons(record: dict, was: dict) -> list[str]:
    "The flags that flipped, with the values behind them (n/a transitions follow from an abstention flip)."
    reasons = []
    for flag in FLAG_VALUES:
        before, after = was["passed"].get(flag), record["passed"].get(flag)
        if before != after and before is not None and after is not None:
            reasons.append(f"{flag} {_pf(before)}→{_pf(after)} "
                           f"({_explain(flag, was['values'])}→{_explain(flag, record['values'])})")
    if reasons and record["missing_docs"]:
        reasons.append(f"article {', '.join(record['missing_docs'])} is not in the index")
    return reasons


def compare(run, baseline: dict | None, tolerance: float = DEFAULT_TOLERANCE) -> Verdict:
    "Gate a run against the baseline. With no baseline, nothing is compared (and nothing fails)."
    verdict = Verdict(tolerance)
    if baseline is None:
        verdict.notes.append("no baseline given: nothing gated (rag eval --baseline FILE compares with one)")
        return verdict
    for name, now in (("backend", run.backend), ("retriever", run.retriever), ("k", run.k),
                      ("abstain_threshold", run.abstain_threshold)):
        if baseline.get(name) != now:
            verdict.notes.append(f"{name} is {now}; the baseline used {baseline.get(name)}")
    missing = sorted(set(baseline.get("corpus", [])) - set(run.corpus))
    extra = sorted(set(run.corpus) - set(baseline.get("corpus", [])))
    if missing or extra:
        verdict.notes.append(f"the corpus differs from the baseline's: missing {missing or 'none'}, "
                             f"new {extra or 'none'}")
    base = baseline["splits"].get(run.split)
    if base is None:
        verdict.failures.append(f"the baseline has no numbers for split {run.split!r}")
    else:
        verdict.failures += _metric_failures(run.summary(), base, run.retriever, tolerance)
    questions = baseline.get("questions", {})
    for r in run.records:
        was = questions.get(r["id"])
        if was is None:
            verdict.changes.append(Change(r["id"], r["critical"], None, r["pass"], ("new question",)))
            continue
        reasons = _reasons(r, was)
        if reasons or was["pass"] != r["pass"]:
            verdict.changes.append(Change(r["id"], r["critical"], was["pass"], r["pass"], tuple(reasons)))
        if r["critical"] and was["pass"] and not r["pass"]:
            failed = ", ".join(f for f, ok in r["passed"].items() if not ok)
            verdict.failures.append(f"critical question {r['id']} passed in the baseline and fails now ({failed})")
    return verdict
