"""The package as a new user gets it: the wheel built by `pip wheel . --no-deps`, installed with the
machine's CPU torch in a fresh virtualenv outside the checkout, used from another folder with
RAG_SEEDS pointing at a copy of the seed articles. Nothing here imports rag from the checkout: every
step is a subprocess of the installed `rag` command or the virtualenv's python.

The steps are what the issue asks a user to be able to do: `rag index`, `rag ask --json`, `rag.ask()`
from Python, the LLM back-end against a loopback OpenAI-compatible endpoint, and `rag eval
--questions FILE`, plus what an installed package must not do (read the checkout, change
os.environ, print third-party warnings, fail with a traceback when no articles are configured).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import REPO, SEEDS
from .fake_openai import API_KEY, MODEL, fake_openai, text

pytestmark = pytest.mark.slow

QUESTION = "What is the Beijing Protocol?"
# What the wheel build needs from the checkout: the project file, its readme, the package and the
# prompt folder rag/_prompts links to. A build from a copy cannot pick up anything else lying around.
BUILD_INPUTS = ("pyproject.toml", "README.md", "rag", "prompts")
# Variables a developer's shell or the Makefile may set, which a new user's would not.
FOREIGN_ENV = ("RAG_", "OPENAI_", "HF_", "TRANSFORMERS_", "TIKTOKEN_", "DATA_GYM_", "PYTHON", "VIRTUAL_ENV",
               "XDG_DATA_HOME")
INSTALL_TIMEOUT = 1800  # torch and its friends, from the local wheel cache: about 2 minutes here


@dataclass(frozen=True)
class Installed:
    venv: Path
    work: Path  # the folder commands run in: not the checkout, no rag/ in it
    articles: Path  # a copy of the seed articles
    root: Path

    def env(self, data: str = "xdg", **extra: str) -> dict[str, str]:
        "A new user's environment: the virtualenv first on PATH, its own data folder and temp folder."
        env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_ENV)}
        env |= {"PATH": f"{self.venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
                "XDG_DATA_HOME": str(self.root / data), "TMPDIR": str(self.root / "tmp")}
        return env | extra

    def run(self, *argv: str, env: dict[str, str] | None = None, stdin: str | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in argv], cwd=self.work, env=env or self.env(), input=stdin,
                              capture_output=True, text=True, timeout=timeout)

    def rag(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run(self.venv / "bin" / "rag", *args, **kw)

    def python(self, code: str, **kw) -> subprocess.CompletedProcess:
        return self.run(self.venv / "bin" / "python", "-c", code, **kw)


def _checked(proc: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"{what} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _copy_build_inputs(dst: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in BUILD_INPUTS:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dst / name, symlinks=True, ignore=ignore)  # keeps rag/_prompts a link
        else:
            shutil.copy2(src, dst / name)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("installed")
    src, dist, venv, work, articles = (root / n for n in ("src", "dist", "venv", "work", "articles"))
    for folder in (src, work, root / "tmp"):
        folder.mkdir()
    _copy_build_inputs(src)
    shutil.copytree(SEEDS, articles)
    pip = ("-m", "pip", "--disable-pip-version-check", "-q")
    _checked(subprocess.run([sys.executable, *pip, "wheel", str(src), "--no-deps", "-w", str(dist)],
                            capture_output=True, text=True, timeout=600), "pip wheel . --no-deps")
    (wheel,) = dist.glob("rag_news-*.whl")
    _checked(subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True,
                            timeout=300), "python -m venv")
    py = str(venv / "bin" / "python")
    # The machine's CPU torch first (as the Makefile does), so nothing pulls the CUDA build.
    _checked(subprocess.run([py, *pip, "install", "torch==2.13.0"], capture_output=True, text=True,
                            timeout=INSTALL_TIMEOUT), "pip install torch")
    _checked(subprocess.run([py, *pip, "install", f"{wheel}[build]"], capture_output=True, text=True,
                            timeout=INSTALL_TIMEOUT), "pip install the wheel")
    yield Installed(venv, work, articles, root)
    shutil.rmtree(venv, ignore_errors=True)  # 1.7 GB; pytest keeps the last runs' temp folders


@pytest.fixture(scope="module")
def indexed(installed) -> subprocess.CompletedProcess:
    "`rag index` on a new machine: the first build, with the ONNX export."
    return installed.rag("index", env=installed.env(RAG_SEEDS=str(installed.articles)), timeout=1200)


def test_the_wheel_holds_everything_it_needs_and_nothing_reads_the_checkout(installed):
    import rag

    assert installed.rag("--version").stdout.strip() == f"rag-news {rag.__version__}"
    code = """
import importlib.resources, json, rag, rag.prompts
from rag.config import checkout, load_settings
s = load_settings()
print(json.dumps({"file": rag.__file__, "version": rag.__version__, "prompts": rag.prompts.available(),
                  "typed": importlib.resources.files("rag").joinpath("py.typed").is_file(),
                  "checkout": str(checkout()), "home": str(s.home), "seeds": [str(p) for p in s.seeds]}))
