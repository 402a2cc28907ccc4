"""The `rag` command's contract: results alone on stdout (only JSON with --json), progress and
warnings on stderr, -q/-v, the documented exit codes, and '-' reading the question from stdin.
Run as real subprocesses, so stdout and stderr are the process's own streams."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from rag import __version__, cli

QUESTION = "What is the Beijing Protocol?"


def rag(*args: str, stdin: str | None = None, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    import os

    env = os.environ | (env_extra or {})
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=300)


def test_ask_json_prints_only_the_json(settings):
    proc = rag("ask", "--json", QUESTION)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["question"] == QUESTION and answer["citations"] and answer["backend"] == "extractive"


def test_ask_prints_the_answer_and_its_sources_and_says_who_answered_on_stderr(settings):
    proc = rag("ask", QUESTION)
    assert proc.returncode == 0, proc.stderr
    assert "\nSources:\n[1] " in proc.stdout and "answered by" not in proc.stdout
    assert "(answered by extractive)" in proc.stderr


def test_a_dash_reads_the_question_from_stdin(settings):
    proc = rag("ask", "-", "--json", stdin=QUESTION + "\n")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["question"].strip() == QUESTION
    proc = rag("search", "-", "--json", "-k", "2", stdin="Beijing Protocol")
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert len(hits) == 2 and "Beijing Protocol" in hits[0]["text"]


def test_quiet_leaves_stderr_empty_and_verbose_adds_detail(settings):
    loud = rag("search", "Beijing Protocol", "-k", "1")
    quiet = rag("-q", "search", "Beijing Protocol", "-k", "1")
    assert loud.returncode == quiet.returncode == 0
    assert "results in" in loud.stderr and quiet.stderr == "" and quiet.stdout == loud.stdout
    assert rag("search", "Beijing Protocol", "-k", "1", "-q").stderr == ""  # after the command too


@pytest.mark.parametrize(("args", "message"), [
    (("ask", ""), "error: The question is empty"),
    (("ask", "   ", "--json"), "error: The question is empty"),
    (("search", "Beijing", "-k", "0"), "error: -k must be at least 1"),
    (("ask",), "the following arguments are required: question"),
    (("frobnicate",), "invalid choice: 'frobnicate'"),
    (("ask", "x", "--backend", "gpt"), "invalid choice: 'gpt'"),
    ((), "usage: rag"),
    (("index", "/no/such/folder"), "error: /no/such/folder does not exist"),
])
def test_usage_errors_exit_2_with_one_message_and_no_output(args, message):
    proc = rag(*args)
    assert proc.returncode == 2 and proc.stdout == "" and message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_error_exits_1_with_one_line_saying_how_to_fix_it(tmp_path):
    empty = tmp_path / "articles"
    empty.mkdir()
    proc = rag("ask", QUESTION, env_extra={"RAG_SEEDS": str(empty), "RAG_HOME": str(tmp_path / "home")})
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("error: No readable articles in ") and proc.stderr.count("\n") == 1
    assert "RAG_SEEDS" in proc.stderr


def test_version_and_help_document_the_contract():
    proc = rag("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"rag-news {__version__}"
    text = rag("--help").stdout
    for line in ("exit status:", "0    done", "1    error", "2    usage", "-q, --quiet", "-v, --verbose"):
        assert line in text, line
    assert "'-' reads it from stdin" in rag("ask", "--help").stdout
    eval_help = rag("eval", "--help").stdout
    assert "--questions FILE.jsonl" in eval_help and "--export FILE" in eval_help


def test_an_unexpected_failure_is_one_line_and_the_traceback_is_behind_v(monkeypatch, capsys):
    def boom(args):
        raise RuntimeError("something broke")

    monkeypatch.setattr(cli, "cmd_search", boom)
    assert cli.main(["search", "x"]) == 1
    err = capsys.readouterr().err
    assert err == "error: unexpected RuntimeError: something broke (run with -v for the traceback)\n"
    assert cli.main(["-v", "search", "x"]) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err
    rag_log = logging.getLogger("rag")  # main leaves the logger as it found it (it may run in-process)
    assert not any(isinstance(h.formatter, cli._Formatter) for h in rag_log.handlers)
    assert rag_log.propagate and rag_log.level == logging.NOTSET
