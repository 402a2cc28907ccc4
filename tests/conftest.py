"""Shared fixtures. Tests run on the real seed articles with the real packaged embedder (offline)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def shared_home(tmp_path_factory) -> Path:
    "One RAG_HOME for the whole session; holds the ONNX export and embedding cache once."
    return tmp_path_factory.mktemp("rag-home")


@pytest.fixture(scope="session")
def settings(shared_home):
    "Settings over the seeds with a built index. Read-only: tests that change things use `fresh`."
    from rag.config import load_settings
    from rag.index import build_index

    s = load_settings(seeds=(SEEDS,), home=shared_home, llm_base_url="", llm_model="", llm_api_key="")
    build_index(s, progress=False, warn=lambda m: None)
    return s


@pytest.fixture
def fresh(tmp_path, settings):
    """A writable copy of the seeds and a new RAG_HOME that reuses the session's embedding cache and
    ONNX model (copied, so nothing here can damage the shared index)."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    home = tmp_path / "home"
    (home / "cache").mkdir(parents=True)
    shutil.copytree(settings.home / "cache" / "embeddings", home / "cache" / "embeddings")
    os.symlink(settings.home / "models", home / "models")
    return settings.with_(seeds=(seeds,), home=home)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, shared_home):
    "No test reads the developer's RAG_HOME or an LLM endpoint from the environment."
    for var in ("RAG_SEEDS", "OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM_BASE_URL", "RAG_LLM_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RAG_HOME", str(shared_home))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(shared_home / "cache" / "tiktoken"))