"""
    info = json.loads(_checked(installed.python(code), "import rag").stdout)
    site = installed.venv / "lib"
    assert Path(info["file"]).is_relative_to(site) and info["version"] == rag.__version__
    assert info["prompts"] == sorted(p.stem for p in (REPO / "prompts").glob("*.txt"))
    assert info["typed"] and info["checkout"] == "None"
    assert info["home"] == str(installed.root / "xdg" / "rag-news") and info["seeds"] == []


def test_without_articles_a_command_says_how_to_add_some(installed):
    proc = installed.rag("ask", QUESTION, env=installed.env(data="empty-xdg"))
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("error: No readable articles") and len(proc.stderr.strip().splitlines()) == 1
    assert "RAG_SEEDS" in proc.stderr and "rag index PATH" in proc.stderr
    proc = installed.rag("eval", env=installed.env(data="empty-xdg"))
    assert proc.returncode == 1 and "--questions FILE.jsonl" in proc.stderr and "Traceback" not in proc.stderr


def test_rag_index_builds_in_the_user_data_folder_without_third_party_noise(installed, indexed):
    _checked(indexed, "rag index")
    assert indexed.stdout.startswith("Indexed 5 articles") and "file(s) skipped" in indexed.stdout
    assert str(installed.root / "xdg" / "rag-news" / "index") in indexed.stdout
    # The first build exports the ONNX model: torch's tracer warnings must not reach the terminal.
    noise = [line for line in indexed.stderr.replace("\r", "\n").splitlines()
             if "arning" in line or "deprecated" in line.lower()]
    assert noise == [], noise


def test_rag_ask_json_is_valid_json_on_stdout(installed, indexed):
    proc = _checked(installed.rag("ask", "--json", QUESTION, env=installed.env(RAG_SEEDS=str(installed.articles))),
                    "rag ask --json")
    answer = json.loads(proc.stdout)
    assert answer["backend"] == "extractive" and not answer["abstained"]
    assert answer["citations"] and "Beijing Protocol" in answer["text"]


def test_the_python_api_answers_and_leaves_the_environment_alone(installed, indexed):
    code = f"""
import os
before = dict(os.environ)
import rag
answer = rag.ask({QUESTION!r})
assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
print(answer.text)
"""
    proc = _checked(installed.python(code, env=installed.env(RAG_SEEDS=str(installed.articles))), "rag.ask()")
    assert "Beijing Protocol" in proc.stdout and "[1]" in proc.stdout


def test_the_llm_back_end_answers_through_a_loopback_endpoint(installed, indexed):
    env = installed.env(RAG_SEEDS=str(installed.articles))
    hits = json.loads(_checked(installed.rag("search", "--json", QUESTION, env=env), "rag search").stdout)
    top = hits[0]
    with fake_openai() as fake:
        fake.default = text(f"{top['text']} [1]")  # a model quoting its first source
        llm_env = env | {"RAG_LLM_BASE_URL": fake.url, "RAG_LLM_MODEL": MODEL, "OPENAI_API_KEY": API_KEY}
        proc = _checked(installed.rag("ask", "--json", QUESTION, env=llm_env), "rag ask (openai)")
        # the back-end first asks the server for its context window (GET /props ...): chat requests only
        requests = [r for r in fake.requests if r.path.endswith("/chat/completions")]
    answer = json.loads(proc.stdout)
    assert answer["backend"] == f"openai:{MODEL}" and answer["notice"] is None, answer
    assert answer["citations"][0]["doc_id"] == top["doc_id"] and answer["citations"][0]["supported"]
    # The prompts came from the installed package: a system prompt, and the sources in the user turn.
    assert requests and requests[0].system.strip() and top["text"] in requests[0].user


def test_rag_eval_runs_a_users_question_set(installed, indexed):
    questions = installed.work / "mine.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in [
        {"id": "tandem", "question": "When were the 2024 Tandem Meetings held?",
         "gold": ["The 2024 Tandem Meetings were held on February 21-24"], "key_facts": ["February 21-24"]},
        {"id": "nobel", "question": "Who won the 2031 Nobel Prize in Medicine?", "answerable": False},
        {"id": "beijing", "question": QUESTION},
    ]) + "\n")
    out, report = installed.work / "export.jsonl", installed.work / "report"
    proc = _checked(installed.rag("eval", "--questions", questions, "--export", out, "--out", report,
                                  env=installed.env(RAG_SEEDS=str(installed.articles))), "rag eval --questions")
    assert "no baseline given: nothing gated" in proc.stdout and "| metric | value | target | met? |" in proc.stdout
    assert (report / "summary.md").is_file() and (report / "questions.json").is_file()
    assert "chart.png skipped: install matplotlib" in proc.stderr  # the [eval] extra is not installed
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["name"] for r in rows] == ["tandem", "nobel", "beijing"]
    assert all(r["user_input"] == r["input"] and r["response"] == r["actual_output"] for r in rows)
    assert rows[0]["reference"] == "February 21-24" and rows[0]["retrieved_contexts"]


def test_int8_quantisation_prints_nothing_and_leaves_logging_as_it_was(settings, tmp_path):
    "onnxruntime's quantizer warns through the root logger; the onnx-int8 build must not show it."
    (fp32,) = settings.home.glob("models/*/model.onnx")
    code = f"""
import logging
from pathlib import Path
from rag.onnx_export import quantize_int8
quantize_int8(Path({str(fp32)!r}), Path({str(tmp_path / 'int8.onnx')!r}))
assert logging.getLogger().handlers == [], logging.getLogger().handlers
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and (tmp_path / "int8.onnx").stat().st_size > 1_000_000


def test_user_data_folder_follows_xdg(monkeypatch):
    from rag.config import user_data_dir

    monkeypatch.setenv("XDG_DATA_HOME", "/srv/data")
    assert user_data_dir() == Path("/srv/data/rag-news")
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")  # the spec says to ignore a relative path
    assert user_data_dir() == Path.home() / ".local" / "share" / "rag-news"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert user_data_dir() == Path.home() / ".local" / "share" / "rag-news"


def test_in_a_checkout_the_defaults_stay(monkeypatch):
    from rag.config import checkout, load_settings

    monkeypatch.delenv("RAG_HOME")
    assert checkout() == REPO
    assert load_settings().home == REPO / ".rag" and load_settings().seeds == (SEEDS,)
