"""Sentence embeddings with ONNX Runtime instead of torch.

At build time, :func:`export_onnx` turns the sentence-transformers folder of
all-MiniLM-L6-v2 into ``encoder.onnx`` (fp32), optionally ``encoder.int8.onnx``
(dynamic int8 quantisation) and a copy of ``tokenizer.json``. At query time,
:class:`OnnxEncoder` needs only onnxruntime, tokenizers and numpy: it reproduces
sentence-transformers' mean pooling over the attention mask followed by L2
normalisation, so its vectors can stand in for
``SentenceTransformer.encode(texts, normalize_embeddings=True)``.
:func:`validate_encoder` checks that claim on a sample.

Importing this module is cheap: onnxruntime and tokenizers are imported when an
encoder is built, and torch / transformers only inside :func:`export_onnx`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

FP32_THRESHOLD = 0.999
"""Minimum row-wise cosine between the fp32 ONNX encoder and sentence-transformers."""

INT8_THRESHOLD = 0.97
"""Minimum row-wise cosine between the int8 ONNX encoder and sentence-transformers."""

MODEL_FILE = "encoder.onnx"
INT8_MODEL_FILE = "encoder.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"
OPSET = 17


@dataclass(frozen=True)
class ExportResult:
    """Files written by :func:`export_onnx`, each with the hex sha256 of its bytes."""

    model_file: Path
    model_sha256: str
    tokenizer_file: Path
    tokenizer_sha256: str
    int8_model_file: Path | None = None  # None when exported with quantize=False
    int8_sha256: str | None = None


class TextEncoder(Protocol):
    """Anything that turns texts into one embedding row per text."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _transformer_dir(model_path: Path) -> Path:
    """The folder of the Transformer module inside a sentence-transformers folder."""
    modules = model_path / "modules.json"
    if modules.is_file():
        for module in json.loads(modules.read_text(encoding="utf-8")):
            if str(module.get("type", "")).endswith(".Transformer"):
                return model_path / module.get("path", "")
    return model_path


def export_onnx(model_path: Path, out_dir: Path, quantize: bool = True) -> ExportResult:
    """Export the transformer of a sentence-transformers folder to ONNX.

    Writes ``out_dir/encoder.onnx`` (inputs ``input_ids``, ``attention_mask``,
    ``token_type_ids``, all int64 with dynamic batch and sequence axes; output
    ``last_hidden_state``), ``out_dir/tokenizer.json`` and, when ``quantize`` is
    true, ``out_dir/encoder.int8.onnx`` (dynamic quantisation, QInt8 weights
    per channel; see :func:`_quantize` for the layers kept in fp32).
    Pooling and normalisation are not in the graph; :class:`OnnxEncoder` does them.

    Uses the TorchScript exporter (``dynamo=False``): it needs no onnxscript and
    writes one self-contained file. Needs torch and transformers.
    """
    import torch
    from transformers import AutoModel

    model_path = Path(model_path)
    out_dir = Path(out_dir)
    src_dir = _transformer_dir(model_path)
    tokenizer_src = src_dir / TOKENIZER_FILE
    if not tokenizer_src.is_file():
        raise FileNotFoundError(f"no {TOKENIZER_FILE} in {src_dir}: is it a sentence-transformers folder?")
    out_dir.mkdir(parents=True, exist_ok=True)

    # Eager attention traces to plain MatMul/Softmax ops that ONNX Runtime fuses.
    model = AutoModel.from_pretrained(str(src_dir), attn_implementation="eager")
    model.eval()

    class _Encoder(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    # A padded row in the dummy batch, so tracing cannot specialise the mask away.
    input_ids = torch.tensor([[101, 7592, 2088, 2003, 1037, 3231, 1012, 102], [101, 7592, 102, 0, 0, 0, 0, 0]])
    attention_mask = (input_ids != 0).to(torch.long)
    token_type_ids = torch.zeros_like(input_ids)
    dynamic = {0: "batch", 1: "sequence"}

    model_file = out_dir / MODEL_FILE
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        warnings.filterwarnings("ignore", message=".*aten::index operator of advanced indexing.*")
        torch.onnx.export(
            _Encoder(model),
            (input_ids, attention_mask, token_type_ids),
            str(model_file),
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes={name: dynamic for name in (*INPUT_NAMES, OUTPUT_NAME)},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )

    tokenizer_file = out_dir / TOKENIZER_FILE
    shutil.copyfile(tokenizer_src, tokenizer_file)

    int8_file: Path | None = None
    if quantize:
        int8_file = out_dir / INT8_MODEL_FILE
        _quantize(model_file, int8_file, ffn_in=model.config.intermediate_size, ffn_out=model.config.hidden_size)

    return ExportResult(
        model_file=model_file,
        model_sha256=sha256_file(model_file),
        tokenizer_file=tokenizer_file,
        tokenizer_sha256=sha256_file(tokenizer_file),
        int8_model_file=int8_file,
        int8_sha256=sha256_file(int8_file) if int8_file is not None else None,
    )


def _quantize(model_file: Path, int8_file: Path, ffn_in: int, ffn_out: int) -> None:
    """Dynamic int8 quantisation (QInt8 weights, one scale per output channel).

    The feed-forward output projections (weights of shape ``ffn_in x ffn_out``)
    stay fp32: their inputs, the GELU activations, have outliers that a single
    per-tensor activation scale handles badly. Quantising them too drops the
    cosine to sentence-transformers to ~0.96 on some three-word queries; keeping
    them in fp32 keeps it above ~0.98, at a cost of 15-30% more time and 10 MB.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(model_file), load_external_data=False).graph
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    keep_fp32 = [
        node.name for node in graph.node if node.op_type == "MatMul" and shapes.get(node.input[1]) == (ffn_in, ffn_out)
    ]
    if not keep_fp32:
        raise ValueError(f"{model_file}: found no {ffn_in}x{ffn_out} feed-forward MatMul to keep in fp32")
    quantize_dynamic(model_file, int8_file, weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep_fp32)


class OnnxEncoder:
    """Mean-pooled, L2-normalised sentence embeddings from an exported ONNX encoder.

    ``model_file`` is ``encoder.onnx`` or ``encoder.int8.onnx``; ``tokenizer_file``
    the ``tokenizer.json`` written beside it. Texts longer than ``max_length``
    word pieces (special tokens included) are truncated, as sentence-transformers
    does with ``max_seq_length``. ``threads`` sets ONNX Runtime's intra-op
    threads (default: all CPUs).
    """

    def __init__(
        self,
        model_file: Path,
        tokenizer_file: Path,
        max_length: int = 256,
        threads: int | None = None,
        optimize: bool = True,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if max_length < 2:
            raise ValueError(f"max_length must be at least 2 (for [CLS] and [SEP]), got {max_length}")
        self.model_file = Path(model_file)
        self.tokenizer_file = Path(tokenizer_file)
        self.max_length = max_length

        tokenizer = Tokenizer.from_file(str(self.tokenizer_file))
        tokenizer.enable_truncation(max_length=max_length)
        pad_token = "[PAD]"
        pad_id = tokenizer.token_to_id(pad_token)
        tokenizer.enable_padding(pad_id=pad_id if pad_id is not None else 0, pad_token=pad_token)  # longest in batch
        self._tokenizer = tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        # idle worker threads must not spin: they would steal the CPU from numpy's BLAS right after
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # optimize=False: the file was already optimised by `save_optimized`; loading skips that work
        options.graph_optimization_level = (
            ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        )
        self._session = ort.InferenceSession(
            str(self.model_file), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = [i.name for i in self._session.get_inputs()]
        unknown = set(self._inputs) - set(INPUT_NAMES)
        if unknown:
            raise ValueError(f"{self.model_file}: unexpected model inputs {sorted(unknown)}; expected {INPUT_NAMES}")
        width = self._session.get_outputs()[0].shape[-1]
        self._dimension = width if isinstance(width, int) else int(self._embed([""]).shape[1])

    @property
    def dimension(self) -> int:
        """Length of each embedding (384 for all-MiniLM-L6-v2)."""
        return self._dimension

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Embed ``texts``: float32 array of shape (len(texts), dimension), rows of unit length."""
        if isinstance(texts, str):
            raise TypeError("encode takes a list of strings, not a string")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        out = np.empty((len(texts), self._dimension), dtype=np.float32)
        # Longest first, like sentence-transformers: batches of similar length pad less.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self._embed([texts[i] for i in idx])
        return out

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(list(texts))
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds: dict[str, Any] = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": mask,
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self._session.run([OUTPUT_NAME], {name: feeds[name] for name in self._inputs})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32, copy=False)


