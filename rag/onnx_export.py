"""Export a sentence-transformers model to ONNX, offline, and prove the copy gives the same vectors.

Uses torch's TorchScript exporter (dynamo=False), which needs only the `onnx` package. The export is
checked against sentence-transformers on a few probe texts of different lengths, batched and padded;
a copy that disagrees (cos < 0.999) is refused, never used.

The tracer warns about every data-dependent branch it freezes (TracerWarning) and about opset details;
those warnings are silenced for the export call only: the vector check decides whether the copy is
right, and a user's terminal should not show torch internals on their first question.
"""

from __future__ import annotations

import logging
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import BackendError

PROBES = [
    "What is the Beijing Protocol?",
    "hi",
    "The award ceremony took place on October 5, 2023, during the IACH annual meeting held in Paris. " * 6,
]
MIN_COSINE = 0.999


def export_onnx(model_dir: Path, out: Path) -> Path:
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise BackendError("Exporting the ONNX model needs the [build] extra: pip install -e '.[build]'") from e

    with _no_load_bar():
        st = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    modules = [type(m).__name__ for m in st]
    if modules[:2] != ["Transformer", "Pooling"] or set(modules[2:]) - {"Normalize"}:
        raise BackendError(f"ONNX export supports Transformer+Pooling(+Normalize) models, not {modules}")
    mode = st[1].pooling_mode
    if (mode,) != ("mean",) and mode != ("mean",):
        raise BackendError(f"ONNX export supports mean pooling, not {mode!r}")
    transformer = st[0].auto_model.eval()

    class Encoder(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    feats = st.preprocess(PROBES[:2])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    args = tuple(feats.get(n, torch.zeros_like(feats["input_ids"])) for n in names)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(transformer),
            args,
            str(tmp),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
    _check_same_vectors(st, model_dir, tmp)
    os.replace(tmp, out)
    return out


@contextmanager
def _no_load_bar():
    """transformers draws a "Loading weights" bar on every model load; here the load is one step of
    building the index, which has its own progress. Its switch is global, so it is restored after."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def _check_same_vectors(st, model_dir: Path, onnx_file: Path, min_cos: float = MIN_COSINE) -> None:
    from .embedding import OnnxEmbedder

    ref = st.encode(PROBES, normalize_embeddings=True)
    onnx = OnnxEmbedder(str(model_dir), onnx_file)
    got = np.vstack([onnx.embed_batch(PROBES), onnx.embed_batch(PROBES[:1])])
    cos = np.concatenate([(ref * got[:3]).sum(1), (ref[:1] * got[3:]).sum(1)])
    if cos.min() < min_cos:
        onnx_file.unlink(missing_ok=True)
        raise BackendError(f"ONNX export disagrees with sentence-transformers (min cos {cos.min():.4f})")


def quantize_int8(fp32: Path, out: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    # Per channel: per-tensor int8 cost dense recall@5 0.906 -> 0.847 on the eval set; per channel
    # keeps 0.906 at the same speed (benchmarks/, `make bench`).
    # The quantizer advises "pre-processing" through the root logger's logging.warning(), which would
    # print to the user's terminal and, with no root handler yet, install one for the rest of the
    # process (basicConfig). A null handler for the call's duration absorbs it; a root handler the
    # application set up itself still sees it.
    root = logging.getLogger()
    absorb = None if root.handlers else logging.NullHandler()
    if absorb:
        root.addHandler(absorb)
    try:
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        if absorb:
            root.removeHandler(absorb)
    os.replace(tmp, out)
    return out
