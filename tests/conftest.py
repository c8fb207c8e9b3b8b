"""Shared fixtures and checks for the core test suite.

Nothing here changes the environment for every test but one variable: NCMEC_QA_CONFIG names
a config file that does not exist, so a developer's own config file never decides a test's
paths (tests of the config file set their own). Unit tests get a tiny corpus
written into `tmp_path` (documents authored below, never text from the reference
corpus), and integration tests read the checkout's real manifest and the reference
documents from ../shared/corpus.
"""

from __future__ import annotations

import io
import re
import socket
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import pytest
from click.testing import CliRunner, Result

from ncmec_qa.corpus.manifest import Manifest, load_manifest, save_manifest, sha256_file, source_from_dict
from ncmec_qa.index.store import Index
from ncmec_qa.models import Source

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REFERENCE_CORPUS = SHARED / "corpus"
EVAL_QUESTIONS = SHARED / "eval" / "questions.jsonl"
REPO_MANIFEST = REPO / "corpus" / "sources.toml"


def pytest_configure(config) -> None:
    import os
    import tempfile

    os.environ["NCMEC_QA_CONFIG"] = str(Path(tempfile.gettempdir()) / f"ncmec-qa-tests-{os.getpid()}" / "config.toml")


FAKE_MODEL = "fake:64"
ENV_VARS = ("NCMEC_QA_CORPUS", "NCMEC_QA_INDEX", "NCMEC_QA_DOCS", "NCMEC_QA_MODEL", "NCMEC_QA_MODELS", "NCMEC_QA_TRAIN")

# --------------------------------------------------------------------------------------------
# The tiny corpus: small documents written for these tests (a fictional widget registry).
# --------------------------------------------------------------------------------------------

HANDBOOK_MD = """\
# Widget Reporting Handbook

This handbook explains how widget reports travel from operators to the registry.

## Section 7 Duties

Every operator shall file a widget report within 30 days of discovery. A late report is still accepted by the registry.

### (b) Contents

A widget report includes the serial number of the widget. It also names the city where the widget was found.

| Year | Reports filed |
|------|---------------|
| 2021 | 1,204 |
| 2022 | 2,400 |

## Section 8 Penalties

An operator that never files a report pays a fine of up to $5,000 for each widget.
"""

REGISTRY_HTML = """\
<!DOCTYPE html>
<html><head><title>Registry notes</title>
<style>.x { color: red; } /* STYLESECRET */</style>
<script>var leaked = "SCRIPTSECRET";</script></head>
<body>
<nav><a href="/">Home</a> NAVSECRET menu</nav>
<header>HEADERSECRET banner</header>
<main>
<h1>Registry Annual Notes</h1>
<p>The registry received   many widget reports
in the spring of 2023.</p>
<h2>Counts by region</h2>
<p>Northern offices handled most of the reports.</p>
<table>
<tr><th>Region</th><th>Reports</th></tr>
<tr><td>North</td><td>7,310</td></tr>
<tr><td>South</td><td>412</td></tr>
</table>
</main>
<footer>FOOTERSECRET copyright</footer>
<script>document.write("SCRIPTSECRET2")</script>
</body></html>
"""

NOTES_TXT = """\
Field notes from the widget registry.

The registry keeps every report for ninety days. After that the report is archived.

Operators can ask the registry to correct a report at any time.
"""

COUNTS_CSV = """\
year,reports,note
2022,"400,715",first full year
2023,52592,second year
"""

RATES_JSON = """\
{"tables": {
   "rates": {"columns": ["platform", "rate"],
             "rows": [["Alpha", 2.400], ["Beta", 10]]}
 }
}
"""

PDF_PAGES = [
    ["The registry audit found forty missing widget reports.", "Auditors reviewed every office in person."],
    ["Page two explains that audits happen every spring."],
]


