"""Word vectors, for a question that words its answer differently.

"Who talked about the dangers of CAR-T?" is answered by "... presented on CAR-T toxicities", "What
prize did he get?" by "... honored with the International Collaboration Award": the words differ, so
counting shared words misses the answer, and one sentence vector blurs a single word among the rest.
Each English word of the embedder's WordPiece vocabulary, embedded on its own, gives a vector per
word; two words whose vectors are close (all-MiniLM-L6-v2: prize/award 0.79, doctors/physicians
0.88, against about 0.2-0.4 for unrelated words) are near-synonyms, and answering gives a sentence
partial credit for a question word it states only that way (rag/answer/sentences.py).

The table depends on the model alone, not on the collection: it is built once per model and
embedding back-end under RAG_HOME/models/ (about 21,000 words, some ten seconds with ONNX), and
checked against its recorded sha256 on every load, as the ONNX export is.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .embedding import Embedder, export_lock, model_key, record_checksum, verified
from .text import base_form
from .text import words as tokens

log = logging.getLogger(__name__)

MIN_LETTERS = 3  # shorter words are mostly function words and abbreviations
BATCH = 256  # single words are short: large batches embed them fastest
FORMS_CACHED = 50_000  # sentences whose word forms are kept


@dataclass(frozen=True, eq=False)
class Lexicon:
    "L2-normalised vectors of single words, by word."

    words: tuple[str, ...]
    vectors: np.ndarray  # float32, (len(words), dim)
    row: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "row", {w: i for i, w in enumerate(self.words)})
        # (answering reads the same sentences again and again: their forms are memoised per lexicon)
        object.__setattr__(self, "forms", functools.lru_cache(maxsize=FORMS_CACHED)(self.forms))

    def known(self, word: str) -> str | None:
        "The form of a (lower-case) word that has a vector, or None."
        return base_form(word, self.row.keys())

    def forms(self, text: str) -> frozenset[str]:
        "The known forms of a text's words."
        return frozenset(f for w in tokens(text) if w.isalpha() and (f := self.known(w)))

    def similarity(self, asked: Sequence[str], said: Sequence[str]) -> np.ndarray:
        """Cosine of each asked word with each said word (rows, columns): words `known` gave."""
        if not asked or not said:
            return np.zeros((len(asked), len(said)), dtype=np.float32)
        a = self.vectors[[self.row[w] for w in asked]]
        s = self.vectors[[self.row[w] for w in said]]
        return a @ s.T


def lexicon_path(home: Path, model: str, backend: str) -> Path:
    return home / "models" / model_key(model) / f"lexicon-{backend}.npz"


def load_lexicon(embedder: Embedder, home: Path) -> Lexicon:
    """The embedder's word vectors, built and recorded the first time (another process building the
    same file waits for it). Where RAG_HOME cannot be written, they are built for this process only."""
    path = lexicon_path(home, embedder.model, embedder.backend)
    try:
        if not verified(path):
            with export_lock(path.parent):
                if not verified(path):
                    if path.exists():
                        log.warning("The word vectors %s do not match their recorded checksum; building them again", path)
                    _save(_build(embedder), path)
                    record_checksum(path)
    except OSError as e:
        log.warning("Cannot keep the word vectors in %s (%s); building them for this session only", path.parent, e)
        return _build(embedder)
    with np.load(path, allow_pickle=False) as data:
        return Lexicon(tuple(data["words"].tolist()), data["vectors"].astype(np.float32))


def _build(embedder: Embedder) -> Lexicon:
    words = sorted(w for w in embedder.words if len(w) >= MIN_LETTERS)
    log.info("Embedding %d words for %s (once per model) ...", len(words), embedder.model)
    vectors = np.concatenate([embedder.embed_batch(words[i : i + BATCH]) for i in range(0, len(words), BATCH)])
    return Lexicon(tuple(words), vectors.astype(np.float32))


def _save(lexicon: Lexicon, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.tmp.npz")
    # (half precision: the cosines keep three decimals, and the file half the size)
    np.savez(tmp, words=np.array(lexicon.words), vectors=lexicon.vectors.astype(np.float16))
    tmp.replace(path)
