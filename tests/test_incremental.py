"""Incremental builds: an index rebuilt after one change equals a full build of the same corpus
(passages, offsets, vectors, rankings, answers); a build killed midway leaves the previous index
in use, and the next build clears what it left; bench/rebuild.py runs. Fake embedder throughout.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    ENV_VARS,
    FAKE_MODEL,
    REPO,
    TinyCorpus,
    location_args,
    make_source,
    open_workspace,
    run_cli,
)

from ncmec_qa.index.store import Index, current_generation
from ncmec_qa.ingest import load_document
from ncmec_qa.ingest.chunking import chunk_document
from ncmec_qa.search.retrieval import RetrievalConfig, Retriever
from ncmec_qa.workspace import Workspace

# -- incremental == full ----------------------------------------------------------------------------

QUERIES = [
    "How long does the registry keep every report?",
    "fine for each widget an operator never reports",
    "Which region handled most of the widget reports?",
    "reports filed in 2022",
    "audits happen every spring",
]

EXTRA_TXT = b"Winter audits.\n\nThe registry audits every northern office in winter. Auditors travel by sled.\n"


def _edit(c: TinyCorpus):
    c.rewrite(
        "tiny-notes",
        b"Revised field notes.\n\nThe registry now keeps every report for one hundred days. "
        b"Then it is archived.\n\nCorrections cost nothing.\n",
    )
    return {"tiny-notes"}


def _append(c: TinyCorpus):
    c.rewrite(
        "tiny-handbook",
        c.path("tiny-handbook").read_bytes()
        + b"\n## Section 9 Appeals\n\nAn operator may appeal a fine within 14 days.\n",
    )
    return {"tiny-handbook"}


def _remove(c: TinyCorpus):
    c.set_sources([s for s in c.manifest().sources if s.id != "tiny-html"])
    return {"tiny-html"}


def _add(c: TinyCorpus):
    c.add("tiny-extra", "extra/winter.txt", EXTRA_TXT, "text")
    return {"tiny-extra"}


def _retitle(c: TinyCorpus):
    """Metadata only: the title is part of each passage's context, which is embedded with it."""
    c.set_sources(
        [
            replace(s, title="Handbook of Widget Reports, revised") if s.id == "tiny-handbook" else s
            for s in c.manifest().sources
        ]
    )
    return {"tiny-handbook"}


def _reformat(c: TinyCorpus):
    """Same bytes read with another loader: CSV rows become plain text."""
    c.set_sources([replace(s, format="text") if s.id == "tiny-counts" else s for s in c.manifest().sources])
    return {"tiny-counts"}


def _move(c: TinyCorpus):
    """Same bytes under another file name."""
    old = c.manifest().get("tiny-notes")
    new = c.docs / "archive" / "field-notes.txt"
    new.parent.mkdir()
    c.path("tiny-notes").rename(new)
    c.set_sources([replace(s, file="archive/field-notes.txt") if s.id == old.id else s for s in c.manifest().sources])
    return {"tiny-notes"}


def _drift(c: TinyCorpus):
    """The file changes and the manifest is not updated: the build indexes what is there."""
    c.path("tiny-notes").write_bytes(b"Unrecorded edit. The registry keeps reports for a week now.\n")
    return {"tiny-notes"}


CHANGES = {f.__name__[1:]: f for f in (_edit, _append, _remove, _add, _retitle, _reformat, _move, _drift)}


def passages_of(corpus: TinyCorpus) -> dict[str, int]:
    """Passages per source, from the loaders and chunker directly."""
    out = {}
    for s in corpus.manifest().sources:
        out[s.id] = len(chunk_document(load_document(corpus.docs / s.file, s.id, s.file, s.format)))
    return out


def workspace(corpus: TinyCorpus, index_dir: Path, mode: str = "hybrid") -> Workspace:
    return Workspace.open(
        corpus=corpus.manifest_path,
        index=index_dir,
        docs=corpus.docs,
        model=FAKE_MODEL,
        retrieval=RetrievalConfig(mode=mode),
    )