def make_pdf(pages: Sequence[Sequence[str]]) -> bytes:
    """A real PDF (Helvetica text, one list of lines per page) written with pypdf."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    w = PdfWriter()
    for lines in pages:
        page = w.add_blank_page(612, 792)
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        ops = ["BT", "/F1 12 Tf", "72 720 Td"]
        for line in lines:
            esc = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({esc}) Tj 0 -14 Td")
        ops.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("latin-1"))
        page.replace_contents(stream)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


# source id -> (relative file, format, title)
TINY_DOCS: dict[str, tuple[str, str, str]] = {
    "tiny-handbook": ("handbook/handbook.md", "markdown", "Widget Reporting Handbook"),
    "tiny-html": ("web/registry.html", "html", "Registry Annual Notes"),
    "tiny-notes": ("notes.txt", "text", "Registry field notes"),
    "tiny-counts": ("data/counts.csv", "csv", "Widget report counts"),
    "tiny-rates": ("data/rates.json", "json", "Widget rates"),
    "tiny-pdf": ("audit.pdf", "pdf", "Registry audit"),
}


def tiny_contents() -> dict[str, bytes]:
    return {
        "tiny-handbook": HANDBOOK_MD.encode(),
        "tiny-html": REGISTRY_HTML.encode(),
        "tiny-notes": NOTES_TXT.encode(),
        "tiny-counts": COUNTS_CSV.encode(),
        "tiny-rates": RATES_JSON.encode(),
        "tiny-pdf": make_pdf(PDF_PAGES),
    }


def make_source(docs: Path, source_id: str, file: str, fmt: str, title: str | None = None, **extra: Any) -> Source:
    """A manifest record for docs/file, with its real sha256 and size."""
    path = docs / file
    d = {
        "id": source_id,
        "file": file,
        "title": title or source_id,
        "publisher": "ncmec-qa test fixtures",
        "date": "2024-01-01",
        "format": fmt,
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
        **extra,
    }
    return source_from_dict(d)


@dataclass
class TinyCorpus:
    root: Path
    docs: Path
    manifest_path: Path

    def manifest(self) -> Manifest:
        return load_manifest(self.manifest_path)

    def path(self, source_id: str) -> Path:
        return self.docs / self.manifest().get(source_id).file

    def add(self, source_id: str, file: str, data: bytes, fmt: str, **extra: Any) -> Source:
        """Write a document and append its record to the manifest."""
        p = self.docs / file
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        src = make_source(self.docs, source_id, file, fmt, **extra)
        m = self.manifest()
        save_manifest(m.with_sources([*m.sources, src]))
        return src

    def rewrite(self, source_id: str, data: bytes) -> Source:
        """Change a document's bytes and record its new sha256 in the manifest."""
        m = self.manifest()
        old = m.get(source_id)
        (self.docs / old.file).write_bytes(data)
        new = replace(old, sha256=sha256_file(self.docs / old.file), bytes=len(data))
        save_manifest(m.with_sources([new if s.id == source_id else s for s in m.sources]))
        return new

    def set_sources(self, sources: Sequence[Source]) -> None:
        save_manifest(self.manifest().with_sources(sources))


def write_tiny_corpus(root: Path, only: Sequence[str] | None = None) -> TinyCorpus:
    docs = root / "docs"
    contents = tiny_contents()
    sources = []
    for sid, (file, fmt, title) in TINY_DOCS.items():
        if only is not None and sid not in only:
            continue
        p = docs / file
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(contents[sid])
        extra = {"url": f"https://example.org/{sid}"} if sid == "tiny-handbook" else {}
        sources.append(make_source(docs, sid, file, fmt, title=title, **extra))
    manifest_path = root / "corpus" / "sources.toml"
    save_manifest(Manifest(path=manifest_path, sources=tuple(sources), documents="../docs"))
    return TinyCorpus(root=root, docs=docs, manifest_path=manifest_path)


