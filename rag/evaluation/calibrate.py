"""`rag eval --calibrate`: choose Settings.abstain_threshold on the calib split only.

The extractive back-end abstains when its best sentence scores under the threshold. For each
question we record that best score once (over the paragraphs `ask` retrieved) and whether `ask`
abstains even with no threshold (an input it refuses, or no citable sentence). A threshold t then
predicts: abstain iff refused or best < t. The sweep maximises, on the calib split,

    balanced = (abstention accuracy on unanswerable + (1 - false abstention on answerable)) / 2

over the midpoints between observed scores (ties: the widest gap, so the choice is not on a knife
edge). The chosen value is then checked with real `ask` calls on both splits; the test split's
numbers are the honest estimate. Nothing is written to rag/config.py: the user sets the value.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import Settings
from ..extractive import ExtractiveGenerator
from ..pipeline import ask
from .dataset import load


@dataclass(frozen=True)
class Sample:
    id: str
    split: str
    answerable: bool
    refused: bool  # abstains whatever the threshold
    best: float  # best sentence score (-inf: no sentence)


@dataclass(frozen=True)
class Rates:
    abstention_accuracy: float | None
    false_abstention: float | None

    @property
    def balanced(self) -> float:
        acc = self.abstention_accuracy if self.abstention_accuracy is not None else 1.0
        fa = self.false_abstention if self.false_abstention is not None else 0.0
        return (acc + 1 - fa) / 2


def rates(abstained: list[tuple[bool, bool]]) -> Rates:
    "From (answerable, abstained) pairs."
    unans = [a for ok, a in abstained if not ok]
    ans = [a for ok, a in abstained if ok]
    return Rates(sum(unans) / len(unans) if unans else None, sum(ans) / len(ans) if ans else None)


def predict(samples: list[Sample], t: float) -> Rates:
    return rates([(s.answerable, s.refused or s.best < t) for s in samples])


def choose(samples: list[Sample]) -> float:
    "The threshold maximising the balanced rate on these samples (widest gap among ties)."
    scores = sorted({s.best for s in samples if math.isfinite(s.best)})
    if not scores:
        raise ValueError("no scored questions to calibrate on")
    edges = [scores[0] - 0.05, *scores, scores[-1] + 0.05]
    candidates = [((lo + hi) / 2, hi - lo) for lo, hi in zip(edges, edges[1:], strict=False)]
    t, _ = max(candidates, key=lambda c: (round(predict(samples, c[0]).balanced, 9), c[1]))
    for digits in (2, 3, 4):  # the shortest rounding that decides every sample the same way
        if all((s.best < round(t, digits)) == (s.best < t) for s in samples):
            return round(t, digits)
    return t


def observe(settings: Settings, questions) -> list[Sample]:
    """Best sentence score and forced abstention per question. The sentences are scored over the
    paragraphs `ask` itself retrieved (Answer.hits), so the sweep sees what the back-end saw."""
    gen = ExtractiveGenerator(settings)
    never = settings.with_(abstain_threshold=-math.inf)
    out = []
    for q in questions:
        answer = ask(q.question, backend="extractive", settings=never)
        ranked = gen.score(q.question, answer.hits)
        out.append(Sample(q.id, q.split, q.answerable, answer.abstained, ranked[0].score if ranked else -math.inf))
    return out


def measured(settings: Settings, questions, t: float) -> dict[str, Rates]:
    "Real `ask` abstentions at threshold t, per split."
    s = settings.with_(abstain_threshold=t)
    pairs = {q.id: (q.answerable, ask(q.question, backend="extractive", settings=s).abstained) for q in questions}
    return {sp: rates([pairs[q.id] for q in questions if q.split == sp]) for sp in ("calib", "test")}


def _row(name: str, t: float, r: Rates) -> str:
    f = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    return f"| {name} | {t:g} | {f(r.abstention_accuracy)} | {f(r.false_abstention)} | {r.balanced:.3f} |"


def main(settings: Settings, out: Path) -> int:
    questions = load("all")
    samples = observe(settings, questions)
    calib = [s for s in samples if s.split == "calib"]
    test = [s for s in samples if s.split == "test"]
    t = choose(calib)
    real = measured(settings, questions, t)
    current = settings.abstain_threshold
    mismatch = sum(1 for sp, group in (("calib", calib), ("test", test))
                   if predict(group, t) != real[sp])
    header = ["| split | threshold | abstention accuracy | false abstention | balanced |", "|---|---|---|---|---|"]
    lines = [
        f"# Abstention threshold calibration (retriever {settings.retriever}, k={settings.k})",
        "",
        f"Chosen on the **calib** split only ({len(calib)} questions); the **test** split "
        f"({len(test)} questions) is held out and reports what to expect.",
        "",
        *header,
        _row("calib (current)", current, predict(calib, current)),
        _row("test (current)", current, predict(test, current)),
        _row("calib (chosen)", t, real["calib"]),
        _row("test (chosen)", t, real["test"]),
        "",
        "Current-threshold rows are predicted from the recorded scores; chosen-threshold rows are measured "
        "with real `ask` calls" + ("." if not mismatch else f" (the prediction differed on {mismatch} split(s))."),
        "",
        "Sweep on calib:",
        "",
        *header,
        *[_row("calib", x, predict(calib, x)) for x in sorted({round(0.2 + 0.02 * i, 2) for i in range(21)} | {t})],
    ]
    text = "\n".join(lines)
    (out / "calibration.md").write_text(text + "\n", encoding="utf-8")
    (out / "calibration.json").write_text(json.dumps(
        {"chosen": t, "current": current, "calib": asdict(real["calib"]), "test": asdict(real["test"]),
         "samples": [asdict(s) | {"best": s.best if math.isfinite(s.best) else None} for s in samples]},
        indent=1), encoding="utf-8")
    print("\n".join(lines[:12]))
    print(f"\nReport: {out}/calibration.md")
    print(f"\nCalibrated abstain_threshold = {t:g} (current {current:g}). To use it, set "
          f"`abstain_threshold: float = {t:g}` in rag/config.py (Settings); this command changes nothing.")
    return 0
