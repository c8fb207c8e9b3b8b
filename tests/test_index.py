"""The index folder: what a build writes, atomic swaps, corruption, staleness, incremental
rebuilds, and indexing that survives broken files. All with the fake embedder."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    FAKE_MODEL,
    NOTES_TXT,
    TINY_DOCS,
    assert_answer_contract,
    location_args,
    make_source,
    open_workspace,
    run_cli,
    write_tiny_corpus,
)

from ncmec_qa.answer.answering import NOT_ANSWERED
from ncmec_qa.corpus.manifest import manifest_hash
from ncmec_qa.errors import ExitStatus, IndexCorrupt, IndexMissing, IndexStale
from ncmec_qa.index import store
from ncmec_qa.index.generations import LOCK_FILES
from ncmec_qa.index.store import Index, current_generation
from ncmec_qa.ingest import load_document
from ncmec_qa.ingest.chunking import ChunkConfig, chunk_document


def expected_passages(corpus, cfg: ChunkConfig = ChunkConfig()) -> dict[str, list]:
    """Passages per source, computed from the loaders and the chunker directly."""
    out = {}
    for s in corpus.manifest().sources:
        doc = load_document(corpus.docs / s.file, s.id, s.file, s.format)
        out[s.id] = chunk_document(doc, cfg)
    return out


def per_source(index: Index) -> Counter:
    return Counter(p.source_id for p in index.all_passages())


def index_entries(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir())


def snapshot(index: Index) -> dict[str, tuple[str, np.ndarray]]:
    """passage_id -> (text, vector) for comparing two builds."""
    out = {}
    vecs = np.asarray(index.vectors)
    for rid, p in index.passages(range(1, index.size + 1)).items():
        out[p.passage_id] = (p.text, vecs[rid - 1].copy())
    return out


# -- what a build writes --------------------------------------------------------------------------


def test_meta_json_describes_the_build(fake_ws, tiny_corpus):
    gen = current_generation(fake_ws.paths.index)
    meta = json.loads((gen / "meta.json").read_text())
    expected = expected_passages(tiny_corpus)
    n_passages = sum(len(v) for v in expected.values())
    assert meta["format_version"] == store.FORMAT_VERSION == 1
    assert meta["model"] == FAKE_MODEL and meta["dimension"] == 64
    assert meta["manifest_hash"] == manifest_hash(tiny_corpus.manifest())
    assert meta["counts"] == {
        "documents": len(TINY_DOCS),
        "passages": n_passages,
        "sentences": sum(len(p.sentences) for v in expected.values() for p in v),
        "failed": 0,
    }
    assert meta["documents"] == {s.id: s.sha256 for s in tiny_corpus.manifest().sources}
    assert meta["chunking"] == asdict(ChunkConfig())
    r = fake_ws.build_report
    assert (r.documents, r.passages, r.embedded, r.reused, r.dropped) == (len(TINY_DOCS), n_passages, n_passages, 0, 0)
    assert r.index_path == str(gen)


def test_layout_is_one_generation_behind_a_current_symlink(fake_ws):
    index_dir = fake_ws.paths.index
    link = index_dir / "current"
    assert link.is_symlink()
    gens = [p for p in index_dir.iterdir() if p.name.startswith("gen-")]
    assert len(gens) == 1 and link.resolve() == gens[0].resolve()
    assert {"meta.json", "store.sqlite", "vectors.npy"} <= {p.name for p in gens[0].iterdir()}
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".") and p.name not in LOCK_FILES]


def test_index_holds_documents_passages_and_normalised_vectors(fake_ws, tiny_corpus):
    idx = fake_ws.index
    expected = expected_passages(tiny_corpus)
    for s in tiny_corpus.manifest().sources:
        doc = load_document(tiny_corpus.docs / s.file, s.id, s.file, s.format)
        assert idx.document_text(s.id) == doc.text
    stored = {p.passage_id: p for p in idx.all_passages()}
    assert set(stored) == {p.passage_id for v in expected.values() for p in v}
    for v in expected.values():
        for p in v:
            q = stored[p.passage_id]
            assert (q.text, q.section, q.page, q.file, q.start, q.end) == (
                p.text,
                p.section,
                p.page,
                p.file,
                p.start,
                p.end,
            )
            assert [(s.start, s.end, s.text, s.kind) for s in q.sentences] == [
                (s.start, s.end, s.text, s.kind) for s in p.sentences
            ]
    vecs = np.asarray(idx.vectors)
    assert vecs.shape == (idx.size, 64) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert idx.document_text("no-such-source") is None


def test_search_finds_the_passage_and_filters_by_source(fake_ws):
    hits = fake_ws.search("serial number of the widget and the city where it was found", k=5)
    assert hits[0].passage.source_id == "tiny-handbook" and "serial number" in hits[0].passage.text
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    only = fake_ws.search("widget reports", k=20, sources={"tiny-notes", "tiny-pdf"})
    assert only and {h.passage.source_id for h in only} <= {"tiny-notes", "tiny-pdf"}
    without = fake_ws.search("widget reports", k=20, exclude={"tiny-handbook"})
    assert without and "tiny-handbook" not in {h.passage.source_id for h in without}


@pytest.mark.parametrize("query", ['widget" OR NOT (* ^', "NEAR(a b)", "-- ; DROP TABLE passages", "???", ""])
def test_lexical_search_takes_any_text(fake_ws, query):
    fake_ws.search(query, k=3)  # no FTS5 syntax error leaks out
    assert fake_ws.index.lexical_search("", 3) == []


def test_ask_answers_with_verbatim_cited_sentences(fake_ws):
    a = fake_ws.ask("Does the registry keep every report for ninety days?")
    assert a.answered
    assert "The registry keeps every report for ninety days." in [s.text for s in a.answer]
    assert_answer_contract(a.to_dict(), fake_ws.index, fake_ws.manifest)


def test_ask_abstains_but_shows_the_nearest_passages(fake_ws):
    a = fake_ws.ask("Which planets have rings made of ice?")
    assert not a.answered and a.answer == () and a.sources == ()
    assert a.reason.startswith(NOT_ANSWERED)
    assert a.passages
    assert_answer_contract(a.to_dict(), fake_ws.index, fake_ws.manifest)


def test_the_contract_checker_catches_violations(fake_ws):
    """The checker used on every answer must itself be able to fail."""
    import copy

    good = fake_ws.ask("Does the registry keep every report for ninety days?").to_dict()
    assert_answer_contract(good, fake_ws.index, fake_ws.manifest)

    def broken(mutate):
        a = copy.deepcopy(good)
        mutate(a)
        with pytest.raises(AssertionError):
            assert_answer_contract(a, fake_ws.index, fake_ws.manifest)

    broken(lambda a: a["answer"][0].update(text=a["answer"][0]["text"] + " And more."))  # not in the quote
    broken(lambda a: a["sources"][0].update(start=a["sources"][0]["start"] + 1))  # offsets off by one
    broken(lambda a: a["sources"][0].update(quote=a["sources"][0]["quote"].replace("ninety", "sixty")))
    broken(lambda a: a["sources"][0].update(passage_id="tiny-notes:0-1"))  # no such passage
    broken(lambda a: a["answer"][0].update(citations=[99]))  # cites nothing
    broken(lambda a: a["sources"][0].update(file="elsewhere.txt"))
    broken(lambda a: a["sources"][0].update(title="Another title"))
    broken(lambda a: a.update(answered=False))  # abstained but answer sentences remain
    broken(lambda a: a["passages"].reverse() if len(a["passages"]) > 1 else a.update(passages=[]))
    broken(lambda a: a["passages"][0].update(text=a["passages"][0]["text"][1:]))


# -- atomic writes --------------------------------------------------------------------------------


def _fail_vector_index(monkeypatch):
    import ncmec_qa.index.vectors

    def boom(*a, **k):
        raise RuntimeError("simulated failure while writing vectors.faiss")

    monkeypatch.setattr(ncmec_qa.index.vectors, "build_vector_index", boom)
    return RuntimeError


def _fail_np_save(monkeypatch):
    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.np, "save", boom)
    return OSError


@pytest.mark.parametrize("fail", [_fail_vector_index, _fail_np_save])
def test_failed_build_leaves_the_previous_index_current_and_usable(fake_ws, tiny_corpus, monkeypatch, fail):
    index_dir = fake_ws.paths.index
    before_gen = current_generation(index_dir)
    before_entries = index_entries(index_dir)
    before_hits = [h.passage.passage_id for h in fake_ws.search("ninety days archive", k=3)]
    tiny_corpus.rewrite("tiny-notes", b"Completely new notes about something else entirely.\n")

    exc = fail(monkeypatch)
    ws = open_workspace(tiny_corpus, index_dir)
    with pytest.raises(exc):
        ws.build()
    monkeypatch.undo()

    assert current_generation(index_dir) == before_gen
    assert index_entries(index_dir) == before_entries, "a failed build left something behind"
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".tmp-")]
    old = Index(index_dir)
    try:
        assert old.path == before_gen
        assert "ninety days" in old.document_text("tiny-notes")
        ws2 = open_workspace(tiny_corpus, index_dir)
        assert [h.passage.passage_id for h in ws2.search("ninety days archive", k=3)] == before_hits
    finally:
        old.close()


def test_next_build_removes_leftovers_of_a_killed_build(fake_ws, tiny_corpus):
    index_dir = fake_ws.paths.index
    (index_dir / ".tmp-gen-20200101T000000-deadbeef").mkdir()
    (index_dir / ".tmp-gen-20200101T000000-deadbeef" / "store.sqlite").write_bytes(b"half")
    (index_dir / "gen-20200101T000000-cafebabe").mkdir()
    open_workspace(tiny_corpus, index_dir).build()
    entries = index_entries(index_dir)
    assert "current" in entries
    assert [e for e in entries if e.startswith("gen-")] == [current_generation(index_dir).name]
    assert not [e for e in entries if e.startswith(".") and e not in LOCK_FILES]


# -- corrupt and missing indexes --------------------------------------------------------------------


def test_missing_index(tmp_path):
    with pytest.raises(IndexMissing, match=r"no index at .*: run `ncmec-qa index build` first"):
        Index(tmp_path / "nothing-here")


def _gen(ws) -> Path:
    ws.index.close()
    return current_generation(ws.paths.index)


def _delete_store(gen):
    (gen / "store.sqlite").unlink()


def _garble_store(gen):
    (gen / "store.sqlite").write_bytes(b"this is not a database" * 200)


def _truncate_meta(gen):
    (gen / "meta.json").write_text('{"format_version": 1, "model": ')


def _delete_meta(gen):
    (gen / "meta.json").unlink()


def _future_meta(gen):
    meta = json.loads((gen / "meta.json").read_text())
    (gen / "meta.json").write_text(json.dumps({**meta, "format_version": 99}))


def _miscount_meta(gen):
    meta = json.loads((gen / "meta.json").read_text())
    meta["counts"]["passages"] += 5
    (gen / "meta.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    "damage,what",
    [
        (_delete_store, "missing store.sqlite"),
        (_garble_store, "store.sqlite is damaged"),
        (_truncate_meta, "unreadable meta.json"),
        (_delete_meta, "unreadable meta.json"),
        (_future_meta, "format version 99"),
        (_miscount_meta, "passages stored but meta.json says"),
    ],
)
def test_corrupt_index_is_detected_on_open(fake_ws, damage, what):
    gen = _gen(fake_ws)
    damage(gen)
    with pytest.raises(IndexCorrupt) as ei:
        Index(fake_ws.paths.index)
    msg = str(ei.value)
    assert what in msg and "rebuild" in msg and "\n" not in msg, msg


def _garble_vectors(gen):
    (gen / "vectors.npy").write_bytes(b"\x93NUMPY garbage")


def _short_vectors(gen):
    v = np.load(gen / "vectors.npy")
    np.save(gen / "vectors.npy", v[:-1])


@pytest.mark.parametrize(
    "damage,what", [(_garble_vectors, "vectors.npy is damaged"), (_short_vectors, "rows in vectors.npy for")]
)
def test_damaged_vectors_are_detected_on_search(fake_ws, tiny_corpus, damage, what):
    gen = _gen(fake_ws)
    damage(gen)
    ws = open_workspace(tiny_corpus, fake_ws.paths.index)
    with pytest.raises(IndexCorrupt, match=what) as ei:
        ws.search("widget", k=3)
    assert "rebuild" in str(ei.value)


@pytest.mark.parametrize(
    "damage",
    [_garble_store, _truncate_meta, _garble_vectors, _short_vectors],
    ids=["store", "meta", "vectors", "short-vectors"],
)
def test_a_plain_rebuild_repairs_a_corrupt_index(fake_ws, tiny_corpus, damage):
    """The errors say 'rebuild': `index build` (without --full) must then work."""
    gen = _gen(fake_ws)
    damage(gen)
    ws = open_workspace(tiny_corpus, fake_ws.paths.index)
    report = ws.build()
    assert report.reused == 0 and report.embedded == report.passages > 0
    idx = Index(fake_ws.paths.index)
    try:
        assert idx.path != gen and idx.size == report.passages
        assert ws.search("widget", k=3)
    finally:
        idx.close()


# -- staleness ------------------------------------------------------------------------------------


def test_fresh_index_is_not_stale(fake_ws):
    assert fake_ws.staleness() is None
    fake_ws.check_fresh()


def test_adding_a_source_makes_the_index_stale(fake_ws, tiny_corpus):
    tiny_corpus.add("tiny-extra", "extra.txt", b"An extra note about widget audits.\n", "text")
    ws = open_workspace(tiny_corpus, fake_ws.paths.index, model=None)
    msg = ws.staleness()
    assert msg and "\n" not in msg
    assert "stale" in msg and "`ncmec-qa index build`" in msg
    assert str(tiny_corpus.manifest_path) in msg
    with pytest.raises(IndexStale):
        ws.check_fresh()
    open_workspace(tiny_corpus, fake_ws.paths.index).build()
    assert open_workspace(tiny_corpus, fake_ws.paths.index, model=None).staleness() is None


def test_changing_a_recorded_hash_makes_the_index_stale(fake_ws, tiny_corpus):
    tiny_corpus.rewrite("tiny-notes", NOTES_TXT.encode() + b"\nOne more line.\n")
    msg = open_workspace(tiny_corpus, fake_ws.paths.index, model=None).staleness()
    assert msg and "ncmec-qa index build" in msg


def test_another_model_is_reported(fake_ws, tiny_corpus):
    msg = open_workspace(tiny_corpus, fake_ws.paths.index, model="fake:32").staleness()
    assert msg and "'fake:64'" in msg and "'fake:32'" in msg and "ncmec-qa index build" in msg


# -- incremental rebuilds ----------------------------------------------------------------------------


def test_unchanged_rebuild_embeds_nothing(fake_ws, tiny_corpus):
    first = fake_ws.build_report
    before = snapshot(fake_ws.index)
    r = open_workspace(tiny_corpus, fake_ws.paths.index).build()
    assert (r.embedded, r.reused, r.dropped) == (0, first.passages, 0)
    assert r.passages == first.passages and r.documents == first.documents
    after = snapshot(Index(fake_ws.paths.index))
    assert after.keys() == before.keys()
    for pid in before:
        assert after[pid][0] == before[pid][0] and np.array_equal(after[pid][1], before[pid][1])


def test_one_changed_document_is_re_embedded_and_the_counts_add_up(fake_ws, tiny_corpus):
    old_counts = per_source(fake_ws.index)
    old_total = sum(old_counts.values())
    tiny_corpus.rewrite(
        "tiny-notes",
        (
            "Revised notes.\n\nThe registry now keeps every report for one hundred days. Then it is archived.\n\n"
            "Corrections are free. Operators ask by letter.\n\nA fourth paragraph closes the notes.\n"
        ).encode(),
    )
    new_notes = len(expected_passages(tiny_corpus)["tiny-notes"])
    r = open_workspace(tiny_corpus, fake_ws.paths.index).build()
    assert r.embedded == new_notes
    assert r.dropped == old_counts["tiny-notes"]
    assert r.reused == old_total - old_counts["tiny-notes"]
    assert r.reused + r.embedded == r.passages
    assert r.reused + r.dropped == old_total
    idx = Index(fake_ws.paths.index)
    assert "one hundred days" in idx.document_text("tiny-notes")
    assert per_source(idx)["tiny-notes"] == new_notes


def test_removed_and_added_sources(fake_ws, tiny_corpus):
    old_counts = per_source(fake_ws.index)
    m = tiny_corpus.manifest()
    tiny_corpus.set_sources([s for s in m.sources if s.id != "tiny-html"])
    tiny_corpus.add("tiny-extra", "extra.txt", b"An extra note about widget audits in winter.\n", "text")
    r = open_workspace(tiny_corpus, fake_ws.paths.index).build()
    assert r.dropped == old_counts["tiny-html"]
    assert r.embedded == 1
    assert r.reused == sum(old_counts.values()) - old_counts["tiny-html"]
    idx = Index(fake_ws.paths.index)
    assert idx.document_text("tiny-html") is None and "winter" in idx.document_text("tiny-extra")
    assert "tiny-html" not in per_source(idx)


@pytest.mark.parametrize("change", ["full", "model", "chunking"])
def test_nothing_is_reused_across_models_chunkings_or_full(fake_ws, tiny_corpus, change):
    ws = open_workspace(tiny_corpus, fake_ws.paths.index, model="fake:32" if change == "model" else FAKE_MODEL)
    if change == "chunking":
        ws.chunking = ChunkConfig(max_chars=300)
    r = ws.build(full=change == "full")
    assert r.reused == 0 and r.embedded == r.passages > 0
    meta = Index(fake_ws.paths.index).meta
    assert meta["model"] == ("fake:32" if change == "model" else FAKE_MODEL)
    assert meta["dimension"] == (32 if change == "model" else 64)
    assert meta["chunking"]["max_chars"] == (300 if change == "chunking" else ChunkConfig().max_chars)


def test_incremental_build_equals_a_full_build(fake_ws, tiny_corpus, tmp_path):
    tiny_corpus.rewrite("tiny-counts", b'year,reports,note\n2022,"400,715",first full year\n2024,77,third year\n')
    open_workspace(tiny_corpus, fake_ws.paths.index).build()
    open_workspace(tiny_corpus, tmp_path / "full-index").build(full=True)
    inc, full = snapshot(Index(fake_ws.paths.index)), snapshot(Index(tmp_path / "full-index"))
    assert inc.keys() == full.keys()
    for pid in full:
        assert inc[pid][0] == full[pid][0]
        assert np.allclose(inc[pid][1], full[pid][1]), pid


def test_changing_only_the_format_re_extracts_the_document(tmp_path):
    """A file first registered with the wrong format, then corrected: same bytes, new extraction."""
    corpus = write_tiny_corpus(tmp_path, only=["tiny-counts", "tiny-notes"])
    m = corpus.manifest()
    corpus.set_sources([replace(s, format="text") if s.id == "tiny-counts" else s for s in m.sources])
    index_dir = tmp_path / "index"
    open_workspace(corpus, index_dir).build()
    assert per_source(Index(index_dir))["tiny-counts"] == 1  # read as plain text: one passage
    corpus.set_sources([replace(s, format="csv") if s.id == "tiny-counts" else s for s in corpus.manifest().sources])
    r = open_workspace(corpus, index_dir).build()
    idx = Index(index_dir)
    rows = sorted(p.section for p in idx.all_passages() if p.source_id == "tiny-counts")
    assert rows == ["row 1 (columns: year, reports, note)", "row 2 (columns: year, reports, note)"], (
        "the document kept the passages of its old format"
    )
    assert r.embedded == 2
    assert [d.format for d in idx.documents() if d.source_id == "tiny-counts"] == ["csv"]


def test_editing_a_title_gives_the_same_index_as_a_full_build(fake_ws, tiny_corpus, tmp_path):
    """The title is part of what is embedded, so an incremental build must not keep vectors of the old title."""
    m = tiny_corpus.manifest()
    tiny_corpus.set_sources(
        [
            replace(s, title="Handbook of the Widget Registry, revised") if s.id == "tiny-handbook" else s
            for s in m.sources
        ]
    )
    open_workspace(tiny_corpus, fake_ws.paths.index).build()
    open_workspace(tiny_corpus, tmp_path / "full-index").build(full=True)
    inc, full = snapshot(Index(fake_ws.paths.index)), snapshot(Index(tmp_path / "full-index"))
    stale = [pid for pid in full if not np.allclose(inc[pid][1], full[pid][1])]
    assert not stale, f"vectors embedded with the old title were reused: {stale}"


# -- broken files (the build goes on, names them, and never shows a traceback) -------------------------

BROKEN = {
    # id: (file, format, bytes or None for a missing file, expected reason)
    "bad-empty": ("broken/empty.md", "markdown", b"\n\n", "empty file"),
    "bad-pdf": ("broken/login-page.pdf", "pdf", b"<html><body>Please sign in</body></html>", "not a PDF"),
    "bad-utf8": ("broken/latin1.txt", "text", "Caf\xe9 au lait".encode("latin-1"), "not UTF-8"),
    "bad-json": ("broken/truncated.json", "json", b'{"rows": [[1, 2], [3', "invalid JSON at line 1, column"),
    "bad-format": ("broken/slides.pptx", "pptx", b"PK\x03\x04 slides", "unsupported format 'pptx'"),
    "bad-missing": ("broken/gone.txt", "text", None, "file not found"),
}


def broken_corpus(root: Path, with_good: bool):
    corpus = write_tiny_corpus(root, only=["tiny-notes"] if with_good else [])
    sources = list(corpus.manifest().sources)
    for sid, (file, fmt, data, _) in BROKEN.items():
        p = corpus.docs / file
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data if data is not None else b"placeholder")
        sources.append(make_source(corpus.docs, sid, file, fmt))
        if data is None:
            p.unlink()
    corpus.set_sources(sources)
    return corpus


def test_build_indexes_the_good_document_and_names_each_broken_one(tmp_path):
    corpus = broken_corpus(tmp_path, with_good=True)
    index_dir = tmp_path / "index"
    result = run_cli([*location_args(corpus, index_dir), "index", "build", "--model", FAKE_MODEL])
    assert result.exit_code == ExitStatus.PARTIAL == 4, result.output
    assert "Traceback" not in result.output
    skipped = [ln for ln in result.stderr.splitlines() if ln.startswith("skipped ")]
    assert len(skipped) == len(BROKEN), result.stderr
    for sid, (file, fmt, data, reason) in BROKEN.items():
        line = next((ln for ln in skipped if ln.startswith(f"skipped {file}: ")), None)
        assert line is not None, f"{file} is not named on stderr:\n{result.stderr}"
        assert reason in line, line
    assert "indexed 1 documents" in result.stdout and f"{len(BROKEN)} failed" in result.stdout
    idx = Index(index_dir)
    assert [d.source_id for d in idx.documents()] == ["tiny-notes"]
    assert idx.meta["counts"]["failed"] == len(BROKEN)
    assert {f["file"] for f in idx.meta["failures"]} == {v[0] for v in BROKEN.values()}
    # and it answers from what it could read
    ws = open_workspace(corpus, index_dir)
    assert ws.ask("Does the registry keep every report for ninety days?").answered


def test_build_with_every_document_broken_fails_in_one_line(tmp_path):
    corpus = broken_corpus(tmp_path, with_good=False)
    index_dir = tmp_path / "index"
    result = run_cli([*location_args(corpus, index_dir), "index", "build", "--model", FAKE_MODEL])
    assert result.exit_code == ExitStatus.BUILD_FAILED == 5
    assert "Traceback" not in result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith("Error: nothing could be indexed"), result.stderr
    assert result.stderr.rstrip("\n").splitlines()[-1] == errors[0]
    assert current_generation(index_dir) is None  # nothing half-written


def test_every_document_broken_keeps_the_previous_index(fake_ws, tiny_corpus):
    gen = current_generation(fake_ws.paths.index)
    for s in tiny_corpus.manifest().sources:
        (tiny_corpus.docs / s.file).write_bytes(b"")
    result = run_cli([*location_args(tiny_corpus, fake_ws.paths.index), "index", "build", "--model", FAKE_MODEL])
    assert result.exit_code == ExitStatus.BUILD_FAILED and "Error: nothing could be indexed" in result.stderr
    assert "the current index is left as it was" in result.stderr
    assert current_generation(fake_ws.paths.index) == gen
    assert Index(fake_ws.paths.index).size == fake_ws.build_report.passages
