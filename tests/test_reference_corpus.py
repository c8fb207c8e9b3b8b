"""The real thing: the checkout's manifest, the reference documents in ../shared/corpus, the
bundled embedding model, and the 40 dev questions. Slow: the index is built once per session."""

from __future__ import annotations

import json

import pytest
from conftest import (
    EVAL_QUESTIONS,
    REFERENCE_CORPUS,
    REPO_MANIFEST,
    assert_answer_contract,
    block_network,
    open_reference,
    run_cli,
)

from ncmec_qa.corpus.manifest import load_manifest, sha256_file
from ncmec_qa.evaluation import evaluate, first_gold_rank, load_questions

pytestmark = pytest.mark.slow


def _questions():
    return load_questions(EVAL_QUESTIONS) if EVAL_QUESTIONS.is_file() else []


QUESTIONS = _questions()


@pytest.fixture(scope="session")
def cli_answers(reference_ws):
    """`ncmec-qa ask --json` over all 40 dev questions, read from stdin: question id -> answer object."""
    assert QUESTIONS and all("\n" not in q.question for q in QUESTIONS)
    args = ["--corpus", str(REPO_MANIFEST), "--index", str(reference_ws.paths.index), "--docs", str(REFERENCE_CORPUS)]
    result = run_cli([*args, "-q", "ask", "--json"], input="".join(q.question + "\n" for q in QUESTIONS))
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr, result.stderr  # the index matches the manifest
    lines = result.stdout.splitlines()
    assert len(lines) == len(QUESTIONS), f"{len(lines)} answers for {len(QUESTIONS)} questions"
    answers = {q.id: json.loads(line) for q, line in zip(QUESTIONS, lines)}
    for q in QUESTIONS:
        assert answers[q.id]["question"] == q.question
    return answers


@pytest.fixture(scope="session")
def reference_eval(reference_ws):
    return evaluate(QUESTIONS, lambda q: reference_ws.ask(q, k=10), reference_ws.index.document_text_of_file)


# -- (1) the answer contract over all 40 dev questions ---------------------------------------------


@pytest.mark.parametrize("qid", [q.id for q in QUESTIONS])
def test_answer_contract_on_dev_question(reference_ws, cli_answers, qid):
    assert_answer_contract(cli_answers[qid], reference_ws.index, reference_ws.manifest)


def test_the_dev_set_is_the_expected_one():
    assert len(QUESTIONS) == 40
    assert sum(q.answerable for q in QUESTIONS) == 30


# -- (2) no network: build from nothing and answer with every socket refused ---------------------------


def test_index_build_and_ask_work_without_network(reference_ws, monkeypatch):
    # the session's build ran with every socket refused (see reference_ws): from nothing, nothing reused
    report = reference_ws.build_report
    assert reference_ws.build_network_attempts == [], reference_ws.build_network_attempts
    assert report.failures == [] and report.reused == 0
    assert report.documents == len(reference_ws.manifest.sources) and report.embedded == report.passages > 0

    attempts: list[str] = []
    block_network(monkeypatch, attempts)
    monkeypatch.delenv("NCMEC_QA_MODEL", raising=False)
    q = QUESTIONS[0]
    for fast in (True, False):  # the ONNX query encoder, and sentence-transformers loaded offline
        fresh = open_reference(reference_ws.paths.index)
        fresh.fast_queries = fast
        a = fresh.ask(q.question)
        assert a.passages
        assert_answer_contract(a.to_dict(), fresh.index, fresh.manifest)
        assert first_gold_rank(list(a.passages), q.evidence) is not None, f"{q.id}: no gold passage in the top 10"
    assert attempts == [], f"network was attempted: {attempts}"


# -- (3) the manifest matches the reference documents ------------------------------------------------


