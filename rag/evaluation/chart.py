"""The report's PNG: headline metrics against the baseline and the targets, and retrieval per mode.
Rendered with matplotlib's Agg back-end (no display needed); matplotlib is the optional [eval] extra."""

from __future__ import annotations

import logging
from pathlib import Path

from .scoring import ANSWER, METRICS, MODES, RETRIEVAL

log = logging.getLogger(__name__)


def draw(path: Path, summary: dict, base: dict | None) -> None:
    "Write the chart, or skip it (saying so) when matplotlib is not installed: it is optional."
    try:
        import matplotlib
    except ImportError:
        log.info("chart.png skipped: install matplotlib (pip install 'rag-news[eval]') to draw it")
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(METRICS)
    now = [summary["metrics"].get(n) or 0.0 for n in names]
    was = [(base or {}).get("metrics", {}).get(n) for n in names]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5), gridspec_kw={"width_ratios": [len(names), 5]})
    xs = range(len(names))
    w = 0.38
    if base:
        ax1.bar([x - w / 2 for x in xs], [v or 0.0 for v in was], w, label="baseline", color="#b0b7c3")
    ax1.bar([x + w / 2 for x in xs], now, w, label="this run", color="#2f6db5")
    for x, n in zip(xs, names, strict=True):
        t = METRICS[n].target
        if t is not None:
            ax1.hlines(t, x - 0.45, x + 0.45, colors="#d1495b", linestyles="--", linewidth=1.2)
    ax1.plot([], [], "--", color="#d1495b", label="target")
    ax1.set_xticks(list(xs), [n.replace("_", "\n") for n in names], fontsize=8)
    ax1.set_ylim(0, 1.05)
    ax1.axvline(len(RETRIEVAL) - 0.5, color="#888", linewidth=0.6)
    ax1.set_title(f"retrieval ({len(RETRIEVAL)}) and answer ({len(ANSWER)}) metrics vs baseline")
    ax1.legend(loc="lower left", fontsize=8)

    metrics = [x.name for x in RETRIEVAL]
    w = 0.8 / len(MODES)
    for i, md in enumerate(MODES):
        vals = [summary["retrieval_by_mode"][md][m] or 0.0 for m in metrics]
        ax2.bar([j + (i - (len(MODES) - 1) / 2) * w for j in range(len(metrics))], vals, w, label=md)
        if base:
            b = [base.get("retrieval_by_mode", {}).get(md, {}).get(m) for m in metrics]
            ax2.scatter([j + (i - (len(MODES) - 1) / 2) * w for j in range(len(metrics))], [v or 0.0 for v in b],
                        marker="_", s=200, color="black", zorder=3)
    if base:
        ax2.scatter([], [], marker="_", s=200, color="black", label="baseline")
    ax2.set_xticks(range(len(metrics)), metrics, fontsize=8)
    ax2.set_ylim(0, 1.05)
    ax2.set_title("retrieval by mode")
    ax2.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
