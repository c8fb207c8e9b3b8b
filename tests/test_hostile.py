"""Hostile and broken inputs (issue 13): every one is generated in tmp_path, built with the fake embedder,
and must be named on stderr with its reason while the good files are indexed and the build exits 4.

Also: confinement (../, absolute, symlink out, `corpus add --file ../x`, `corpus sync`), each ingest
limit on its own, FIFOs and /dev/zero never opened, and a document that became unreadable is said to
be dropped rather than "indexed as found".
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import FAKE_MODEL, REPO, location_args, make_pdf, make_source, run_cli, write_tiny_corpus

from ncmec_qa.corpus.manifest import Manifest, load_manifest, save_manifest, source_from_dict
from ncmec_qa.errors import ExitStatus, LoadError
from ncmec_qa.index.store import Index, current_generation
from ncmec_qa.ingest import load_bytes
from ncmec_qa.ingest.chunking import ChunkConfig, chunk_document, pieces
from ncmec_qa.ingest.guard import Budget, Limits, read_document, time_limit

GOOD_TEXT = b"The registry keeps every widget report for ninety days.\n\nOperators may ask for a correction.\n"
SECRET = "zebra-quartz-secret line that must never be indexed"


def encrypted_pdf(user: str, algorithm: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["An encrypted page about widget audits."]]))))
    w.encrypt(user_password=user, owner_password="owner-secret", algorithm=algorithm)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def _record(sid: str, file: str, fmt: str, sha: str = "0" * 64) -> dict:
    return {
        "id": sid,
        "file": file,
        "title": sid,
        "publisher": "ncmec-qa hostile fixtures",
        "date": "2024-01-01",
        "format": fmt,
        "sha256": sha,
        "rights": "test fixture",
    }


# The limits the hostile build runs with (small, so a file over each is small too).
LIMIT_ARGS = ["--max-file-mb", "1", "--max-pages", "3", "--max-passages", "40", "--max-seconds", "60"]

# id -> (file as the manifest records it, format, what stderr must say about it)
HOSTILE: dict[str, tuple[str, str, str]] = {
    "dotdot": ("../outside/secret.txt", "text", "resolves outside the documents folder"),
    "absolute": ("<abs>", "text", "resolves outside the documents folder"),
    "symlink-out": ("passwd.txt", "text", "resolves outside the documents folder"),
    "fifo": ("pipe.txt", "text", "is a FIFO (named pipe), not a regular file"),
    "dev-zero": ("zero.txt", "text", "resolves outside the documents folder"),
    "directory": ("folder.txt", "text", "is a directory, not a regular file"),
    "empty": ("empty.txt", "text", "empty file"),
    "huge-paragraph": (
        "huge-paragraph.txt",
        "text",
        "more than 40 passages, over the limit of 40 passages (raise it with `ncmec-qa index build --max-passages`)",
    ),
    "too-big": (
        "too-big.txt",
        "text",
        "file is 1.5 MB, over the limit of 1.0 MB (raise it with `ncmec-qa index build --max-file-mb`)",
    ),
    "latin1": ("latin1.txt", "text", "not UTF-8 text (byte 0xe9 at offset 3)"),
    "utf16": ("utf16.txt", "text", "UTF-16 text (byte order mark fffe); convert it to UTF-8"),
    "garbage-pdf": ("garbage.pdf", "pdf", "not a PDF (no %PDF header)"),
    "truncated-pdf": ("truncated.pdf", "pdf", "damaged PDF"),
    "aes-password": ("aes-password.pdf", "pdf", "password-protected PDF (AES-256); decrypt it first"),
    "rc4-password": ("rc4-password.pdf", "pdf", "password-protected PDF (RC4); decrypt it first"),
    "bad-csv": ("bad.csv", "csv", "line 3 has 2 fields, the header has 3"),
    "bare-json": ("bare.json", "json", "the JSON is a bare value (a number), not an object or array of records"),
    "invalid-json": ("invalid.json", "json", "invalid JSON at line 1, column 9: Expecting ',' delimiter"),
    "nul-markdown": ("nul.md", "markdown", "contains NUL bytes"),
    "many-pages": (
        "many-pages.pdf",
        "pdf",
        "PDF has 5 pages, over the limit of 3 pages (raise it with `ncmec-qa index build --max-pages`)",
    ),
    "missing": ("gone.txt", "text", "file not found at"),
    "link-loop": ("loop.txt", "text", "cannot resolve the path"),
    "script-only-html": ("script.html", "html", "no text could be extracted"),
    "unsupported": ("slides.pptx", "pptx", "unsupported format 'pptx'"),
}

# Good files among them: each must be indexed (the AES PDF opens without a password; the deep HTML is valid).
GOOD: dict[str, tuple[str, str]] = {
    "good-notes": ("notes.txt", "text"),
    "aes-open": ("aes-open.pdf", "pdf"),
    "deep-html": ("deep.html", "html"),
    "inside-link": ("inside-link.txt", "text"),
}


def write_hostile_corpus(root: Path) -> tuple[Path, Path]:
    """The hostile folder: docs/ with every file above, a secret outside it, and the manifest."""
    docs, outside = root / "docs", root / "outside"
    docs.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET}.\n")
    absolute = outside / "absolute.txt"
    absolute.write_text(f"Absolute {SECRET}.\n")
    w = lambda name, data: (docs / name).write_bytes(data)  # noqa: E731
    w("notes.txt", GOOD_TEXT)
    w("aes-open.pdf", encrypted_pdf("", "AES-256"))
    w(
        "deep.html",
        (
            "<html><body>"
            + "<div>" * 3000
            + "<p>Deeply nested widget notes are still read.</p>"
            + "</div>" * 3000
            + "</body></html>"
        ).encode(),
    )
    w("real.txt", b"A file reached through a link that stays inside the folder.\n")
    (docs / "inside-link.txt").symlink_to("real.txt")
    (docs / "passwd.txt").symlink_to(outside / "secret.txt")
    os.mkfifo(docs / "pipe.txt")
    (docs / "zero.txt").symlink_to("/dev/zero")
    (docs / "folder.txt").mkdir()
    w("empty.txt", b"")
    w("huge-paragraph.txt", " ".join(["A widget report names the city where the widget was found."] * 2000).encode())
    w("too-big.txt", (b"Large file line about widgets.\n" * 50_000)[: int(1.5 * 1024 * 1024)])
    w("latin1.txt", "Caf\u00e9 notes about widgets.\n".encode("latin-1"))
    w("utf16.txt", "Widget notes in UTF-16.\n".encode("utf-16"))
    w("garbage.pdf", os.urandom(4096).replace(b"%PDF", b"xxxx"))
    pdf = make_pdf([["A page that will be cut short."]] * 3)
    w("truncated.pdf", pdf[: len(pdf) // 2])
    w("aes-password.pdf", encrypted_pdf("user-secret", "AES-256"))
    w("rc4-password.pdf", encrypted_pdf("user-secret", "RC4-128"))
    w("bad.csv", b"year,reports,note\n2022,400,fine\n2023,77\n")
    w("bare.json", b"42\n")
    w("invalid.json", b'{"a": 1 "b": 2}\n')
    w("nul.md", b"# Title\n\nText with a \x00 NUL byte.\n")
    w("many-pages.pdf", make_pdf([[f"Page {i} of a long report."] for i in range(1, 6)]))
    (docs / "loop.txt").symlink_to("loop.txt")
    w("script.html", b"<html><body><script>var x = 1;</script></body></html>")
    w("slides.pptx", b"PK\x03\x04 not really slides")
    records = []
    for sid, (file, fmt, _) in HOSTILE.items():
        records.append(_record(sid, str(absolute) if file == "<abs>" else file, fmt))
    for sid, (file, fmt) in GOOD.items():
        records.append(make_source(docs, sid, file, fmt).to_dict() | {"rights": "test fixture"})
    manifest = root / "corpus" / "sources.toml"
    save_manifest(Manifest(path=manifest, sources=tuple(source_from_dict(r) for r in records), documents="../docs"))
    return manifest, docs


def _build(manifest: Path, docs: Path, index: Path, *extra: str):
    return run_cli(
        [
            "--corpus",
            str(manifest),
            "--docs",
            str(docs),
            "--index",
            str(index),
            "index",
            "build",
            "--model",
            FAKE_MODEL,
            *extra,
        ]
    )


def test_every_hostile_input_is_named_with_its_reason_and_the_good_files_are_indexed(tmp_path):
    assert len(HOSTILE) >= 20
    manifest, docs = write_hostile_corpus(tmp_path)
    index = tmp_path / "index"
    r = _build(manifest, docs, index, *LIMIT_ARGS)
    assert r.exit_code == ExitStatus.PARTIAL == 4, r.output
    assert "Traceback" not in r.output and "Error:" not in r.stderr
    skipped = [ln for ln in r.stderr.splitlines() if ln.startswith("skipped ")]
    assert len(skipped) == len(HOSTILE), r.stderr
    m = load_manifest(manifest).by_id()
    for sid, (_, _, reason) in HOSTILE.items():
        file = m[sid].file
        line = next((ln for ln in skipped if ln.startswith(f"skipped {file}: ")), None)
        assert line is not None, f"{sid} ({file}) is not named on stderr:\n{r.stderr}"
        assert reason in line, line
    assert f"{len(HOSTILE)} failed" in r.stdout and "indexed 4 documents" in r.stdout
    idx = Index(index)
    try:
        assert sorted(d.source_id for d in idx.documents()) == sorted(GOOD)
        assert "Deeply nested widget notes are still read." in idx.document_text("deep-html")
        assert "encrypted page about widget audits" in idx.document_text("aes-open")
        assert {f["source_id"]: f["kind"] for f in idx.meta["failures"]}["fifo"] == "not_regular"
        assert not any(SECRET in (idx.document_text(d.source_id) or "") for d in idx.documents())
    finally:
        idx.close()


def test_hostile_build_lists_the_skipped_documents_in_json(tmp_path):
    manifest, docs = write_hostile_corpus(tmp_path)
    r = _build(manifest, docs, tmp_path / "index", *LIMIT_ARGS, "--json")
    assert r.exit_code == 4, r.output
    out = json.loads(r.stdout)
    assert sorted(out["skipped"]) == sorted(HOSTILE) and out["exit_status"] == 4 and out["documents"] == len(GOOD)
    kinds = {f["source_id"]: f["kind"] for f in out["failures"]}
    assert kinds["dotdot"] == kinds["absolute"] == kinds["symlink-out"] == kinds["dev-zero"] == "outside"
    assert kinds["too-big"] == kinds["many-pages"] == kinds["huge-paragraph"] == "limit"
    assert kinds["directory"] == kinds["fifo"] == "not_regular" and kinds["missing"] == "missing"
    assert out["limits"] == {
        "max_file_bytes": 1024 * 1024,
        "max_pages": 3,
        "max_passages": 40,
        "max_seconds": 60.0,
        "max_paragraph_chars": 5000,
    }


def test_corpus_check_names_every_hostile_input(tmp_path):
    manifest, docs = write_hostile_corpus(tmp_path)
    r = run_cli(["--corpus", str(manifest), "--docs", str(docs), "corpus", "check", "--json"])
    assert r.exit_code == ExitStatus.FAILURE, r.output
    by_id: dict[str, set[str]] = {}
    for p in json.loads(r.stdout)["problems"]:
        by_id.setdefault(p["source_id"], set()).add(p["kind"])
    expect = {
        "dotdot": "outside_folder",
        "absolute": "outside_folder",
        "symlink-out": "outside_folder",
        "dev-zero": "outside_folder",
        "fifo": "not_a_file",
        "directory": "not_a_file",
        "missing": "missing_file",
        "latin1": "unreadable",
        "utf16": "unreadable",
        "garbage-pdf": "unreadable",
        "truncated-pdf": "unreadable",
        "aes-password": "unreadable",
        "rc4-password": "unreadable",
        "bad-csv": "unreadable",
        "bare-json": "unreadable",
        "invalid-json": "unreadable",
        "nul-markdown": "unreadable",
        "empty": "unreadable",
        "script-only-html": "unreadable",
        "link-loop": "unreadable",
    }
    for sid, kind in expect.items():
        assert kind in by_id.get(sid, set()), (sid, by_id.get(sid))
    for sid in GOOD:
        assert not by_id.get(sid, set()) - {"drift"}, (sid, by_id[sid])
    text = run_cli(["--corpus", str(manifest), "--docs", str(docs), "corpus", "check"]).stdout
    assert (
        f"outside_folder     dotdot: file ../outside/secret.txt resolves outside the documents folder {docs.resolve()}"
    ) in text


# -- confinement, one case at a time ---------------------------------------------------------------


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_a_document_outside_the_folder_is_refused_by_name_and_never_indexed(tmp_path, how):
    corpus = write_tiny_corpus(tmp_path, only=["tiny-notes"])
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(f"{SECRET}.\n")
    file = {"dotdot": "../outside/secret.txt", "absolute": str(secret), "symlink": "secret-link.txt"}[how]
    if how == "symlink":
        (corpus.docs / "secret-link.txt").symlink_to(secret)
    corpus.set_sources([*corpus.manifest().sources, source_from_dict(_record("secret", file, "text"))])
    index = tmp_path / "index"
    r = run_cli([*location_args(corpus, index), "index", "build", "--model", FAKE_MODEL])
    assert r.exit_code == 4, r.output
    assert (
        f"skipped {file}: resolves outside the documents folder {corpus.docs.resolve()} "
        "(keep documents inside it; `file` is a path relative to it)"
    ) in r.stderr.splitlines()
    s = run_cli([*location_args(corpus, index), "search", "--json", "zebra quartz secret"])
    assert SECRET not in s.stdout
    c = run_cli([*location_args(corpus, index), "corpus", "check"])
    assert c.exit_code == 1 and f"secret: file {file} resolves outside the documents folder" in c.stdout


def test_corpus_add_refuses_a_copy_named_outside_the_folder(tiny_corpus, tmp_path):
    new = tmp_path / "new.txt"
    new.write_bytes(b"A new note about gizmo audits in the autumn.\n")
    before = tiny_corpus.manifest_path.read_text()
    r = run_cli(
        [
            "--corpus",
            str(tiny_corpus.manifest_path),
            "--docs",
            str(tiny_corpus.docs),
            "corpus",
            "add",
            str(new),
            "--title",
            "T",
            "--publisher",
            "P",
            "--date",
            "2024",
            "--rights",
            "CC0",
            "--file",
            "../../x.txt",
        ]
    )
    assert r.exit_code == ExitStatus.ERROR
    assert r.stderr.strip().splitlines() == [
        f"Error: ../../x.txt: resolves outside the documents folder {tiny_corpus.docs.resolve()}; "
        "name the copy with a --file path inside it"
    ]
    assert not (tiny_corpus.docs / "../../x.txt").resolve().exists()
    assert tiny_corpus.manifest_path.read_text() == before


def test_corpus_add_refuses_a_fifo(tiny_corpus, tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    r = run_cli(
        [
            "--corpus",
            str(tiny_corpus.manifest_path),
            "--docs",
            str(tiny_corpus.docs),
            "corpus",
            "add",
            str(tmp_path / "pipe.txt"),
            "--title",
            "T",
            "--publisher",
            "P",
            "--date",
            "2024",
            "--rights",
            "CC0",
        ]
    )
    assert r.exit_code == 2 and "is a FIFO (named pipe), not a regular file" in r.stderr


def test_corpus_sync_refuses_a_symlink_out(tmp_path):
    corpus = write_tiny_corpus(tmp_path, only=["tiny-notes"])
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (corpus.docs / "notes.txt").unlink()
    (corpus.docs / "notes.txt").symlink_to("/etc/hostname")
    r = run_cli([*location_args(corpus, tmp_path / "index"), "corpus", "sync", "--from", str(mirror)])
    assert r.exit_code == 1
    assert f"notes.txt: resolves outside the documents folder {corpus.docs.resolve()}" in r.stdout


def test_fifo_and_dev_zero_never_hang_a_build(tmp_path):
    """Run as a separate process with a timeout: an open() of the FIFO or a read of /dev/zero would hang it."""
    corpus = write_tiny_corpus(tmp_path, only=["tiny-notes"])
    os.mkfifo(corpus.docs / "pipe.txt")
    (corpus.docs / "zero.txt").symlink_to("/dev/zero")
    (corpus.docs / "inner").mkdir()
    (corpus.docs / "inner" / "zero-inside.txt").symlink_to(corpus.docs / "pipe.txt")
    extra = [
        _record("pipe", "pipe.txt", "text"),
        _record("zero", "zero.txt", "text"),
        _record("pipe2", "inner/zero-inside.txt", "text"),
    ]
    corpus.set_sources([*corpus.manifest().sources, *map(source_from_dict, extra)])
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCMEC_QA_")}
    env["PYTHONPATH"] = str(REPO / "src")
    t0 = time.monotonic()
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "ncmec_qa",
            *location_args(corpus, tmp_path / "index"),
            "index",
            "build",
            "--model",
            FAKE_MODEL,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert p.returncode == 4, p.stderr
    assert time.monotonic() - t0 < 120
    assert "skipped pipe.txt: is a FIFO (named pipe), not a regular file; only regular files are read" in p.stderr
    assert "skipped zero.txt: resolves outside the documents folder" in p.stderr
    assert "skipped inner/zero-inside.txt: is a FIFO (named pipe)" in p.stderr


# -- each limit on its own -------------------------------------------------------------------------


def test_file_size_limit_is_checked_before_reading(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"x" * 2048)
    with pytest.raises(
        LoadError,
        match=r"^big.txt: file is 2048 bytes, over the limit of 1024 bytes \(raise it "
        r"with `ncmec-qa index build --max-file-mb`\)$",
    ) as e:
        read_document(tmp_path, "big.txt", max_bytes=1024)
    assert e.value.kind == "limit"
    assert read_document(tmp_path, "big.txt", max_bytes=2048)[1] == b"x" * 2048


def test_page_limit(tmp_path):
    pdf = make_pdf([[f"Page {i} text."] for i in range(4)])
    assert len(load_bytes(pdf, "p", "p.pdf", "pdf", Limits(max_pages=4)).text) > 0
    with pytest.raises(LoadError, match=r"p.pdf: PDF has 4 pages, over the limit of 3 pages .*--max-pages"):
        load_bytes(pdf, "p", "p.pdf", "pdf", Limits(max_pages=3))


def test_passage_limit_stops_chunking_early():
    doc = load_bytes(("A sentence about widgets and their many reports. " * 20_000).encode(), "h", "h.txt", "text")
    t0 = time.perf_counter()
    with pytest.raises(
        LoadError, match=r"h.txt: more than 30 passages, over the limit of 30 passages .*--max-passages"
    ):
        chunk_document(doc, ChunkConfig(), Budget("h.txt", max_passages=30))
    assert time.perf_counter() - t0 < 5  # it stopped near passage 31, not after the whole megabyte
    assert len(chunk_document(doc, ChunkConfig(), Budget("h.txt", max_passages=10**6))) > 30


def test_time_limit_stops_a_slow_loader(tmp_path, monkeypatch):
    from ncmec_qa import ingest

    def slow(data, source_id, file):
        while True:  # a parser stuck on hostile input
            sum(range(1000))

    monkeypatch.setitem(ingest.LOADERS, "text", slow)
    t0 = time.monotonic()
    with pytest.raises(
        LoadError,
        match=r"slow.txt: reading and chunking took too long, over the limit of 0.3 s "
        r"\(raise it with `ncmec-qa index build --max-seconds`\)",
    ) as e:
        with time_limit(0.3, "slow.txt"):
            load_bytes(b"anything", "s", "slow.txt", "text")
    assert e.value.kind == "limit" and time.monotonic() - t0 < 3


def test_time_limit_off_the_main_thread_is_checked_while_chunking():
    doc = load_bytes(("Widgets are counted every spring by the registry. " * 40_000).encode(), "t", "t.txt", "text")
    out: list[BaseException] = []

    def run():
        try:
            with time_limit(0.2, "t.txt") as deadline:
                chunk_document(doc, ChunkConfig(), Budget("t.txt", deadline=deadline, seconds=0.2))
        except LoadError as e:
            out.append(e)

    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(30)
    assert not th.is_alive() and out and "took too long, over the limit of 0.2 s" in str(out[0])


def test_build_time_limit_is_reported_by_name(tmp_path, monkeypatch):
    from ncmec_qa import ingest

    corpus = write_tiny_corpus(tmp_path, only=["tiny-notes", "tiny-handbook"])

    def slow(data, source_id, file):
        while True:
            sum(range(1000))

    monkeypatch.setitem(ingest.LOADERS, "text", slow)
    r = run_cli(
        [*location_args(corpus, tmp_path / "index"), "index", "build", "--model", FAKE_MODEL, "--max-seconds", "0.5"]
    )
    assert r.exit_code == 4, r.output
    assert (
        "skipped notes.txt: reading and chunking took too long, over the limit of 0.5 s "
        "(raise it with `ncmec-qa index build --max-seconds`)"
    ) in r.stderr.splitlines()


def test_long_paragraphs_are_cut_before_sentence_splitting(monkeypatch):
    import ncmec_qa.ingest.chunking as chunking

    seen: list[int] = []
    real = chunking._segmenter()

    class Spy:
        def segment(self, text):
            seen.append(len(text))
            return real.segment(text)

    monkeypatch.setattr(chunking, "_segmenter", lambda: Spy())
    text = " ".join(f"Sentence {i} says the widget registry counted {i} reports." for i in range(3000))
    doc = load_bytes(text.encode(), "p", "p.txt", "text")
    cfg = ChunkConfig(max_paragraph_chars=2000)
    passages = chunk_document(doc, cfg)
    assert len(text) > 100_000 and max(seen) <= 2000 and len(seen) > 50
    for p in passages:  # offsets slice the text exactly, sentences too
        assert doc.text[p.start : p.end] == p.text
        assert all(doc.text[s.start : s.end] == s.text for s in p.sentences)
    covered = "".join(s.text for p in passages for s in p.sentences)
    assert "Sentence 2999 says" in covered and "Sentence 0 says" in covered


@pytest.mark.parametrize("text", ["a" * 12_345, "word " * 3000, ("One. Two three. " * 900).strip(), "x\n" * 4000])
def test_pieces_cover_the_run_within_the_limit(text):
    spans = pieces(text, 0, len(text), 1000)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a < b and b - a <= 1000 for a, b in spans)
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))
    if "One." in text:
        assert all(text[a:b].rstrip().endswith(".") for a, b in spans[:-1])


def test_a_table_line_far_longer_than_a_row_is_prose():
    line = " ".join(str(i) for i in range(2000))
    doc = load_bytes("\n".join([line] * 3).encode(), "t", "t.txt", "text")
    ps = chunk_document(doc, ChunkConfig())
    assert max(len(p.text) for p in ps) <= ChunkConfig().max_chars + ChunkConfig().max_sentence_chars
    assert all(s.kind != "line" for p in ps for s in p.sentences)


@pytest.mark.slow
def test_the_paragraph_limit_leaves_the_reference_corpus_unchanged():
    from conftest import REFERENCE_CORPUS, REPO_MANIFEST

    from ncmec_qa.corpus.manifest import load_manifest

    m = load_manifest(REPO_MANIFEST)
    for s in m.sources:
        _, data = read_document(REFERENCE_CORPUS, s.file)
        doc = load_bytes(data, s.id, s.file, s.format)
        cut = chunk_document(doc, ChunkConfig())
        uncut = chunk_document(doc, ChunkConfig(max_paragraph_chars=10**9))
        assert [(p.passage_id, p.section, [(x.start, x.end) for x in p.sentences]) for p in cut] == [
            (p.passage_id, p.section, [(x.start, x.end) for x in p.sentences]) for p in uncut
        ], s.id


# -- loaders on hostile input ------------------------------------------------------------------------


def test_deeply_nested_html_is_read():
    html = "<html><body>" + "<div><span>" * 5000 + "Deep words." + "</span></div>" * 5000 + "</body></html>"
    doc = load_bytes(html.encode(), "d", "d.html", "html")
    assert doc.text == "Deep words."


def test_aes_pdf_that_opens_without_a_password_is_read_and_one_with_a_password_is_refused():
    assert "encrypted page" in load_bytes(encrypted_pdf("", "AES-128"), "a", "a.pdf", "pdf").text
    with pytest.raises(LoadError, match=r"^a.pdf: password-protected PDF \(AES-128\); decrypt it first"):
        load_bytes(encrypted_pdf("pw", "AES-128"), "a", "a.pdf", "pdf")


# -- a document that became unreadable ---------------------------------------------------------------


def test_a_document_that_became_unreadable_is_reported_as_dropped(fake_ws, tiny_corpus):
    before = sum(1 for _ in fake_ws.index.passages(range(1, fake_ws.index.size + 1)).values())
    notes = [
        p for p in fake_ws.index.passages(range(1, fake_ws.index.size + 1)).values() if p.source_id == "tiny-notes"
    ]
    fake_ws.index.close()
    fake_ws.__dict__.pop("index", None)
    tiny_corpus.path("tiny-notes").write_bytes("Caf\u00e9 notes\n".encode("latin-1"))  # drifted and unreadable
    r = run_cli([*location_args(tiny_corpus, fake_ws.paths.index), "index", "build", "--model", FAKE_MODEL, "--json"])
    assert r.exit_code == 4, r.output
    out = json.loads(r.stdout)
    assert out["skipped"] == ["tiny-notes"] and out["failures"][0]["dropped_passages"] == len(notes) > 0
    assert out["failures"][0]["reason"].endswith(
        f"; dropped from the index ({len(notes)} passages of the previous build are gone)"
    )
    assert not any("notes.txt" in w and "indexed as found" in w for w in out["warnings"])
    assert out["passages"] == before - len(notes)
    assert current_generation(fake_ws.paths.index) is not None


def test_limits_can_be_set_from_the_environment(tmp_path):
    from click.testing import CliRunner
    from conftest import ENV_VARS

    from ncmec_qa.cli.commands import main

    corpus = write_tiny_corpus(tmp_path, only=["tiny-notes", "tiny-pdf"])
    env = {**{v: None for v in ENV_VARS}, "NCMEC_QA_MAX_PAGES": "1"}
    r = CliRunner().invoke(
        main, [*location_args(corpus, tmp_path / "index"), "index", "build", "--model", FAKE_MODEL], env=env
    )
    assert r.exit_code == 4, r.output
    assert (
        "skipped audit.pdf: PDF has 2 pages, over the limit of 1 pages "
        "(raise it with `ncmec-qa index build --max-pages`)"
    ) in r.stderr.splitlines()


def test_corpus_check_quick_skips_loading_but_not_confinement(tmp_path):
    manifest, docs = write_hostile_corpus(tmp_path)
    r = run_cli(["--corpus", str(manifest), "--docs", str(docs), "corpus", "check", "--quick", "--json"])
    kinds = {(p["source_id"], p["kind"]) for p in json.loads(r.stdout)["problems"]}
    assert ("dotdot", "outside_folder") in kinds and ("fifo", "not_a_file") in kinds
    assert ("latin1", "unreadable") not in kinds and r.exit_code == 1
