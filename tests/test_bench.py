"""The benchmark scripts run end to end on a tiny slice (their figures are not asserted here)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import FAKE_MODEL, REFERENCE_CORPUS, REPO, REPO_MANIFEST


def _env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCMEC_QA_")}
    return {**env, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO / "src")}


def _run_bench(script: str, *args: str, timeout: int = 900) -> None:
    """Run bench/`script` with `args` in a fresh process; fail with the end of its stderr when it fails."""
    r = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=timeout,
    )
    assert r.returncode == 0, r.stderr[-2000:]


def test_quality_benchmark_runs_on_a_slice(tmp_path):
    out = tmp_path / "benchmarks.md"
    _run_bench(
        "quality.py",
        "--model",
        FAKE_MODEL,
        "--limit",
        "36",
        "--no-cross-encoder",
        "--scifact-limit",
        "9",
        "--scifact-docs",
        "30",
        "--output",
        str(out),
    )
    text = out.read_text()
    assert "<!-- bench:quality -->" in text and "Produced by `python bench/quality.py --model fake:64" in text
    for row in ("| baseline: bm25s |", "| lexical (FTS5 BM25) |", "| dense (MiniLM, exact) |"):
        assert text.count(row) == 2, row  # once for the questions, once for SciFact
    for row in (
        "| previous release: hand-set reranker and answer rules (fitted on dev) |",
        "| learned ranker, selector and abstainer (default) |",
        "| the same, weights unconstrained in sign |",
        "| previous release: verdict rules (fitted on dev) |",
        "| learned verdict over the rules' assessment (default) |",
        "| learned ranker, fitted on SciFact's other two thirds |",
    ):
        assert text.count(row) == 1, row
    assert "| train top 5 | train MRR | train answer precision |" in text and "| dev abstained |" in text
    assert "| predicted | questions | mean predicted | observed: the evidence answers |" in text
    shape = "| train primary first | train secondary-only: primary gold listed to check | train other-year answers |"
    assert "### Answer shape" in text and shape in text
    for row in ("| previous release (fitted on dev) |", "| shipped models (fitted on all of train) |"):
        assert text.count(row) == 1, row


@pytest.mark.slow
def test_latency_benchmark_runs_on_a_slice(reference_ws, tmp_path):
    out = tmp_path / "benchmarks.md"
    _run_bench(
        "latency.py",
        "--index",
        str(reference_ws.paths.index),
        "--runs",
        "1",
        "--sizes",
        "3000",
        "--queries",
        "20",
        "--throughput-texts",
        "40",
        "--output",
        str(out),
    )
    text = out.read_text()
    for heading in (
        "### Cold `ncmec-qa ask`",
        "### Warm per-question latency",
        "### Same answers",
        "### Embedding throughput",
        "### Vector index at scale",
    ):
        assert heading in text, heading
    assert REFERENCE_CORPUS.is_dir() and REPO_MANIFEST.is_file()


def test_ingest_benchmark_runs_on_a_slice(tmp_path):
    out = tmp_path / "benchmarks-ingest.md"
    _run_bench(
        "ingest.py",
        "--sizes-mb",
        "0.05",
        "0.1",
        "0.2",
        "--big-mb",
        "0.2",
        "--chunk-sizes",
        "2000",
        "4000",
        "--no-reference",
        "--out",
        str(out),
        timeout=600,
    )
    text = out.read_text()
    assert text.startswith("# Benchmark: ingest under the limits\n")
    assert "Command: `python bench/ingest.py --sizes-mb 0.05 0.1 0.2 --big-mb 0.2" in text
    for row in (
        "| baseline: one paragraph |",
        "| 0.2 MB single paragraph, default limits |",
        "| 0.2 MB single token, default limits |",
        "| 0.2 MB ordinary text, default limits |",
        "| 0.05 MB single paragraph, limits raised |",
        "| 0.2 MB ordinary text, limits raised |",
        "| 2,000 characters |",
        "| 4,000 characters |",
    ):
        assert text.count(row) == 1, row
    assert "Time per doubling: single paragraph: " in text and "largest peak RSS" in text


@pytest.mark.slow
def test_alternatives_benchmark_runs_on_a_slice(reference_ws, tmp_path):
    out = tmp_path / "benchmarks-alternatives.md"
    _run_bench(
        "alternatives.py",
        "--index",
        str(reference_ws.paths.index),
        "--limit",
        "36",
        "--selections",
        "2",
        "--output",
        str(out),
    )
    text = out.read_text()
    assert text.startswith("# Alternatives tried and not adopted\n")
    assert "Produced by `python bench/alternatives.py --index " in text
    assert text.count("| keep_share 0.9, max_sentences 3 (shipped) |") == 6  # its row and five thresholds
    assert text.count("| keep_share 0.95, max_sentences 3 |") == 6
    assert "keep_share 1.0" not in text  # --selections 2
    for row in (
        "| shipped: sign-constrained, thresholds on the folds |",
        "| multinomial logistic regression, C=0.1, unconstrained |",
        "| gradient boosting, 100 trees of depth 2, seed 0 |",
    ):
        assert text.count(row) == 1, row


@pytest.mark.slow
def test_nli_benchmark_runs_on_a_slice(reference_ws, tmp_path):
    out = tmp_path / "benchmarks-nli.md"
    args = ["--index", str(reference_ws.paths.index), "--work", str(tmp_path / "work"), "--limit", "18"]
    _run_bench("nli.py", *args, "--epochs", "1", "--output", str(out), timeout=600)
    text = out.read_text()
    assert text.startswith("# NLI cross-encoder features for the verdict: tried and not adopted\n")
    assert f"Produced by `python bench/nli.py {' '.join(args)} --epochs 1 --output {out}` on " in text
    for heading in (
        "## SciFact rationale pairs (held-out third)",
        "## The new features on the training claims (AUC)",
        "## Verdict refit",
    ):
        assert text.count(heading) == 1, heading
    assert "| config | held-out pairs | accuracy | macro-F1 | F1 neutral | F1 support | F1 contradict |" in text
    assert "| fine-tuned MiniLM, 1 epoch(s) | " in text
    assert "| baseline: majority class of the fit pairs (neutral) | " in text
    assert "| split (train) | nli_sup_max | nli_con_max | rnd_sup_max | rnd_con_max | strongest existing" in text
    for row in ("| supported vs the rest |", "| contradicted vs the rest |", "| settled vs not_in_corpus |"):
        assert text.count(row) == 1, row
    for model in (
        "shipped: sign-constrained, thresholds on the folds",
        "multinomial logistic regression, C=0.1, unconstrained",
        "multinomial logistic regression, C=1, unconstrained",
    ):
        for features in ("shipped", "shipped + NLI (2)", "shipped + random (2)"):
            assert text.count(f"| {model} | {features} |") == 1, (model, features)
    assert (tmp_path / "work" / "settings.json").is_file()  # the fine-tuned model is kept for the next run
