"""Two processes answering from one RAG_HOME at once: serving is stateless over a read-only snapshot.

    python -m benchmarks.shared --worker   retrieve every eval question from $RAG_HOME; print the
                                           ranked (article, paragraph) keys

`demo(env)` starts two workers together on the same home, then checks that both succeeded, that
their rankings are identical, and that no file of the snapshot they read changed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .common import REPO, emit, load_questions


def _snapshot_state(home: Path) -> dict:
    index = home / "index"
    current = (index / "CURRENT").read_text().strip()
    files = sorted(p for p in (index / current).rglob("*") if p.is_file())
    return {"current": current, "files": {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in files}}


def demo(env: dict, home: Path) -> dict:
    before = _snapshot_state(home)
    cmd = [sys.executable, "-m", "benchmarks.shared", "--worker"]
    t = time.perf_counter()
    procs = [subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in procs]
    wall = time.perf_counter() - t
    results = []
    for p, (out, err) in zip(procs, outputs, strict=True):
        lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
        results.append(json.loads(lines[-1][7:]) if p.returncode == 0 and lines else {"error": err[-300:]})
    ok = all("error" not in r for r in results)
    return {
        "processes": 2,
        "both_succeeded": ok,
        "identical_results": ok and results[0]["ranked"] == results[1]["ranked"],
        "questions": len(results[0].get("ranked", [])),
        "snapshot_unchanged": _snapshot_state(home) == before,
        "pids": [r.get("pid") for r in results],
        "wall_s": round(wall, 2),
        "errors": [r["error"] for r in results if "error" in r],
    }


def worker() -> None:
    from rag import retrieve

    ranked = [[[h.doc_id, h.paragraph] for h in retrieve(r["question"], k=5)] for r in load_questions()]
    emit({"pid": os.getpid(), "ranked": ranked})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", action="store_true", required=True)
    parser.parse_args()
    worker()


if __name__ == "__main__":
    main()
