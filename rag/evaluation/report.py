"""The eval report: summary.md, questions.json (one record per question), metrics.json, chart.png,
and the console text (gate verdict, per-question diff, and the README-ready metrics table)."""

from __future__ import annotations

import json
from pathlib import Path

from . import chart
from .diagnose import shortfalls
from .gate import Verdict
from .scoring import METRICS, MODES, RETRIEVAL

CALIBRATION = ("`Settings.abstain_threshold` is calibrated on the **calib** split only "
               "(`rag eval --calibrate`); the test split is held out from it.")


def _f(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _met(name: str, value) -> str:
    met = METRICS[name].met(value)
    return "-" if met is None else "yes" if met else "**no**"


def readme_table(summary: dict) -> str:
    "metric | value | target | met? — the table to paste into the README."
    rows = ["| metric | value | target | met? |", "|---|---|---|---|"]
    for name, m in METRICS.items():
        v = summary["metrics"].get(name)
        rows.append(f"| {m.label} | {_f(v)} | {m.target_text} | {_met(name, v)} |")
    return "\n".join(rows)


def _metrics_table(summary: dict, base: dict | None) -> str:
    rows = ["| metric | value | baseline | Δ | target | met? |", "|---|---|---|---|---|---|"]
    for name, m in METRICS.items():
        v = summary["metrics"].get(name)
        b = (base or {}).get("metrics", {}).get(name)
        delta = f"{v - b:+.3f}" if v is not None and b is not None else "-"
        rows.append(f"| {m.label} | {_f(v)} | {_f(b)} | {delta} | {m.target_text} | {_met(name, v)} |")
    return "\n".join(rows)


def _modes_table(summary: dict, base: dict | None) -> str:
    rows = ["| retriever | " + " | ".join(x.name for x in RETRIEVAL) + " |", "|---" * (len(RETRIEVAL) + 1) + "|"]
    for md in MODES:
        cells = []
        for x in RETRIEVAL:
            v = summary["retrieval_by_mode"][md][x.name]
            b = (base or {}).get("retrieval_by_mode", {}).get(md, {}).get(x.name)
            cells.append(_f(v) + (f" ({_f(b)})" if b is not None else ""))
        rows.append(f"| {md} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _splits_table(run) -> str:
    per = {s: run.summary(s) for s in ("calib", "test", "all")}
    rows = ["| metric | calib | test | all |", "|---|---|---|---|"]
    for name, m in METRICS.items():
        rows.append(f"| {m.label} | " + " | ".join(_f(per[s]["metrics"].get(name)) for s in per) + " |")
    return "\n".join(rows)


def kinds_table(summary: dict) -> str:
    "Answer metrics per question kind."
    from .scoring import PER_KIND

    rows = ["| kind | questions | " + " | ".join(METRICS[n].label for n in PER_KIND) + " |",
            "|---|---" + "|---" * len(PER_KIND) + "|"]
    for kind, v in summary.get("by_kind", {}).items():
        rows.append(f"| {kind} | {v['questions']} | " + " | ".join(_f(v[n]) for n in PER_KIND) + " |")
    return "\n".join(rows)


def _failing_table(records: list[dict]) -> str:
    rows = ["| id | critical | failed | answer |", "|---|---|---|---|"]
    for r in records:
        if r["pass"]:
            continue
        failed = ", ".join(f for f, ok in r["passed"].items() if not ok)
        text = r["answer"]["text"].replace("|", "\\|").replace("\n", " ")
        text = text if len(text) <= 140 else text[:137] + "..."
        rows.append(f"| {r['id']} | {'yes' if r['critical'] else ''} | {failed} | {text} |")
    return "\n".join(rows)


def summary_markdown(run, baseline: dict | None, verdict: Verdict) -> str:
    s = run.summary()
    base = (baseline or {}).get("splits", {}).get(run.split)
    c = s["counts"]
    lat = run.latency
    out = [
        f"# rag eval — {run.started}",
        "",
        f"- Corpus: {len(run.corpus)} articles ({', '.join(run.corpus)}).",
        f"- Back-end: {run.backend}; retriever **{run.retriever}**, k={run.k}, "
        f"abstain_threshold={run.abstain_threshold}.",
        f"- Reported numbers: split **{run.split}** — {c['questions']} questions "
        f"({c['answerable']} answerable, {c['unanswerable']} unanswerable, {c['answered']} answered).",
        f"- Calibration: {CALIBRATION}",
        (f"- Gate: **{'PASS' if verdict.ok else 'FAIL'}** against the baseline "
         f"({baseline.get('created')}, retriever {baseline.get('retriever')})" if baseline else
         "- Gate: none (no baseline given: nothing was compared)")
        + f"; tolerance **{verdict.tolerance:g}** absolute per metric; critical questions must keep passing; "
          "latency is not gated.",
        "",
        "## Metrics",
        "",
        _metrics_table(s, base),
        "",
        "## Retrieval by mode (baseline in brackets)",
        "",
        _modes_table(s, base),
    ]
    out += ["", "## By question kind", "", kinds_table(s)]
    if run.split == "all":
        out += ["", "## By split", "", _splits_table(run), "", "## By question kind, test split", "",
                kinds_table(run.summary("test"))]
    out += [
        "",
        "## Latency (warm, first call excluded; not gated)",
        "",
        "| call | p50 ms | p95 ms |",
        "|---|---|---|",
        f"| retrieve ({run.retriever}) | {_f(lat['retrieve_p50_ms'], 1)} | {_f(lat['retrieve_p95_ms'], 1)} |",
        f"| ask ({run.backend}) | {_f(lat['ask_p50_ms'], 1)} | {_f(lat['ask_p95_ms'], 1)} |",
        "",
        "## Gate",
        "",
        *([f"- FAIL: {f}" for f in verdict.failures] or ["- all metrics within tolerance; no critical regressions"]),
        *[f"- note: {n}" for n in verdict.notes],
        "",
        "## Per-question changes vs the baseline",
        "",
        "```",
        *([c.line() for c in verdict.changes] or ["  (none)"]),
        "```",
        "",
        "## Targets missed: why, and what would close them",
        "",
        *([sf.markdown() for sf in shortfalls(s, run.records, run.retriever)] or ["Every target is met."]),
        "",
        "## Failing questions",
        "",
        _failing_table(run.records),
        "",
        "![metrics vs baseline](chart.png)",
        "",
    ]
    return "\n".join(out)


def write(out: Path, run, baseline: dict | None, verdict: Verdict) -> None:
    "Write summary.md, questions.json, metrics.json and chart.png into out."
    s = run.summary()
    (out / "summary.md").write_text(summary_markdown(run, baseline, verdict), encoding="utf-8")
    (out / "questions.json").write_text(json.dumps(run.records, indent=1, ensure_ascii=False), encoding="utf-8")
    metrics = {"split": run.split, "retriever": run.retriever, "k": run.k,
               "abstain_threshold": run.abstain_threshold, "tolerance": verdict.tolerance, "gate_ok": verdict.ok,
               "failures": verdict.failures, "splits": {sp: run.summary(sp) for sp in run.splits},
               "latency": run.latency}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1), encoding="utf-8")
    chart.draw(out / "chart.png", s, (baseline or {}).get("splits", {}).get(run.split))


def console(run, baseline: dict | None, verdict: Verdict, out: Path) -> str:
    "What `rag eval` prints: the verdict, the per-question diff, the report folder, the README table."
    lines = [f"Report: {out}/summary.md"]
    lines += [f"note: {n}" for n in verdict.notes]
    if baseline is not None:  # without one, the notes say nothing was gated
        if verdict.changes:
            lines.append(f"Per-question changes vs the baseline ({len(verdict.changes)}):")
            lines += [c.line() for c in verdict.changes]
        else:
            lines.append("Per-question changes vs the baseline: none")
        if verdict.ok:
            lines.append(f"Gate PASSED (tolerance {verdict.tolerance:g}).")
        else:
            lines.append(f"Gate FAILED (tolerance {verdict.tolerance:g}):")
            lines += [f"  - {f}" for f in verdict.failures]
    lines += ["", f"Metrics (split {run.split}, retriever {run.retriever}, {run.backend} back-end):", "",
              readme_table(run.summary()), "", "By question kind:", "", kinds_table(run.summary())]
    return "\n".join(lines)
