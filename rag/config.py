"""One settings object. Defaults work offline on a fresh machine; the environment supplies only
secrets, endpoints and paths:

    RAG_SEEDS          folder(s) of source articles, os.pathsep-separated
                       (default: the checkout's seeds/; none when rag is an installed package)
    RAG_HOME           where indexes, caches and uploads live
                       (default: .rag/ in a checkout; $XDG_DATA_HOME/rag-news, i.e. ~/.local/share/rag-news,
                       when rag is an installed package)
    RAG_EMBEDDER       sentence-transformers model name or path (default: the packaged all-MiniLM-L6-v2)
    RAG_STORE          postgresql://... to serve from a shared Postgres + pgvector database (default: the
                       snapshot folder under RAG_HOME)
    OPENAI_API_KEY     key for the OpenAI-compatible endpoint
    RAG_LLM_BASE_URL   endpoint URL (falls back to OPENAI_BASE_URL)
    RAG_LLM_MODEL      model name served by that endpoint

Importing rag never changes os.environ: the model loaders ask for local files only themselves.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path

from .errors import ConfigError

PACKAGED_EMBEDDER = "all-MiniLM-L6-v2"
APP_NAME = "rag-news"


@cache
def checkout() -> Path | None:
    """The source checkout rag runs from (an editable install, or the repository on sys.path), or None
    when rag is an installed package. A checkout is the folder above rag/ holding this project's
    pyproject.toml; site-packages never holds one."""
    root = Path(__file__).resolve().parent.parent
    try:
        text = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    return root if re.search(rf'(?m)^name\s*=\s*"{APP_NAME}"\s*$', text) else None


def user_data_dir() -> Path:
    "The per-user data folder (XDG base directories): $XDG_DATA_HOME/rag-news or ~/.local/share/rag-news."
    base = os.environ.get("XDG_DATA_HOME") or ""
    # The spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "share"
    return root / APP_NAME


def _default_seeds() -> tuple[Path, ...]:
    raw = os.environ.get("RAG_SEEDS")
    if raw:
        return tuple(Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p)
    # An installed package has no articles of its own: the user adds theirs (`rag index PATH`, RAG_SEEDS).
    root = checkout()
    return (root / "seeds",) if root else ()


def _default_home() -> Path:
    raw = os.environ.get("RAG_HOME")
    if raw:
        return Path(raw).expanduser().resolve()
    root = checkout()
    return root / ".rag" if root else user_data_dir()


@dataclass(frozen=True)
class Settings:
    seeds: tuple[Path, ...] = field(default_factory=_default_seeds)
    home: Path = field(default_factory=_default_home)
    embedder: str = field(default_factory=lambda: os.environ.get("RAG_EMBEDDER") or PACKAGED_EMBEDDER)
    # Where the collection is served from: "" = the snapshot under home/index; "postgresql://..." = a
    # shared Postgres + pgvector database (rag/store/postgres.py). An endpoint, hence the environment.
    store: str = field(default_factory=lambda: os.environ.get("RAG_STORE") or "", repr=False)
    # "torch" embeds with sentence-transformers; "onnx"/"onnx-int8" with onnxruntime (no torch import).
    build_backend: str = "torch"
    # Windows of a long paragraph, in tiktoken cl100k tokens. MiniLM reads 256 word pieces; the title
    # prefix and word-piece/tiktoken drift need headroom.
    chunk_tokens: int = 180
    token_encoding: str = "cl100k_base"
    # "flat" (exact), "hnsw", "ivf", "ivf-sq8", "ivf-pq", or "auto": flat up to 20k vectors, then ivf-sq8
    # (rag/ann.py; chosen by benchmarks/ at 10k-1M vectors).
    index_type: str = "auto"
    retriever: str = "hybrid"  # "hybrid", "dense" or "bm25"
    k: int = 5
    # RRF constant. 60 is the literature's default for long lists; with a few hundred paragraphs a
    # smaller k keeps the top ranks apart (eval: recall@5 0.93 -> 0.96).
    rrf_k: int = 10
    candidates: int = 50  # per retriever, before fusion
    # Extractive answering: abstain unless the answerability judge (rag/answer/answerability.py) gives
    # the best sentence at least this probability of answering the question.
    abstain_threshold: float = 0.3
    max_answer_sentences: int = 3
    max_question_chars: int = 2000
    max_file_bytes: int = 10 * 1024 * 1024
    # LLM back-end (OpenAI-compatible). Empty base_url and model -> extractive only.
    llm_base_url: str = field(
        default_factory=lambda: os.environ.get("RAG_LLM_BASE_URL") or os.environ.get("OPENAI_BASE_URL") or ""
    )
    llm_model: str = field(default_factory=lambda: os.environ.get("RAG_LLM_MODEL") or "")
    llm_api_key: str = field(default_factory=lambda: os.environ.get("OPENAI_API_KEY") or "", repr=False)
    # Deadlines, in seconds, sized for a model on a CPU (prompt evaluation at 20-200 tokens/s): from
    # the request to the first token (retries included), between two tokens, for the whole answer,
    # and for a turn at a busy endpoint. Keep-alive comments are not progress (rag/llm/stream.py).
    llm_connect_timeout: float = 5.0
    llm_first_token_timeout: float = 180.0
    llm_token_gap_timeout: float = 30.0
    llm_answer_timeout: float = 360.0
    llm_queue_timeout: float = 360.0
    llm_max_retries: int = 2  # 429, 5xx, timeouts and connection errors, before the first token
    # Simultaneous requests to one endpoint; 0: 1 for a local server (llama.cpp and Ollama serve one
    # at a time; llama-cpp-python cancels a running answer for the next), 4 for a hosted API.
    llm_concurrency: int = 0
    # The model's context window in tokens; 0: ask the server (llama.cpp /props, vLLM /v1/models,
    # Ollama /api/show), else 4096. Prompt + answer must fit it.
    llm_context_window: int = 0
    llm_context_tokens: int = 3000  # at most this many tokens of sources (cost and latency cap)
    llm_token_margin: float = 0.15  # local counts (tiktoken) scaled up by this for the model's tokenizer
    llm_max_tokens: int = 384  # answer budget: 1-4 sentences need about 150
    llm_reasoning: bool | None = None  # a reasoning model (thinks first); None: guessed from the model name
    llm_reasoning_max_tokens: int = 4096  # answer budget of a reasoning model, thinking included

    def __post_init__(self):
        # Accept plain strings from callers; paths are always absolute Paths inside.
        seeds = (self.seeds,) if isinstance(self.seeds, str | Path) else self.seeds
        object.__setattr__(self, "seeds", tuple(Path(p).expanduser().resolve() for p in seeds))
        object.__setattr__(self, "home", Path(self.home).expanduser().resolve())

    @property
    def uploads(self) -> Path:
        return self.home / "uploads"

    @property
    def sources(self) -> tuple[Path, ...]:
        "Every folder whose articles are indexed: the seeds, then user uploads."
        return (*self.seeds, self.uploads)

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_model and (self.llm_base_url or self.llm_api_key))

    def with_(self, **changes) -> Settings:
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ConfigError(f"Unknown setting(s) {unknown}. Valid settings: {sorted(names)}")
        return replace(self, **changes)


def load_settings(**overrides) -> Settings:
    """Settings from defaults and the environment, with keyword overrides.

    >>> load_settings(k=3).k
    3
    """
    settings = Settings()
    return settings.with_(**overrides) if overrides else settings