def assert_same_index(inc_dir: Path, full_dir: Path) -> None:
    a, b = Index(inc_dir), Index(full_dir)
    try:
        assert a.size == b.size
        assert a.documents() == b.documents()
        pa, pb = a.passages(range(1, a.size + 1)), b.passages(range(1, b.size + 1))
        for rid in range(1, b.size + 1):  # same rows in the same order: ids, offsets, text, sentences
            assert pa[rid] == pb[rid], (rid, pa[rid].passage_id, pb[rid].passage_id)
        assert a.contexts() == b.contexts()
        np.testing.assert_allclose(np.asarray(a.vectors), np.asarray(b.vectors), atol=1e-6)
        np.testing.assert_allclose(np.asarray(a.sentence_vectors), np.asarray(b.sentence_vectors), atol=1e-6)
        terms = "SELECT term, df FROM terms ORDER BY term"
        assert a.db.execute(terms).fetchall() == b.db.execute(terms).fetchall()
        for key in ("model", "dimension", "manifest_hash", "counts", "documents", "chunking", "failures"):
            assert a.meta[key] == b.meta[key], key
    finally:
        a.close()
        b.close()


def assert_sentence_ranking_is_by_best_sentence(corpus: TinyCorpus, index_dir: Path) -> None:
    """The first stage's sentence ranking (one vectorised max per run of a passage's sentences) equals the
    passage-by-passage maximum over each passage's own sentences: it relies on sentences being stored
    passage by passage, which every build, incremental or not, must keep."""
    ws = workspace(corpus, index_dir)
    try:
        ix = ws.index
        owners = ix.sentence_passages()
        runs = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        assert len(runs) == len(set(owners.tolist())), "a passage's sentences are not stored together"
        retriever = Retriever(ix, ws.embed_query, RetrievalConfig())
        for q in QUERIES:
            qv = ws.embed_query(q)
            ranked = retriever._sentence_ranking(qv, ix.size)
            passages = ix.passages(range(1, ix.size + 1))
            best = {
                rid: max(float(ix.sentence_vectors[s.row - 1] @ qv) for s in p.sentences)
                for rid, p in passages.items()
                if p.sentences
            }
            assert sorted(ranked) == sorted(best)
            got = [best[r] for r in ranked]
            assert got == sorted(got, reverse=True), q
    finally:
        ws.index.close()


def assert_same_answers(corpus: TinyCorpus, inc_dir: Path, full_dir: Path) -> None:
    for mode in ("hybrid", "dense", "lexical"):
        wa, wb = workspace(corpus, inc_dir, mode), workspace(corpus, full_dir, mode)
        for q in QUERIES:
            ha, hb = wa.search(q, k=8), wb.search(q, k=8)
            assert [h.passage.passage_id for h in ha] == [h.passage.passage_id for h in hb], (mode, q)
            np.testing.assert_allclose([h.score for h in ha], [h.score for h in hb], atol=1e-6)
        if mode == "hybrid":
            for q in QUERIES:
                assert wa.ask(q).to_dict() == wb.ask(q).to_dict(), q
        wa.index.close()
        wb.index.close()


@pytest.mark.parametrize("change", list(CHANGES))
def test_incremental_build_equals_a_full_build(tiny_corpus, tmp_path, change):
    inc_dir, full_dir = tmp_path / "index", tmp_path / "full-index"
    first = workspace(tiny_corpus, inc_dir).build()
    assert not first.failures and first.embedded == first.passages
    before = passages_of(tiny_corpus)

    touched = CHANGES[change](tiny_corpus)
    after = passages_of(tiny_corpus)
    inc = workspace(tiny_corpus, inc_dir).build()
    full = workspace(tiny_corpus, full_dir).build(full=True)

    assert not inc.failures and not full.failures
    # untouched documents are reused whole; a touched one re-embeds at most all of its passages
    # (passages whose embedded text did not change keep their vectors)
    assert inc.embedded + inc.reused == inc.passages
    assert inc.reused >= sum(n for s, n in before.items() if s not in touched)
    assert inc.embedded <= sum(after.get(s, 0) for s in touched)
    assert inc.dropped <= sum(before.get(s, 0) for s in touched)
    if change == "append":  # only the passages that the appended text changed are embedded again
        assert 0 < inc.embedded < sum(after.get(s, 0) for s in touched)
    if change == "move":  # same bytes under another name: nothing to embed
        assert inc.embedded == 0
    assert inc.passages == full.passages == full.embedded == sum(after.values())
    assert bool(inc.warnings) == (change == "drift")
    assert_same_index(inc_dir, full_dir)
    assert_same_answers(tiny_corpus, inc_dir, full_dir)
    assert_sentence_ranking_is_by_best_sentence(tiny_corpus, inc_dir)