def test_every_manifest_record_matches_its_reference_document():
    m = load_manifest(REPO_MANIFEST)
    assert m.docs_dir().resolve() == REFERENCE_CORPUS.resolve()  # `documents` points at ../shared/corpus
    for s in m.sources:
        path = REFERENCE_CORPUS / s.file
        assert path.is_file(), f"{s.id}: {s.file} is not in {REFERENCE_CORPUS}"
        assert sha256_file(path) == s.sha256, f"{s.id}: sha256 of {s.file} differs from the manifest"
        if s.bytes is not None:
            assert path.stat().st_size == s.bytes, f"{s.id}: size of {s.file} differs from the manifest"


def test_manifest_covers_the_reference_corpus():
    """Every document the reference corpus describes has a record, with the same hash and format."""
    described = {r["file"]: r for r in json.loads((REFERENCE_CORPUS / "sources.json").read_text())}
    recorded = {s.file: s for s in load_manifest(REPO_MANIFEST).sources}
    assert set(described) == set(recorded)
    for file, r in described.items():
        assert recorded[file].sha256 == r["sha256"], file


def test_reference_index_meta(reference_ws):
    idx = reference_ws.index
    assert idx.meta["counts"]["documents"] == len(reference_ws.manifest.sources)
    assert idx.meta["counts"]["failed"] == 0
    assert idx.meta["dimension"] == 384
    assert reference_ws.staleness() is None
    for s in reference_ws.manifest.sources:
        assert idx.document_text(s.id), f"{s.id}: no text indexed"


def test_gold_quotes_of_json_and_csv_survive_extraction(reference_ws):
    """Quotes from raw table text (e.g. JSON numbers such as 2.400) are findable in the extracted text."""
    from ncmec_qa.evaluation import normalize_ws

    idx = reference_ws.index
    by_file = {s.file: s.id for s in reference_ws.manifest.sources}
    claims = [json.loads(line) for line in (EVAL_QUESTIONS.parent / "claims.jsonl").read_text().splitlines() if line]
    evidence = [(q.id, e.file, e.quote) for q in QUESTIONS for e in q.evidence]
    evidence += [(c["id"], e["file"], e["quote"]) for c in claims for e in c["evidence"]]
    assert len(evidence) > 100
    missing = [
        f"{qid}: {file}"
        for qid, file, quote in evidence
        if normalize_ws(quote) not in normalize_ws(idx.document_text(by_file[file]))
    ]
    assert not missing, f"gold quotes not in the extracted text: {missing}"


# -- (4) the evaluation figures the issue asks for -------------------------------------------------------


def test_eval_counts(reference_eval):
    assert (reference_eval.n_answerable, reference_eval.n_unanswerable) == (30, 10)


# The floors are the shipped default's dev figures (docs/benchmarks.md), one question below them:
# the models were fitted on ../shared/train and chosen by its cross-validated figures, so dev is a
# held-out check here, not what they were tuned on (the previous release's floors were).


def test_gold_evidence_in_top_5_for_at_least_24_of_30_and_mrr_at_least_065(reference_eval):
    misses = [r.id for r in reference_eval.results if r.answerable and (r.rank is None or r.rank > 5)]
    assert reference_eval.hits_at["@5"] >= 24, f"gold in top 5 for {reference_eval.hits_at['@5']}/30; misses: {misses}"
    assert reference_eval.mrr >= 0.65, reference_eval.mrr


def test_at_least_7_of_10_unanswerable_abstained(reference_eval):
    wrong = [r.id for r in reference_eval.results if not r.answerable and r.answered]
    assert reference_eval.abstained_correct >= 7, (
        f"abstained on {reference_eval.abstained_correct}/10; answered: {wrong}"
    )


def test_at_least_19_of_30_answerable_answered_and_answer_precision_at_least_035(reference_eval):
    wrong = [r.id for r in reference_eval.results if r.answerable and not r.answered]
    assert reference_eval.answered_correct >= 19, f"answered {reference_eval.answered_correct}/30; abstained: {wrong}"
    assert reference_eval.answer_precision >= 0.35, reference_eval.answer_precision
