"""Cold starts: a new process each time, timed from spawn to exit (or, for the app, to its first HTTP
200). The index is built and the OS file cache is warm, as on a machine that has served before.
Peak RSS of each child comes from os.wait4's rusage.

    cold_command   `rag ask "..."`, `rag search "..."`, or any python -c snippet
    cold_app       `python app.py` until it answers GET / on a free loopback port
    import_costs   sentence-transformers against the onnxruntime + tokenizers query path
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .common import NA, REPO

QUESTION = "What is the Beijing Protocol?"
BIN = Path(sys.executable).parent


def _reap(proc: subprocess.Popen, timeout: float, kill) -> tuple[int, float]:
    "Wait for a child (calling `kill` past the timeout); (exit code, peak RSS MB) from its rusage."
    deadline = time.perf_counter() + timeout
    while (done := os.wait4(proc.pid, os.WNOHANG))[0] == 0:
        if time.perf_counter() > deadline:
            kill()
            done = os.wait4(proc.pid, 0)
            break
        time.sleep(0.005)
    proc.returncode = os.waitstatus_to_exitcode(done[1])
    return proc.returncode, done[2].ru_maxrss / 1024


def _tail(f) -> str:
    f.seek(0)
    return (f.read().decode(errors="replace").strip().splitlines() or [""])[-1]


def _spawn_and_wait(argv: list[str], env: dict, timeout: float) -> tuple[float, int, float, str]:
    "(seconds, exit code, peak RSS MB, last line of stderr) of one run."
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err)
        code, rss = _reap(proc, timeout, proc.kill)
        return time.perf_counter() - t, code, rss, _tail(err)


def cold_command(argv: list[str], env: dict, runs: int = 5, timeout: float = 120) -> dict:
    "Median wall time over `runs` fresh processes, after one untimed run; an error if it fails."
    _spawn_and_wait(argv, env, timeout)
    samples = [_spawn_and_wait(argv, env, timeout) for _ in range(runs)]
    failed = [s for s in samples if s[1] != 0]
    if failed:
        return {"error": f"{NA}: exit {failed[0][1]}: {failed[0][3][:160]}"}
    return {"median_s": round(statistics.median(s[0] for s in samples), 2),
            "min_s": round(min(s[0] for s in samples), 2),
            "peak_rss_mb": round(max(s[2] for s in samples), 1), "runs": runs}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _running(proc: subprocess.Popen) -> bool:
    "Still running? (Peeks without reaping, so _reap gets the rusage later.)"
    return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None


def _serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def _app_once(env: dict, timeout: float) -> tuple[float | None, float, str]:
    "(seconds until GET / answered 200, or None; peak RSS MB; stderr tail) of one `python app.py`."
    port = _free_port()
    app = REPO / "app.py"
    argv = [sys.executable, str(app)]
    source = app.read_text()
    if "--port" in source:
        argv += ["--port", str(port)]
    if "--host" in source:
        argv += ["--host", "127.0.0.1"]
    env = env | {"GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1", "PORT": str(port),
                 "HOST": "127.0.0.1", "GRADIO_ANALYTICS_ENABLED": "False"}
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)  # its own group: the app and any children
        seconds = None
        while time.perf_counter() - t < timeout and _running(proc):
            if _serves(port):
                seconds = time.perf_counter() - t
                break
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        _, rss = _reap(proc, 15, lambda: os.killpg(proc.pid, signal.SIGKILL))
        return seconds, rss, _tail(err)


def cold_app(env: dict, runs: int = 3, timeout: float = 60) -> dict:
    if not (REPO / "app.py").exists():
        return {"error": f"{NA}: no app.py"}
    _app_once(env, timeout)
    samples = [_app_once(env, timeout) for _ in range(runs)]
    failed = [s for s in samples if s[0] is None]
    if failed:
        return {"error": f"{NA}: not serving within {timeout:.0f}s: {failed[0][2][:160]}"}
    return {"median_s": round(statistics.median(s[0] for s in samples), 2),
            "min_s": round(min(s[0] for s in samples), 2),
            "peak_rss_mb": round(max(s[1] for s in samples), 1), "runs": runs}


def import_costs(env: dict, home: Path, runs: int = 3) -> dict:
    "Process start to import, and to a first query vector, through each runtime."
    model = "from rag.embedding import resolve_model; path = str(resolve_model('all-MiniLM-L6-v2'))"
    snippets = {
        "import sentence_transformers": "import sentence_transformers",
        "first vector via SentenceTransformer":
            f"{model}; from sentence_transformers import SentenceTransformer; "
            f"SentenceTransformer(path, device='cpu').encode([{QUESTION!r}])",
        "import onnxruntime + tokenizers": "import onnxruntime, tokenizers",
        "first vector via onnxruntime (rag query path)":
            "from pathlib import Path; from rag.embedding import get_embedder; "
            f"get_embedder('all-MiniLM-L6-v2', 'onnx', home=Path({str(home)!r})).embed_batch([{QUESTION!r}])",
    }
    return {name: cold_command([sys.executable, "-c", code], env, runs=runs) for name, code in snippets.items()}


def cold_starts(env: dict, home: Path, runs: int = 5) -> dict:
    return {
        "rag ask": cold_command([str(BIN / "rag"), "ask", QUESTION], env, runs=runs),
        "rag search": cold_command([str(BIN / "rag"), "search", QUESTION], env, runs=runs),
        "python app.py": cold_app(env, runs=max(1, runs // 2)),
        "imports": import_costs(env, home, runs=max(1, runs // 2)),
    }