def test_a_chain_of_incremental_builds_still_equals_a_full_build(tiny_corpus, tmp_path):
    inc_dir = tmp_path / "index"
    workspace(tiny_corpus, inc_dir).build()
    for change in ("retitle", "edit", "add", "remove", "reformat", "move"):
        CHANGES[change](tiny_corpus)
        workspace(tiny_corpus, inc_dir).build()
    workspace(tiny_corpus, tmp_path / "full").build(full=True)
    assert_same_index(inc_dir, tmp_path / "full")
    assert_same_answers(tiny_corpus, inc_dir, tmp_path / "full")
    assert_sentence_ranking_is_by_best_sentence(tiny_corpus, inc_dir)


# -- interrupted builds ------------------------------------------------------------------------------

WORDS = (
    "registry operator widget gadget ledger depot borrower archive audit office city festival winter "
    "spring serial loan return county lamp kettle bicycle harbour ferry"
).split()


def many_docs(root: Path, n: int, seed: int = 7) -> list:
    """n small generated text documents (eight paragraphs each) and their records."""
    rng = random.Random(seed)
    docs = root / "docs"
    out = []
    for i in range(n):
        paras = [
            " ".join(
                f"The {rng.choice(WORDS)} of {rng.choice(WORDS)} {i}-{j}-{k} keeps "
                f"{rng.choice(WORDS)} records for {rng.randint(2, 99)} days."
                for k in range(4)
            )
            for j in range(8)
        ]
        p = docs / "gen" / f"doc{i:04}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("\n\n".join(paras) + "\n", encoding="utf-8")
        out.append(make_source(docs, f"gen-{i:04}", f"gen/doc{i:04}.txt", "text", title=f"Generated {i}"))
    return out


def cli_process(args: list, *, pause_before_swap: bool = False) -> subprocess.Popen:
    """`ncmec-qa ARGS` in a child process (stderr piped). With pause_before_swap the child stops
    for good once a complete new generation is written but not yet renamed into place."""
    code = "from ncmec_qa.cli.commands import main; main()"
    if pause_before_swap:
        code = (
            "import os, sys, time\n"
            "def pausing(real):\n"
            "    def f(src, dst, *a, **k):\n"
            "        if os.path.basename(os.fspath(src)).startswith('.tmp-'):\n"
            "            print('PAUSED before the swap', file=sys.stderr, flush=True)\n"
            "            time.sleep(600)\n"
            "        return real(src, dst, *a, **k)\n"
            "    return f\n"
            "os.rename, os.replace = pausing(os.rename), pausing(os.replace)\n"
        ) + code
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env["HF_HUB_OFFLINE"] = "1"
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(args_cwd(args)),
    )


def args_cwd(args: list) -> Path:
    return Path(args[args.index("--index") + 1]).parent


def kill_when(proc: subprocess.Popen, marker: str) -> list[str]:
    """SIGKILL the child as soon as a stderr line contains `marker`; its stderr lines until then."""
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if marker in line:
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=60)
        proc.stderr.close()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL, f"the build was not killed midway: {seen}"
    return seen


def assert_previous_index_in_use(
    corpus: TinyCorpus, index_dir: Path, gen: Path, size: int, question: str, source_id: str
) -> None:
    assert current_generation(index_dir) == gen
    idx = Index(index_dir)
    try:
        assert idx.path == gen and idx.size == size
    finally:
        idx.close()
    args = location_args(corpus, index_dir)
    r = run_cli([*args, "ask", question, "--json"])
    assert r.exit_code == 3, r.output  # answered from the previous index, which the manifest moved on from
    answer = json.loads(r.stdout)
    assert answer["answered"] and answer["sources"][0]["source_id"] == source_id, answer
    stale = r.stderr.strip().splitlines()  # the manifest moved on; the old index says so, once
    assert len(stale) == 1 and "`ncmec-qa index build`" in stale[0]
    r = run_cli([*args, "index", "status", "--json"])
    assert r.exit_code == 3, r.output  # the index does not match the corpus
    status = json.loads(r.stdout)
    assert status["stale"] is True and status["counts"]["passages"] == size
    assert run_cli([*args, "index", "status"]).exit_code == 3


def leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith(".tmp-"))


NOTES_Q = "Does the registry keep every report for ninety days?"


def test_a_build_killed_while_embedding_leaves_the_previous_index(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    previous = open_workspace(tiny_corpus, index_dir).build()
    gen = current_generation(index_dir)
    generated = many_docs(tmp_path, 300)  # a few seconds of work with the fake embedder
    tiny_corpus.set_sources([*tiny_corpus.manifest().sources, *generated])

    proc = cli_process([*location_args(tiny_corpus, index_dir), "index", "build", "--model", FAKE_MODEL])
    seen = kill_when(proc, "embedding")
    assert seen[0].startswith(f"indexing {len(generated) + 6} documents")

    assert_previous_index_in_use(tiny_corpus, index_dir, gen, previous.passages, NOTES_Q, "tiny-notes")
    report = open_workspace(tiny_corpus, index_dir).build()
    assert report.reused == previous.passages and report.dropped == 0
    assert report.embedded == report.passages - previous.passages > len(generated)
    assert leftovers(index_dir) == []
    assert [p.name for p in index_dir.iterdir() if p.name.startswith("gen-")] == [current_generation(index_dir).name]


def test_a_build_killed_before_its_swap_leaves_the_previous_index_and_the_next_build_clears_up(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    previous = open_workspace(tiny_corpus, index_dir).build()
    gen = current_generation(index_dir)
    tiny_corpus.add("tiny-extra", "extra/winter.txt", EXTRA_TXT, "text")

    proc = cli_process(
        [*location_args(tiny_corpus, index_dir), "index", "build", "--model", FAKE_MODEL], pause_before_swap=True
    )
    kill_when(proc, "PAUSED before the swap")
    left = leftovers(index_dir)
    assert len(left) == 1 and left[0].startswith(".tmp-gen-")
    assert (index_dir / left[0] / "meta.json").is_file()  # a whole generation, never made current

    assert_previous_index_in_use(tiny_corpus, index_dir, gen, previous.passages, NOTES_Q, "tiny-notes")
    r = run_cli([*location_args(tiny_corpus, index_dir), "index", "build", "--model", FAKE_MODEL])
    assert r.exit_code == 0, r.output
    assert "(1 embedded, " in r.stdout
    assert leftovers(index_dir) == []
    assert [p.name for p in index_dir.iterdir() if p.name.startswith("gen-")] == [current_generation(index_dir).name]
    idx = Index(index_dir)
    try:
        assert "sled" in idx.document_text("tiny-extra")
    finally:
        idx.close()


def test_python_m_ncmec_qa_cli_runs(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    r = subprocess.run(
        [sys.executable, "-m", "ncmec_qa.cli.commands", "corpus", "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-500:]


# -- bench/rebuild.py ---------------------------------------------------------------------------------


def test_rebuild_benchmark_runs_on_a_slice_with_the_fake_model(tmp_path):
    out = tmp_path / "rebuild.md"
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    r = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "rebuild.py"),
            "--model",
            FAKE_MODEL,
            "--limit",
            "3",
            "--repeat",
            "2",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.strip().splitlines()
    assert lines[0] == (
        "| changed document | full build (embedding) | incremental build, median of 2 (embedding) "
        "| ratio | passages embedded / reused / dropped |"
    )
    row = re.compile(
        r"\| usc-18-\S+ \([\d,]+ bytes\) \| [\d.]+ s \([\d.]+ s\) "
        r"\| [\d.]+ s \([\d.]+ s\); runs: [\d.]+, [\d.]+ \| [\d.]+% \| \d+ / \d+ / \d+ \|"
    )
    assert len(lines) >= 3 and all(row.fullmatch(ln) for ln in lines[2:]), lines
    report = out.read_text(encoding="utf-8")
    assert report.startswith("# Benchmark: incremental rebuild")
    assert "Command: `python bench/rebuild.py --model fake:64 --limit 3 --repeat 2 --out " in report
    assert f"{os.cpu_count()} CPUs" in report and "Versions: python " in report
    assert lines[2] in report
