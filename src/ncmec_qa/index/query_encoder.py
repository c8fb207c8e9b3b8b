"""The fast query path: the index's own ONNX copy of the embedding model.

`index build` exports the bundled model to ONNX (fp32, and int8 by dynamic
quantisation) into the index generation, checks on a sample of passages that the
ONNX vectors agree with the sentence-transformers vectors the index was built with
(minimum cosine 0.999 for fp32, 0.97 for int8), and records files, checksums and
the measured agreement in meta.json. Queries then embed with onnxruntime and
tokenizers only: no torch, no sentence-transformers, about 0.1 s to load.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

ENCODER_DIR = "encoder"
SAMPLE = 64
QUERY_PRECISION = (
    "fp32"  # chosen by measurement: int8 loads faster but kept the same top-5 on only 24 of 40 dev questions
)


def _quiet_export(run: Callable[[], Any]) -> Any:
    """Run the export without transformers' progress bars or onnxruntime's advice on stderr."""
    import logging

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        return run()
    finally:
        root.setLevel(level)


def export_for_index(
    model_path: Path,
    folder: Path,
    sample_texts: Sequence[str],
    reference: np.ndarray,
    previous: Path | None,
    previous_meta: dict[str, Any] | None,
    log: Callable[[str], None] = lambda m: None,
) -> dict[str, Any]:
    """Write `folder/encoder/` and return the meta.json entry for it ({} when it failed)."""
    from .integrity import encoder_files, file_problems

    out = folder / ENCODER_DIR
    if (
        previous is not None
        and previous_meta
        and (previous / ENCODER_DIR).is_dir()
        and previous_meta.get("model_path") == str(model_path)
    ):
        shutil.copytree(previous / ENCODER_DIR, out, copy_function=os.link)
        # the same files byte for byte (sha256 as exported), checked against the same model when they were
        # made: keep that verdict. A damaged copy is exported again, never passed on.
        if (previous_meta.get("files") or {}) and not file_problems(
            folder, encoder_files({"encoder": previous_meta}), use_cache=False, write_cache=False
        ):
            files = previous_meta["files"]
            usable = [p for p in (QUERY_PRECISION, "fp32", "int8") if files.get(p, {}).get("usable")]
            return {**previous_meta, "query": usable[0] if usable else None}
        shutil.rmtree(out, ignore_errors=True)
        log("the previous index's ONNX encoder differs from its record; exporting it again")
    if not _export(model_path, out, log):
        return {}
    return validate_encoder_dir(out, model_path, sample_texts, reference, log)


def _export(model_path: Path, out: Path, log: Callable[[str], None]) -> bool:
    from .onnx_encoder import export_onnx

    log("exporting the query encoder to ONNX")
    try:
        _quiet_export(lambda: export_onnx(model_path, out, quantize=True))
    except Exception as e:  # torch's exporter failing must not cost the index
        shutil.rmtree(out, ignore_errors=True)
        log(f"note: no ONNX query encoder ({type(e).__name__}: {e}); queries will load sentence-transformers")
        return False
    return True


def validate_encoder_dir(
    out: Path,
    model_path: Path,
    sample_texts: Sequence[str],
    reference: np.ndarray,
    log: Callable[[str], None] = lambda m: None,
) -> dict[str, Any]:
    """Embed the sample with each ONNX file in `out` and compare with the model's own vectors."""
    from .onnx_encoder import FP32_THRESHOLD, INT8_THRESHOLD, OnnxEncoder, compare_encoders, save_optimized, sha256_file

    entry: dict[str, Any] = {"dir": out.name, "model_path": str(model_path), "files": {}}
    n = min(SAMPLE, len(sample_texts))
    for precision, name, threshold in (
        ("fp32", "encoder.onnx", FP32_THRESHOLD),
        ("int8", "encoder.int8.onnx", INT8_THRESHOLD),
    ):
        if not (out / name).is_file():
            continue
        f = out / name.replace(".onnx", ".opt.onnx")
        if not f.is_file():
            save_optimized(out / name, f)
        name = f.name
        enc = OnnxEncoder(f, out / "tokenizer.json", threads=1, optimize=False)
        agreement = compare_encoders(reference[:n], enc.encode(list(sample_texts[:n]))) if n else float("nan")
        entry["files"][precision] = {
            "file": name,
            "sha256": sha256_file(f),
            "bytes": f.stat().st_size,
            "min_cosine": round(agreement, 6),
            "threshold": threshold,
            "usable": bool(agreement >= threshold),
        }
    entry["tokenizer_sha256"] = sha256_file(out / "tokenizer.json")
    usable = [p for p in (QUERY_PRECISION, "fp32", "int8") if entry["files"].get(p, {}).get("usable")]
    entry["query"] = usable[0] if usable else None
    if not usable:
        log("note: the ONNX encoder disagrees with the model; queries will load sentence-transformers")
    return entry


class OnnxQueryEmbedder:
    """The Embedder interface over the index's ONNX encoder."""

    def __init__(self, gen: Path, entry: dict[str, Any]):
        from .integrity import check, encoder_files, file_problems
        from .onnx_encoder import OnnxEncoder

        f = entry["files"][entry["query"]]
        path = gen / entry["dir"] / f["file"]
        # the file queries use and the tokenizer, against their sha256 at export (cached by inode, size, mtime):
        # damaged or bit-flipped weights load fine and embed nonsense, so they are an error, not a fallback
        check(file_problems(gen, encoder_files({"encoder": entry}, only_query=True)))
        self.name = f"onnx:{entry['query']}"
        self._enc = OnnxEncoder(path, gen / entry["dir"] / "tokenizer.json", optimize=False)
        self.dimension = self._enc.dimension

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = self._enc.encode(list(texts))
        if progress:
            progress(len(texts))
        return out


def load_query_embedder(gen: Path, meta: dict[str, Any]):
    """The ONNX embedder for this index, or None (the caller falls back to sentence-transformers)."""
    entry = meta.get("encoder") or {}
    if not entry.get("query"):
        return None
    try:
        return OnnxQueryEmbedder(gen, entry)
    except (OSError, KeyError, ValueError, ImportError):
        return None