@pytest.fixture
def tiny_corpus(tmp_path) -> TinyCorpus:
    """Six small documents (Markdown, HTML, text, CSV, JSON, PDF) and their manifest, in tmp_path."""
    return write_tiny_corpus(tmp_path)


def open_workspace(corpus: TinyCorpus, index_dir: Path, model: str | None = FAKE_MODEL):
    from ncmec_qa.workspace import Workspace

    return Workspace.open(corpus=corpus.manifest_path, index=index_dir, docs=corpus.docs, model=model)


@pytest.fixture
def fake_ws(tiny_corpus, tmp_path):
    """A Workspace over the tiny corpus, built with the fake embedder into tmp_path/index."""
    ws = open_workspace(tiny_corpus, tmp_path / "index")
    report = ws.build()
    assert not report.failures, report.failures
    ws.build_report = report
    yield ws
    if "index" in ws.__dict__:
        ws.index.close()


# --------------------------------------------------------------------------------------------
# The CLI, in-process
# --------------------------------------------------------------------------------------------


def run_cli(args: Sequence[str], input: str | None = None, catch_exceptions: bool = False) -> Result:
    """Invoke `ncmec-qa` in-process with the NCMEC_QA_* variables unset for the call."""
    from ncmec_qa.cli.commands import main

    runner = CliRunner()
    return runner.invoke(
        main, list(args), input=input, env={v: None for v in ENV_VARS}, catch_exceptions=catch_exceptions
    )


def location_args(corpus: TinyCorpus, index_dir: Path) -> list[str]:
    return ["--corpus", str(corpus.manifest_path), "--index", str(index_dir), "--docs", str(corpus.docs)]


# --------------------------------------------------------------------------------------------
# The answer contract (docs/design.md)
# --------------------------------------------------------------------------------------------

_WS = re.compile(r"\s+")


def norm_ws(s: str) -> str:
    return _WS.sub(" ", s).strip()


SOURCE_KEYS = {
    "n",
    "source_id",
    "file",
    "title",
    "publisher",
    "date",
    "url",
    "section",
    "page",
    "passage_id",
    "start",
    "end",
    "quote",
}
PASSAGE_KEYS = {"passage_id", "source_id", "file", "section", "page", "start", "end", "score", "text"}


def _stored_passage(index: Index, passage_id: str):
    rowid = index.rowid_of(passage_id)
    assert rowid is not None, f"cited passage {passage_id} is not in the index"
    return index.passages([rowid])[rowid]