def save_optimized(model_file: Path, out_file: Path) -> Path:
    """Write `model_file` with ONNX Runtime's portable (extended) graph optimisations applied,
    so that a session can load it later without optimising again (about 0.1 s saved per start)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(out_file)
    ort.InferenceSession(str(model_file), sess_options=options, providers=["CPUExecutionProvider"])
    return Path(out_file)


def _row_cosines(reference: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    ref = np.asarray(reference, dtype=np.float64)
    cand = np.asarray(candidate, dtype=np.float64)
    if ref.ndim != 2 or ref.shape != cand.shape:
        raise ValueError(f"need two 2-D arrays of the same shape, got {ref.shape} and {cand.shape}")
    if ref.shape[0] == 0:
        raise ValueError("no rows to compare")
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ref * cand).sum(axis=1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(cand, axis=1))


def compare_encoders(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Minimum row-wise cosine similarity between two embedding matrices of the same shape.

    Rows need not be normalised. NaN if any row is all zeros or not finite.
    """
    cos = _row_cosines(reference, candidate)
    return float(np.min(cos)) if np.all(np.isfinite(cos)) else float("nan")


def validate_encoder(
    encoder: TextEncoder,
    reference_embed: Callable[[list[str]], np.ndarray],
    sample: list[str],
    threshold: float,
) -> float:
    """Embed ``sample`` with both encoders and return the minimum row-wise cosine.

    Raises ``ValueError`` when it is below ``threshold`` (use :data:`FP32_THRESHOLD`
    or :data:`INT8_THRESHOLD`), naming the worst text, so that a wrong or corrupt
    export is never used silently.
    """
    if not sample:
        raise ValueError("validate_encoder needs a non-empty sample of texts")
    cos = _row_cosines(reference_embed(list(sample)), encoder.encode(list(sample)))
    min_cos = float(np.min(cos)) if np.all(np.isfinite(cos)) else float("nan")
    if not min_cos >= threshold:  # also catches NaN
        worst = int(np.argmin(np.where(np.isfinite(cos), cos, -np.inf)))
        raise ValueError(
            f"encoder disagrees with the reference: minimum cosine {min_cos:.6f} is below the threshold "
            f"{threshold} (worst text #{worst}: {sample[worst][:80]!r}); re-export the ONNX model "
            "from the same model folder the reference uses"
        )
    return min_cos
