"""The fast query path (ONNX encoder in the index): no torch on the way to an answer, the same
passages as the model itself, and an encoder that disagrees with the model is never used."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import EVAL_QUESTIONS, REFERENCE_CORPUS, REPO, REPO_MANIFEST, open_reference, run_cli

from ncmec_qa.evaluation import load_questions
from ncmec_qa.index.indexer import embedding_input
from ncmec_qa.index.query_encoder import ENCODER_DIR, export_for_index, load_query_embedder, validate_encoder_dir

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO / "src")}
    env.pop("NCMEC_QA_QUERY_ENCODER", None)
    return env


def test_the_index_carries_a_validated_encoder(reference_ws):
    enc = reference_ws.index.meta["encoder"]
    assert enc["query"] in ("int8", "fp32")
    for precision, f in enc["files"].items():
        assert f["usable"] and f["min_cosine"] >= f["threshold"], (precision, f)
        assert (reference_ws.index.path / ENCODER_DIR / f["file"]).stat().st_size == f["bytes"]
    assert enc["files"]["fp32"]["threshold"] == 0.999 and enc["files"]["int8"]["threshold"] == 0.97


def test_index_status_shows_the_agreement(reference_ws):
    args = ["--corpus", str(REPO_MANIFEST), "--index", str(reference_ws.paths.index), "--docs", str(REFERENCE_CORPUS)]
    out = run_cli([*args, "index", "status"]).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("encoder:"))
    assert "min cosine" in line and "needs 0.999" in line and "needs 0.97" in line


@pytest.mark.parametrize("how", ["library", "cli"])
def test_answering_imports_neither_torch_nor_sentence_transformers(reference_ws, how):
    q = "How long must a provider preserve the contents of a report?"
    if how == "library":
        code = (
            "import sys\n"
            "from ncmec_qa.workspace import Workspace\n"
            f"ws = Workspace.open(corpus={str(REPO_MANIFEST)!r}, index={str(reference_ws.paths.index)!r}, docs={str(REFERENCE_CORPUS)!r})\n"
            f"a = ws.ask({q!r})\n"
            "assert a.passages\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'sentence_transformers', 'transformers')))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "[]", out.stdout
    else:
        out = subprocess.run(
            [
                sys.executable,
                "-X",
                "importtime",
                "-m",
                "ncmec_qa",
                "--corpus",
                str(REPO_MANIFEST),
                "--index",
                str(reference_ws.paths.index),
                "--docs",
                str(REFERENCE_CORPUS),
                "ask",
                "--json",
                q,
            ],
            env=_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(out.stdout)["question"] == q
        imported = {
            ln.split("|")[-1].strip().split(".")[0] for ln in out.stderr.splitlines() if ln.startswith("import time:")
        }
        assert "torch" not in imported and "sentence_transformers" not in imported
        assert "onnxruntime" in imported  # the fast path was the one taken


def test_fast_and_reference_paths_agree_on_the_top_5(reference_ws):
    fast = open_reference(reference_ws.paths.index)
    ref = open_reference(reference_ws.paths.index)
    ref.fast_queries = False
    assert fast.query_embedder.name.startswith("onnx:") and not ref.query_embedder.name.startswith("onnx:")
    questions = load_questions(EVAL_QUESTIONS)
    same = sum(
        [h.passage.passage_id for h in fast.search(q.question, k=5)]
        == [h.passage.passage_id for h in ref.search(q.question, k=5)]
        for q in questions
    )
    assert same >= 38, f"top-5 identical for only {same} of {len(questions)} questions"


def test_an_encoder_that_disagrees_with_the_model_is_refused(reference_ws, tmp_path):
    ix = reference_ws.index
    recs, contexts = ix.passages(range(1, 17)), ix.contexts()
    texts = [embedding_input(contexts[r - 1], recs[r].text) for r in range(1, 17)]  # what the index embedded
    reference = np.asarray(ix.vectors[:16])
    wrong = reference[::-1].copy()  # vectors of other texts: what a corrupt or mismatched export would give
    enc_dir = ix.path / ENCODER_DIR
    model = ix.meta["encoder"]["model_path"]
    entry = validate_encoder_dir(enc_dir, model, texts, wrong)
    assert entry["query"] is None
    assert all(not f["usable"] and f["min_cosine"] < f["threshold"] for f in entry["files"].values())
    assert load_query_embedder(ix.path, {"encoder": entry}) is None
    good = validate_encoder_dir(enc_dir, model, texts, reference)
    assert good["query"] == "fp32" and good["files"]["fp32"]["min_cosine"] >= 0.999
    # an incremental build keeps the verdict of the files it reuses instead of checking again
    again = export_for_index(model, tmp_path, texts, wrong, ix.path, ix.meta["encoder"])
    assert again["files"] == ix.meta["encoder"]["files"]