def assert_answer_contract(answer: dict[str, Any], index: Index, manifest: Manifest | None = None) -> None:
    """Check one `ask --json` object against the contract in docs/design.md and the index.

    Every answer text is (whitespace aside) inside the quote of each source it cites;
    every quote is inside its passage's text; `document_text[start:end] == quote`
    exactly, with start/end inside the passage's offsets.
    """
    q = answer.get("question")
    assert isinstance(q, str) and q, "question missing"
    assert isinstance(answer["answered"], bool)
    assert isinstance(answer["answer"], list) and isinstance(answer["sources"], list)
    assert isinstance(answer["passages"], list)
    by_n = {}
    for i, s in enumerate(answer["sources"], start=1):
        missing = SOURCE_KEYS - s.keys()
        assert not missing, f"{q!r}: source {i} lacks {sorted(missing)}"
        assert s["n"] == i, f"{q!r}: sources are not numbered 1..N ({s['n']} at position {i})"
        by_n[s["n"]] = s
    listed = {p["passage_id"]: p for p in answer["passages"]}
    for p in answer["passages"]:
        missing = PASSAGE_KEYS - p.keys()
        assert not missing, f"{q!r}: passage {p.get('passage_id')} lacks {sorted(missing)}"
        doc = index.document_text(p["source_id"])
        assert doc is not None and doc[p["start"] : p["end"]] == p["text"], (
            f"{q!r}: passage {p['passage_id']} text is not document_text[start:end]"
        )
    scores = [p["score"] for p in answer["passages"]]
    assert scores == sorted(scores, reverse=True), f"{q!r}: passages are not ranked by score"

    if not answer["answered"]:
        assert answer["answer"] == [], f"{q!r}: abstained but still gives answer sentences"
        assert answer["passages"], f"{q!r}: abstained without showing the nearest passages"
        return

    assert answer["answer"], f"{q!r}: answered with no sentences"
    for a in answer["answer"]:
        assert a["text"].strip() and a["citations"], f"{q!r}: answer sentence without text or citation: {a}"
        for n in a["citations"]:
            assert n in by_n, f"{q!r}: citation [{n}] has no source entry"
            assert norm_ws(a["text"]) in norm_ws(by_n[n]["quote"]), (
                f"{q!r}: answer text {a['text']!r} is not inside the quote of source [{n}] {by_n[n]['quote']!r}"
            )

    for s in answer["sources"]:
        where = f"{q!r}: source [{s['n']}] {s['passage_id']}"
        stored = _stored_passage(index, s["passage_id"])
        assert stored.source_id == s["source_id"] and stored.file == s["file"], where
        assert stored.section == s["section"] and stored.page == s["page"], where
        assert s["quote"].strip(), f"{where}: empty quote"
        passage_text = listed[s["passage_id"]]["text"] if s["passage_id"] in listed else stored.text
        assert passage_text == stored.text, f"{where}: listed passage text differs from the index"
        assert norm_ws(s["quote"]) in norm_ws(passage_text), f"{where}: quote is not inside its passage"
        doc = index.document_text(s["source_id"])
        assert doc is not None, f"{where}: document text missing from the index"
        assert doc[s["start"] : s["end"]] == s["quote"], (
            f"{where}: document_text[{s['start']}:{s['end']}] = {doc[s['start'] : s['end']]!r} != quote {s['quote']!r}"
        )
        assert stored.start <= s["start"] < s["end"] <= stored.end, (
            f"{where}: quote offsets {s['start']}-{s['end']} lie outside the passage {stored.start}-{stored.end}"
        )
        if manifest is not None:
            src = manifest.get(s["source_id"])
            assert (s["file"], s["title"], s["publisher"], s["date"], s["url"]) == (
                src.file,
                src.title,
                src.publisher,
                src.date,
                src.url,
            ), f"{where}: bibliographic fields differ from the manifest"


# -- the real index of the reference corpus (slow tests share it) ------------------------------------


def open_reference(index_dir):
    # the project's default model (the bundled all-MiniLM-L6-v2), whatever NCMEC_QA_MODEL says
    from ncmec_qa.workspace import Workspace

    return Workspace.open(corpus=REPO_MANIFEST, index=index_dir, docs=REFERENCE_CORPUS, model=None)


def block_network(mp: pytest.MonkeyPatch, attempts: list[str]) -> None:
    def refuse(name):
        def blocked(*args, **kwargs):
            attempts.append(f"{name}{args[1:2]}")
            raise OSError(f"network access attempted in an offline test: {name}")

        return blocked

    mp.setattr(socket.socket, "connect", refuse("socket.connect"))
    mp.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    mp.setattr(socket, "create_connection", refuse("socket.create_connection"))
    mp.setattr(socket, "getaddrinfo", refuse("socket.getaddrinfo"))


@pytest.fixture(scope="session")
def reference_ws(tmp_path_factory):
    """The real index, built once from nothing into a temporary folder, with every socket refused."""
    index_dir = tmp_path_factory.mktemp("reference") / "index"
    attempts: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("NCMEC_QA_MODEL", raising=False)
        block_network(mp, attempts)
        ws = open_reference(index_dir)
        report = ws.build(full=True)
    assert not report.failures, report.failures
    assert report.documents == len(ws.manifest.sources)
    ws.build_report = report
    ws.build_network_attempts = attempts
    return ws
