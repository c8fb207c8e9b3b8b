"""`ncmec-qa corpus …` for librarians, through the CLI in-process (click's CliRunner):
add → build → ask → remove → build round trips, duplicate refusal, `corpus check` on a
deliberately broken manifest, `corpus sync` from a mirror and over HTTP, stale-index
warnings, and how editions and secondary sources show in answers. Fake embedder throughout;
every document here is written by the test (none is text from the reference corpus).
"""

from __future__ import annotations

import difflib
import hashlib
import http.server
import json
import re
import threading
import tomllib
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import (
    ENV_VARS,
    FAKE_MODEL,
    NOTES_TXT,
    REFERENCE_CORPUS,
    REPO_MANIFEST,
    assert_answer_contract,
    location_args,
    make_source,
)

from ncmec_qa.cli.commands import main
from ncmec_qa.corpus.manifest import Manifest, load_manifest, save_manifest
from ncmec_qa.index.store import Index
from ncmec_qa.ingest import load_document
from ncmec_qa.ingest.chunking import chunk_document

# -- helpers --------------------------------------------------------------------------------------


def cli(args, env: dict[str, str] | None = None, input: str | None = None):
    """`ncmec-qa ARGS` in-process; NCMEC_QA_* unset except what `env` sets."""
    return CliRunner().invoke(
        main,
        [str(a) for a in args],
        input=input,
        env={**{v: None for v in ENV_VARS}, **(env or {})},
        catch_exceptions=False,
    )


def one_error_line(result, exit_code: int = 2) -> str:
    assert result.exit_code == exit_code, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


_COUNTS = re.compile(r"indexed (\d+) documents, (\d+) passages \((\d+) embedded, (\d+) reused, (\d+) dropped\)")


def build(args) -> dict[str, int]:
    """`index build --model fake:64`; the counts it prints on stdout."""
    r = cli([*args, "index", "build", "--model", FAKE_MODEL])
    assert r.exit_code == 0, r.output
    m = _COUNTS.search(r.stdout)
    assert m, r.stdout
    return dict(zip(("documents", "passages", "embedded", "reused", "dropped"), map(int, m.groups())))


def check_problems(args) -> list[tuple[str, str]]:
    """(kind, file) of each `corpus check` problem, less the tiny corpus's records having no `rights`."""
    r = cli([*args, "corpus", "check", "--json"])
    assert r.exit_code in (0, 1), r.output
    return [
        (p["kind"], p["file"])
        for p in json.loads(r.stdout)["problems"]
        if not (p["source_id"] or "").startswith("tiny-") or not p["message"].endswith("no rights recorded")
    ]


def n_passages(path: Path, fmt: str) -> int:
    return len(chunk_document(load_document(path, "x", path.name, fmt)))


def toml_sources(path: Path) -> list[dict]:
    return tomllib.loads(path.read_text(encoding="utf-8"))["source"]


def only_appended(before: str, after: str) -> str:
    """The text `after` adds to `before`, failing if any line of `before` was changed or removed."""
    changed = [d for d in difflib.ndiff(before.splitlines(), after.splitlines()) if d[:1] in "-?"]
    assert not changed, "existing manifest lines were rewritten:\n" + "\n".join(changed)
    assert after.startswith(before), "the new record was not appended at the end"
    return after[len(before) :]


GIZMO_MD = """\
# Gizmo Depot Rules

The gizmo depot lends gizmos to registered borrowers from three counties.

## Opening hours

The gizmo depot opens at seven every morning for registered borrowers. It closes at noon on festival days.

## Returns

A borrowed gizmo goes back to the depot within eleven days, cleaned and oiled.
"""
GIZMO_Q = "When does the gizmo depot open every morning for registered borrowers?"


def add_args(path, title="Gizmo Depot Rules", publisher="Depot Board", date="2024-03-01", *extra, rights="CC0"):
    out = ["corpus", "add", str(path)]
    for opt, v in (("--title", title), ("--publisher", publisher), ("--date", date), ("--rights", rights)):
        if v is not None:
            out += [opt, v]
    return [*out, *extra]


@pytest.fixture
def gizmo(tmp_path) -> Path:
    p = tmp_path / "incoming" / "gizmo-depot.md"
    p.parent.mkdir()
    p.write_text(GIZMO_MD, encoding="utf-8")
    return p


# -- (1) add → build → ask → remove → build ---------------------------------------------------------


def test_add_build_ask_remove_round_trip(tiny_corpus, tmp_path, gizmo):
    index_dir = tmp_path / "index"
    args = location_args(tiny_corpus, index_dir)
    first = build(args)
    old = first["passages"]
    assert first["embedded"] == old and first["reused"] == 0
    before = tiny_corpus.manifest_path.read_text(encoding="utf-8")

    r = cli(
        [
            *args,
            *add_args(
                gizmo,
                "Gizmo Depot Rules",
                "Depot Board",
                "2024-03-01",
                "--url",
                "https://example.org/gizmo-depot",
                "--rights",
                "CC BY 4.0",
                "--edition",
                "first edition",
            ),
        ]
    )
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == ("added gizmo-depot (gizmo-depot.md, markdown); run `ncmec-qa index build` to index it")
    assert r.stderr == ""  # url given, nothing near-duplicate: no warnings
    copied = tiny_corpus.docs / "gizmo-depot.md"
    assert copied.read_bytes() == gizmo.read_bytes()

    # The manifest: still readable TOML, the new record appended as one [[source]] table.
    after = tiny_corpus.manifest_path.read_text(encoding="utf-8")
    added = only_appended(before, after)
    assert added.count("[[source]]") == 1 and added.lstrip("\n").startswith("[[source]]\n")
    records = toml_sources(tiny_corpus.manifest_path)
    assert [d["id"] for d in records[:-1]] == [d["id"] for d in tomllib.loads(before)["source"]]
    data = GIZMO_MD.encode()
    assert records[-1] == {
        "id": "gizmo-depot",
        "file": "gizmo-depot.md",
        "title": "Gizmo Depot Rules",
        "publisher": "Depot Board",
        "date": "2024-03-01",
        "url": "https://example.org/gizmo-depot",
        "format": "markdown",
        "edition": "first edition",
        "rights": "CC BY 4.0",
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    shown = json.loads(cli([*args, "corpus", "show", "gizmo-depot", "--json"]).stdout)["source"]
    assert (
        shown["source_id"] == "gizmo-depot" and shown["kind"] == "primary" and shown["sha256"] == records[-1]["sha256"]
    )
    assert check_problems(args) == []

    # The build embeds only the new document's passages.
    new = n_passages(copied, "markdown")
    assert new >= 2
    counts = build(args)
    assert (counts["embedded"], counts["reused"], counts["dropped"]) == (new, old, 0)
    assert counts["passages"] == old + new and counts["documents"] == first["documents"] + 1

    r = cli([*args, "ask", GIZMO_Q, "--json"])
    assert r.exit_code == 0 and r.stderr == "", r.output
    answer = json.loads(r.stdout)
    assert answer["answered"], answer["reason"]
    assert answer["sources"][0]["source_id"] == "gizmo-depot"
    assert answer["sources"][0]["quote"].startswith("The gizmo depot opens at seven every morning")
    assert answer["sources"][0]["url"] == "https://example.org/gizmo-depot"
    assert answer["passages"][0]["source_id"] == "gizmo-depot"
    idx = Index(index_dir)
    try:
        assert_answer_contract(answer, idx, load_manifest(tiny_corpus.manifest_path))
    finally:
        idx.close()

    # Remove it: the manifest is back to what it was, byte for byte; the file stays.
    r = cli([*args, "corpus", "remove", "gizmo-depot"])
    assert r.exit_code == 0, r.output
    assert "removed gizmo-depot" in r.stdout and "ncmec-qa index build" in r.stdout
    assert tiny_corpus.manifest_path.read_text(encoding="utf-8") == before
    assert copied.exists()
    assert check_problems(args) == [("unlisted_file", "gizmo-depot.md")]

    counts = build(args)
    assert (counts["embedded"], counts["reused"], counts["dropped"]) == (0, old, new)
    r = cli([*args, "search", GIZMO_Q, "--json", "-k", "50"])
    assert r.exit_code == 0 and r.stderr == ""
    found = json.loads(r.stdout)["passages"]
    assert found and "gizmo-depot" not in {p["source_id"] for p in found}
    answer = json.loads(cli([*args, "ask", GIZMO_Q, "--json"]).stdout)
    assert "gizmo-depot" not in {s["source_id"] for s in answer["sources"]}
    assert "gizmo-depot" not in {p["source_id"] for p in answer["passages"]}
    idx = Index(index_dir)
    try:
        assert idx.document_text("gizmo-depot") is None and idx.size == old
    finally:
        idx.close()


def test_add_records_kind_edition_and_supersedes(tiny_corpus, tmp_path, gizmo):
    args = location_args(tiny_corpus, tmp_path / "index")
    r = cli(
        [
            *args,
            *add_args(
                gizmo,
                "Gizmo Depot Rules, 2025",
                "Depot Board",
                "2025",
                "--kind",
                "secondary",
                "--supersedes",
                "tiny-notes",
                "--id",
                "gizmo-2025",
                "--url",
                "https://example.org/g",
            ),
        ]
    )
    assert r.exit_code == 0, r.output
    rec = toml_sources(tiny_corpus.manifest_path)[-1]
    assert rec["id"] == "gizmo-2025" and rec["kind"] == "secondary" and rec["supersedes"] == ["tiny-notes"]
    assert rec["date"] == "2025"
    listing = cli([*args, "corpus", "list"]).stdout.splitlines()
    assert [ln for ln in listing if ln.startswith("gizmo-2025")][0].endswith("(secondary)")
    assert len(listing) == len(tiny_corpus.manifest().sources)


def test_add_without_url_warns_that_sync_cannot_fetch_it(tiny_corpus, tmp_path, gizmo):
    r = cli([*location_args(tiny_corpus, tmp_path / "index"), *add_args(gizmo), "--json"])
    assert r.exit_code == 0, r.output
    assert r.stderr.strip().splitlines() == [
        "warning: no --url recorded: `corpus sync` will only be able to copy it from a mirror"
    ]
    out = json.loads(r.stdout)
    assert out["added"]["source_id"] == "gizmo-depot" and len(out["warnings"]) == 1


def test_add_appends_to_a_hand_written_manifest_without_touching_its_lines(tiny_corpus, tmp_path, gizmo):
    """Librarians edit the manifest by hand too: comments, key order and quoting must survive `add`."""
    notes = tiny_corpus.manifest().get("tiny-notes")
    hand = f"""\
# Widget library: records kept by hand. Ask Dana before removing any.
format_version = 1
documents = "../docs"

[[source]]  # the registry's own field notes
id = 'tiny-notes'
title = "Registry field notes"
file = "{notes.file}"
format = "text"
date = "2024-01-01"
publisher = "ncmec-qa test fixtures"
sha256 = "{notes.sha256}"
rights = "Written for the tests" # checked 2024-05
"""
    tiny_corpus.manifest_path.write_text(hand, encoding="utf-8")
    args = location_args(tiny_corpus, tmp_path / "index")
    r = cli([*args, *add_args(gizmo), "--url", "https://example.org/g"])
    assert r.exit_code == 0, r.output
    after = tiny_corpus.manifest_path.read_text(encoding="utf-8")
    added = only_appended(hand, after)
    assert added.count("[[source]]") == 1
    assert [s.id for s in load_manifest(tiny_corpus.manifest_path).sources] == ["tiny-notes", "gizmo-depot"]
    assert load_manifest(tiny_corpus.manifest_path).get("gizmo-depot").title == "Gizmo Depot Rules"


def test_add_to_the_checkout_manifest_only_appends(tmp_path, gizmo):
    """The real manifest (inline tables, long strings): `add` leaves its 26 records' lines alone."""
    manifest = tmp_path / "corpus" / "sources.toml"
    manifest.parent.mkdir()
    before = REPO_MANIFEST.read_text(encoding="utf-8")
    manifest.write_text(before, encoding="utf-8")
    docs = tmp_path / "docs"  # an empty documents folder: nothing of the reference corpus is copied
    r = cli(["--corpus", manifest, "--docs", docs, *add_args(gizmo), "--url", "https://example.org/g"])
    assert r.exit_code == 0, r.output
    added = only_appended(before, manifest.read_text(encoding="utf-8"))
    assert added.count("[[source]]") == 1
    records = toml_sources(manifest)
    assert len(records) == 27 and records[-1]["id"] == "gizmo-depot"
    assert records[:-1] == tomllib.loads(before)["source"]
    assert sorted(p.name for p in docs.iterdir()) == ["gizmo-depot.md"]


def test_add_to_an_empty_manifest(tmp_path, gizmo):
    manifest = tmp_path / "sources.toml"
    save_manifest(Manifest(manifest, (), documents="docs"))
    r = cli(["--corpus", manifest, *add_args(gizmo), "--url", "https://example.org/g"])
    assert r.exit_code == 0, r.output
    assert [d["id"] for d in toml_sources(manifest)] == ["gizmo-depot"]
    assert (tmp_path / "docs" / "gizmo-depot.md").read_text(encoding="utf-8") == GIZMO_MD


def test_add_refuses_an_exact_duplicate_and_names_it(tiny_corpus, tmp_path):
    args = location_args(tiny_corpus, tmp_path / "index")
    twin = tmp_path / "renamed-notes.txt"
    twin.write_text(NOTES_TXT, encoding="utf-8")
    before = tiny_corpus.manifest_path.read_bytes()
    line = one_error_line(cli([*args, *add_args(twin)]))
    assert "exact duplicate of tiny-notes (notes.txt)" in line and "not added" in line
    assert tiny_corpus.manifest_path.read_bytes() == before
    assert not (tiny_corpus.docs / "renamed-notes.txt").exists()


def test_add_warns_about_a_near_duplicate(tiny_corpus, tmp_path):
    """Three of its four sentences already stand in tiny-notes: added, with a warning naming it."""
    args = location_args(tiny_corpus, tmp_path / "index")
    near = tmp_path / "notes-reprint.txt"
    near.write_text(
        NOTES_TXT.replace("Field notes from the widget registry.", "Reprinted notes with one new line about bicycles."),
        encoding="utf-8",
    )
    r = cli([*args, *add_args(near, "Reprint", "Someone", "2024"), "--url", "https://example.org/r", "--json"])
    assert r.exit_code == 0, r.output
    assert r.stderr.strip().splitlines() == [
        "warning: near duplicate: 75% of its sentences already stand in tiny-notes"
    ]
    assert json.loads(r.stdout)["warnings"] == ["near duplicate: 75% of its sentences already stand in tiny-notes"]
    assert load_manifest(tiny_corpus.manifest_path).get("notes-reprint").file == "notes-reprint.txt"


def test_a_document_sharing_one_sentence_in_five_is_not_a_near_duplicate(tiny_corpus, tmp_path):
    args = location_args(tiny_corpus, tmp_path / "index")
    doc = tmp_path / "other.txt"
    doc.write_text(
        "Bicycles need air. Lamps need oil. Kettles need water. Clocks need winding.\n\n"
        "The registry keeps every report for ninety days.\n",
        encoding="utf-8",
    )
    r = cli([*args, *add_args(doc, "Other", "Someone", "2024"), "--url", "https://example.org/o"])
    assert r.exit_code == 0 and r.stderr == "", r.output


@pytest.mark.parametrize("missing", ["title", "publisher", "date", "rights"])
def test_add_needs_title_publisher_date_and_rights(tiny_corpus, tmp_path, gizmo, missing):
    args = location_args(tiny_corpus, tmp_path / "index")
    values = {"title": "T", "publisher": "P", "date": "2024", "rights": "CC0", missing: None}
    before = tiny_corpus.manifest_path.read_bytes()
    line = one_error_line(
        cli([*args, *add_args(gizmo, values["title"], values["publisher"], values["date"], rights=values["rights"])])
    )
    assert line == (
        f"Error: missing required metadata: --{missing} (`corpus check` requires it of every source); nothing was added"
    )
    assert tiny_corpus.manifest_path.read_bytes() == before
    assert not (tiny_corpus.docs / gizmo.name).exists()


@pytest.mark.parametrize(
    "extra,expected",
    [
        (["--date", "March 2024"], "--date must be a real date as YYYY, YYYY-MM or YYYY-MM-DD, not 'March 2024'"),
        (
            ["--date", "2024-13"],
            "--date must be a real date as YYYY, YYYY-MM or YYYY-MM-DD, not '2024-13'",
        ),  # no 13th month
        (["--date", "2026-13-45"], "--date must be a real date as YYYY, YYYY-MM or YYYY-MM-DD, not '2026-13-45'"),
        (["--date", "2023-02-29"], "--date must be a real date as YYYY, YYYY-MM or YYYY-MM-DD, not '2023-02-29'"),
        (
            ["--author", "Robert Grimm"],
            '--author must list people as "Family, Given" (e.g. "Grimm, Robert"), not \'Robert Grimm\'',
        ),
        (["--url", "ftp://example.org/x"], "--url must be an http:// or https:// address, not 'ftp://example.org/x'"),
        (["--superseded-by", "no-such-source"], "superseded_by 'no-such-source', which is not in the manifest"),
        (["--id", "Not_An_Id"], "Not_An_Id: id must be lowercase letters, digits, '.' or '-'"),
        (["--id", "tiny-notes"], "id 'tiny-notes' is already in the manifest"),
        (["--supersedes", "no-such-source"], "no source with id 'no-such-source'"),
        (["--format", "pptx"], "unsupported format 'pptx'"),
    ],
)
def test_refused_add_changes_nothing_and_leaves_no_file_behind(tiny_corpus, tmp_path, gizmo, extra, expected):
    """A refused `add` must not leave its copy in the documents folder (a retry would then fail)."""
    args = location_args(tiny_corpus, tmp_path / "index")
    before = tiny_corpus.manifest_path.read_bytes()
    line = one_error_line(cli([*args, *add_args(gizmo, "T", "P", "2024"), *extra]))
    assert expected in line
    assert tiny_corpus.manifest_path.read_bytes() == before
    assert not (tiny_corpus.docs / gizmo.name).exists(), "the refused document was left in the documents folder"
    assert check_problems(args) == []
    # …so that the corrected command just works
    r = cli([*args, *add_args(gizmo, "T", "P", "2024"), "--url", "https://example.org/g"])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize(
    "name,data,expected",
    [
        ("slides.pptx", b"PK\x03\x04", "cannot tell the format from its name; pass --format"),
        ("empty.md", b"\n \n", "not added: empty.md: empty file"),
        ("nowhere.md", None, "nowhere.md: no such file"),
    ],
)
def test_add_refuses_unreadable_documents(tiny_corpus, tmp_path, name, data, expected):
    args = location_args(tiny_corpus, tmp_path / "index")
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    line = one_error_line(cli([*args, *add_args(path, "T", "P", "2024")]))
    assert expected in line
    assert not (tiny_corpus.docs / name).exists()


def test_add_refuses_a_second_record_for_the_same_file_name(tiny_corpus, tmp_path):
    args = location_args(tiny_corpus, tmp_path / "index")
    other = tmp_path / "notes.txt"
    other.write_text("Different words entirely, about lamps.\n", encoding="utf-8")
    line = one_error_line(cli([*args, *add_args(other, "T", "P", "2024")]))
    assert "notes.txt: the manifest already has a record for this file" in line
    r = cli([*args, *add_args(other, "T", "P", "2024"), "--file", "lamp-notes.txt", "--url", "https://e.org/l"])
    assert r.exit_code == 0, r.output
    assert load_manifest(tiny_corpus.manifest_path).get("lamp-notes").file == "lamp-notes.txt"


def test_remove_unknown_id_is_one_line(tiny_corpus, tmp_path):
    before = tiny_corpus.manifest_path.read_bytes()
    line = one_error_line(cli([*location_args(tiny_corpus, tmp_path / "index"), "corpus", "remove", "nope"]))
    assert "no source with id 'nope'" in line and "corpus list" in line
    assert tiny_corpus.manifest_path.read_bytes() == before


# -- (2) corpus check ------------------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def broken_manifest(root: Path) -> tuple[Path, Path]:
    """A documents folder and a hand-written manifest with one instance of every problem class."""
    docs = root / "docs"
    files = {
        "good.txt": b"A good document.\n",
        "changed.txt": b"Edited after curation.\n",
        "slides.pptx": b"PK\x03\x04 slides",
        "stray.txt": b"Nobody listed me.\n",
        "sub/README.md": b"ignored by name",
        ".hidden": b"ignored",
    }
    for name, data in files.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_bytes(data)
    good = _sha(files["good.txt"])
    manifest = root / "sources.toml"
    manifest.write_text(
        f"""\
format_version = 1
documents = "docs"

[[source]]
id = "good"
file = "good.txt"
title = "Good"
publisher = "P"
date = "2024"
format = "text"
rights = "r"
sha256 = "{good}"

[[source]]
id = "changed"
file = "changed.txt"
title = "Changed"
publisher = "P"
date = "2024"
format = "text"
rights = "r"
sha256 = "{_sha(b"The words as curated.")}"

[[source]]
id = "no-publisher"
file = "stray-twin.txt"
title = "Lacks a publisher"
date = "2024"
format = "text"
rights = "r"
sha256 = "{_sha(b"whatever")}"

[[source]]
id = "slides"
file = "slides.pptx"
title = "Slides"
publisher = "P"
date = "2024"
format = "pptx"
rights = "r"
sha256 = "{_sha(files["slides.pptx"])}"

[[source]]
id = "good"
file = "good-again.txt"
title = "Same id again"
publisher = "P"
date = "2024"
format = "text"
rights = "r"
sha256 = "{_sha(b"x")}"

[[source]]
id = "good-twin"
file = "good.txt"
title = "Same file again"
publisher = "P"
date = "2024"
format = "text"
rights = "r"
sha256 = "{good}"
""",
        encoding="utf-8",
    )
    return manifest, docs


EXPECTED_PROBLEMS = {
    ("drift", "changed", "changed.txt"),
    ("missing_metadata", "no-publisher", "stray-twin.txt"),
    ("missing_file", "no-publisher", "stray-twin.txt"),
    ("unsupported_format", "slides", "slides.pptx"),
    ("duplicate_id", "good", "good-again.txt"),
    ("missing_file", "good", "good-again.txt"),
    ("duplicate_file", "good-twin", "good.txt"),
    ("unlisted_file", None, "stray.txt"),
}


def test_check_reports_every_problem_class(tmp_path):
    manifest, docs = broken_manifest(tmp_path)
    r = cli(["--corpus", manifest, "corpus", "check", "--json"])
    assert r.exit_code == 1, r.output
    out = json.loads(r.stdout)
    assert out["ok"] is False and out["checked"] == 6
    assert {(p["kind"], p["source_id"], p["file"]) for p in out["problems"]} == EXPECTED_PROBLEMS
    assert len(out["problems"]) == len(EXPECTED_PROBLEMS)
    for p in out["problems"]:
        assert set(p) == {"kind", "source_id", "file", "message"} and p["message"] and "\n" not in p["message"]
    msgs = {p["kind"]: p["message"] for p in out["problems"]}
    assert "no publisher recorded" in msgs["missing_metadata"]
    assert "'pptx'" in msgs["unsupported_format"] and "markdown" in msgs["unsupported_format"]
    assert "changed since curation" in msgs["drift"]
    assert "corpus sync" in msgs["missing_file"]

    r = cli(["--corpus", manifest, "corpus", "check"])
    assert r.exit_code == 1
    lines = r.stdout.strip().splitlines()
    assert lines[-1] == f"6 sources checked against {docs.resolve()}: {len(EXPECTED_PROBLEMS)} problem(s)"
    assert sorted(ln.split()[0] for ln in lines[:-1]) == sorted(k for k, _, _ in EXPECTED_PROBLEMS)
    assert r.stderr == ""


def test_check_names_records_without_a_file_once(tmp_path):
    """A record with no `file` is missing metadata; it is not also a 'missing file' with an empty name."""
    manifest = tmp_path / "sources.toml"
    (tmp_path / "docs").mkdir()
    manifest.write_text(
        'format_version = 1\ndocuments = "docs"\n\n[[source]]\nid = "nofile"\ntitle = "T"\n'
        f'publisher = "P"\ndate = "2024"\nformat = "text"\nrights = "r"\nsha256 = "{_sha(b"")}"\n'
    )
    out = json.loads(cli(["--corpus", manifest, "corpus", "check", "--json"]).stdout)
    assert [(p["kind"], p["message"]) for p in out["problems"]] == [("missing_metadata", "nofile: no file recorded")]


def test_check_is_clean_on_the_reference_corpus():
    r = cli(["--corpus", REPO_MANIFEST, "--docs", REFERENCE_CORPUS, "corpus", "check"])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == f"26 sources checked against {REFERENCE_CORPUS}: no problems"
    # the manifest's own `documents` setting points at the same folder
    r = cli(["--corpus", REPO_MANIFEST, "corpus", "check", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {
        "schema_version": "1",
        "type": "corpus_check",
        "ok": True,
        "checked": 26,
        "problems": [],
    }


def test_check_on_an_unreadable_manifest_is_one_line(tmp_path):
    bad = tmp_path / "sources.toml"
    bad.write_text("[[source]\nid = \n", encoding="utf-8")
    assert "not valid TOML" in one_error_line(cli(["--corpus", bad, "--docs", tmp_path, "corpus", "check"]))


# -- (3) corpus sync, through the CLI ---------------------------------------------------------------


@pytest.mark.parametrize("how", ["option", "env"])
def test_sync_from_the_reference_mirror_reproduces_every_file(tmp_path, how):
    docs = tmp_path / "docs"
    loc = ["--docs", docs] if how == "option" else []
    env = {"NCMEC_QA_DOCS": str(docs)} if how == "env" else None
    r = cli(["--corpus", REPO_MANIFEST, *loc, "corpus", "sync", "--from", REFERENCE_CORPUS], env=env)
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == f"26 sources into {docs}: 26 copied"
    assert len(r.stderr.strip().splitlines()) == 26  # one progress line per source
    manifest = load_manifest(REPO_MANIFEST)
    for s in manifest.sources:
        assert (docs / s.file).read_bytes() == (REFERENCE_CORPUS / s.file).read_bytes(), s.file
    listed = sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*") if p.is_file())
    assert listed == sorted(s.file for s in manifest.sources)  # nothing else: no .part files, no .drift/
    r = cli(["--corpus", REPO_MANIFEST, *loc, "-q", "corpus", "sync", "--from", REFERENCE_CORPUS, "--json"], env=env)
    assert r.exit_code == 0 and r.stderr == ""
    assert json.loads(r.stdout)["counts"] == {"ok": 26}
    assert cli(["--corpus", REPO_MANIFEST, *loc, "corpus", "check"], env=env).exit_code == 0


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def www(tmp_path):
    """(folder served, base URL) from a threaded http.server on 127.0.0.1."""
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    t.join(5)


def test_sync_over_http_keeps_a_changed_file_aside_until_accepted(tmp_path, www):
    root, base = www
    v1 = {"alpha.txt": b"Alpha bulletin, first printing.\n", "bravo.md": b"# Bravo\n\nBravo bulletin text.\n"}
    for name, data in v1.items():
        (root / name).write_bytes(data)
    docs = tmp_path / "docs"
    manifest = tmp_path / "corpus" / "sources.toml"
    save_manifest(
        Manifest(
            manifest,
            tuple(
                make_source(
                    root,
                    name.split(".")[0],
                    name,
                    "text" if name.endswith(".txt") else "markdown",
                    url=f"{base}/{name}",
                    rights="r",
                )
                for name in v1
            ),
            documents="../docs",
        )
    )
    loc = ["--corpus", manifest]

    r = cli([*loc, "corpus", "sync"])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == f"2 sources into {docs.resolve()}: 2 downloaded"
    assert {n: (docs / n).read_bytes() for n in v1} == v1

    # The server's copy changes; the local copy is found damaged, so sync fetches it again.
    v2 = b"Alpha bulletin, second printing, revised.\n"
    (root / "alpha.txt").write_bytes(v2)
    (docs / "alpha.txt").write_bytes(b"damaged locally\n")
    before = manifest.read_bytes()
    r = cli([*loc, "corpus", "sync"])
    assert r.exit_code == 1, r.output
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("drift      alpha.txt: downloaded content has sha256 ") and "accept" in lines[0]
    assert lines[-1] == f"2 sources into {docs.resolve()}: 1 drift, 1 ok"
    assert (docs / "alpha.txt").read_bytes() == b"damaged locally\n"  # left in place
    assert (docs / ".drift" / "alpha.txt").read_bytes() == v2
    assert manifest.read_bytes() == before
    out = json.loads(cli([*loc, "-q", "corpus", "sync", "--json"]).stdout)
    assert out["ok"] is False and out["results"][0]["status"] == "drift"
    assert out["results"][0]["actual_sha256"] == _sha(v2)
    # the documents folder's extra .drift/ copy is not an unlisted file; the damaged one is drift
    check = json.loads(cli([*loc, "corpus", "check", "--json"]).stdout)
    assert [(p["kind"], p["file"]) for p in check["problems"]] == [("drift", "alpha.txt")]

    r = cli([*loc, "corpus", "sync", "--accept"])
    assert r.exit_code == 0, r.output
    assert "accepted   alpha.txt: new content accepted" in r.stdout
    assert (docs / "alpha.txt").read_bytes() == v2
    recs = {d["id"]: d for d in toml_sources(manifest)}
    assert recs["alpha"]["sha256"] == _sha(v2) and recs["alpha"]["bytes"] == len(v2)
    assert recs["bravo"]["sha256"] == _sha(v1["bravo.md"])
    r = cli([*loc, "corpus", "sync"])
    assert r.exit_code == 0 and r.stdout.strip().endswith("2 ok")
    assert cli([*loc, "corpus", "check"]).exit_code == 0


def test_sync_of_a_missing_file_that_changed_upstream_puts_nothing_in_place(tmp_path, www):
    root, base = www
    (root / "alpha.txt").write_bytes(b"as curated\n")
    manifest = tmp_path / "sources.toml"
    save_manifest(
        Manifest(
            manifest, (make_source(root, "alpha", "alpha.txt", "text", url=f"{base}/alpha.txt"),), documents="docs"
        )
    )
    (root / "alpha.txt").write_bytes(b"changed upstream\n")
    r = cli(["--corpus", manifest, "-q", "corpus", "sync"])
    assert r.exit_code == 1 and r.stderr == ""
    assert not (tmp_path / "docs" / "alpha.txt").exists()
    assert (tmp_path / "docs" / ".drift" / "alpha.txt").read_bytes() == b"changed upstream\n"


def test_add_from_a_url(tiny_corpus, tmp_path, www):
    root, base = www
    (root / "gizmo-depot.md").write_text(GIZMO_MD, encoding="utf-8")
    args = location_args(tiny_corpus, tmp_path / "index")
    r = cli([*args, *add_args(f"{base}/gizmo-depot.md")])
    assert r.exit_code == 0 and r.stderr == "", r.output
    rec = load_manifest(tiny_corpus.manifest_path).get("gizmo-depot")
    assert rec.url == f"{base}/gizmo-depot.md" and rec.sha256 == _sha(GIZMO_MD.encode())
    assert (tiny_corpus.docs / "gizmo-depot.md").read_text(encoding="utf-8") == GIZMO_MD
    line = one_error_line(cli([*args, *add_args(f"{base}/nothing-here.md")]))
    assert "404" in line and not (tiny_corpus.docs / "nothing-here.md").exists()


# -- (5) a stale index says so ----------------------------------------------------------------------


def _stale_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr:\n{result.stderr}"
    assert "stale" in lines[0] and "`ncmec-qa index build`" in lines[0], lines[0]
    return lines[0]


def test_ask_on_an_index_from_another_version_of_the_manifest(tiny_corpus, tmp_path, gizmo):
    args = location_args(tiny_corpus, tmp_path / "index")
    build(args)
    assert cli([*args, "ask", GIZMO_Q]).stderr == ""
    assert cli([*args, *add_args(gizmo), "--url", "https://example.org/g"]).exit_code == 0

    r = cli([*args, "ask", GIZMO_Q])
    assert r.exit_code == 3  # answered from the stale index, and the exit status says so
    assert str(tiny_corpus.manifest_path) in _stale_line(r)
    r = cli([*args, "ask", GIZMO_Q, "--json"])
    assert r.exit_code == 3
    _stale_line(r)
    json.loads(r.stdout)  # stdout stays pure JSON
    status = json.loads(cli([*args, "index", "status", "--json"]).stdout)
    assert status["stale"] is True and "`ncmec-qa index build`" in status["stale_reason"]
    assert "STALE: " in cli([*args, "index", "status"]).stdout

    build(args)
    assert cli([*args, "ask", GIZMO_Q]).stderr == ""
    assert json.loads(cli([*args, "index", "status", "--json"]).stdout)["stale"] is False


def test_ask_on_an_index_built_from_a_different_manifest(tiny_corpus, tmp_path):
    other = tmp_path / "other"
    (other / "docs").mkdir(parents=True)
    (other / "docs" / "lamps.txt").write_text("Lamps need oil every evening in the lighthouse.\n", encoding="utf-8")
    other_manifest = other / "sources.toml"
    save_manifest(
        Manifest(other_manifest, (make_source(other / "docs", "lamps", "lamps.txt", "text"),), documents="docs")
    )
    index_dir = tmp_path / "index"
    build(["--corpus", other_manifest, "--index", index_dir])
    r = cli([*location_args(tiny_corpus, index_dir), "ask", "Do lamps need oil every evening?"])
    assert r.exit_code == 3
    _stale_line(r)
    r = cli([*location_args(tiny_corpus, index_dir), "index", "status", "--json"])
    assert json.loads(r.stdout)["stale"] is True


# -- (6) editions and authority ---------------------------------------------------------------------

# Written for these tests: a stand-in for an old edition of a statute, and secondary commentary.
STATUTE_MD = """\
# 18 U.S.C. § 2258A (test edition)

## (h) Preservation

A provider shall preserve the contents of a report for 90 days after the report is submitted.
"""
COMMENTARY_TXT = """\
Commentary on provider reporting.

Reporting lawyers say that providers often batch their reports at night before sending them.
"""
SUPERSEDED_NOTE = "Amended in 2024: the preservation period became one year"
STATUTE_Q = (
    "Under 18 U.S.C. § 2258A, must a provider preserve the contents of a report for 90 days "
    "after the report is submitted?"
)
COMMENTARY_Q = "Do providers often batch their reports at night before sending them?"


@pytest.fixture
def editions(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "2258A.md").write_text(STATUTE_MD, encoding="utf-8")
    (docs / "commentary.txt").write_text(COMMENTARY_TXT, encoding="utf-8")
    manifest = tmp_path / "sources.toml"
    save_manifest(
        Manifest(
            manifest,
            (
                make_source(
                    docs,
                    "usc-18-2258a",
                    "2258A.md",
                    "markdown",
                    title="18 U.S.C. § 2258A",
                    edition="pre-2024 text",
                    superseded_by=SUPERSEDED_NOTE,
                    url="https://example.org/2258a",
                ),
                make_source(docs, "commentary", "commentary.txt", "text", title="Notes on reporting", kind="secondary"),
            ),
            documents="docs",
        )
    )
    args = ["--corpus", manifest, "--index", tmp_path / "index"]
    build(args)
    return args


def test_an_answer_quoting_a_superseded_text_warns(editions):
    r = cli([*editions, "ask", STATUTE_Q, "--json"])
    assert r.exit_code == 0 and r.stderr == "", r.output
    a = json.loads(r.stdout)
    assert a["answered"], a["reason"]
    cited = {s["source_id"]: s for s in a["sources"]}
    assert a["sources"][0]["source_id"] == "usc-18-2258a"
    assert cited["usc-18-2258a"]["superseded"] is True and cited["usc-18-2258a"]["kind"] == "primary"
    assert cited["usc-18-2258a"]["edition"] == "pre-2024 text"
    assert a["warnings"] == [f"usc-18-2258a may be superseded: {SUPERSEDED_NOTE}"]

    r = cli([*editions, "ask", STATUTE_Q])
    assert r.exit_code == 0
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("[1] "))
    assert line.startswith("[1] 18 U.S.C. § 2258A. ncmec-qa test fixtures. 2024-01-01. pre-2024 text.")
    assert line.endswith("(superseded text)") and "secondary source" not in line
    assert f"note: usc-18-2258a may be superseded: {SUPERSEDED_NOTE}" in r.stdout

    r = cli([*editions, "ask", STATUTE_Q, "--markdown"])
    assert r.exit_code == 0
    assert f"*Note: usc-18-2258a may be superseded: {SUPERSEDED_NOTE}*" in r.stdout.splitlines()


def test_a_secondary_source_is_marked_as_such(editions):
    r = cli([*editions, "ask", COMMENTARY_Q, "--json"])
    a = json.loads(r.stdout)
    assert a["answered"], a["reason"]
    assert [(s["source_id"], s["kind"], s["superseded"]) for s in a["sources"]] == [("commentary", "secondary", False)]
    from ncmec_qa.answer.answering import SECONDARY_ONLY

    assert a["warnings"] == [SECONDARY_ONLY]  # nothing superseded; every quote secondary, and the reader is told
    r = cli([*editions, "ask", COMMENTARY_Q])
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("[1] "))
    assert line.startswith("[1] Notes on reporting.") and line.endswith("(secondary source)")
    notes = [ln for ln in r.stdout.splitlines() if ln.startswith("note:")]
    from ncmec_qa.render.render import CHECK_AGAINST

    note = " ".join(r.stdout.split("note: ", 1)[1].split("\n\n", 1)[0].split())  # up to the next blank line
    assert len(notes) == 1 and note == SECONDARY_ONLY
    # then the primary documents to check it against: the statute here (no other document is primary)
    listed = r.stdout.split(CHECK_AGAINST + "\n", 1)[1].splitlines()
    assert [ln.split()[1].split(":")[0] for ln in listed if ln[:1].isdigit()] == ["usc-18-2258a"]
    listing = cli([*editions, "corpus", "list"]).stdout.splitlines()
    assert [ln.endswith("(secondary)") for ln in listing] == [False, True]


def test_the_reference_manifest_flags_the_pre_2024_text_of_2258a():
    recs = {d["id"]: d for d in tomllib.loads(REPO_MANIFEST.read_text(encoding="utf-8"))["source"]}
    assert "REPORT Act" in recs["usc-18-2258a"]["superseded_by"]
    assert recs["seed-factually-2026"]["kind"] == "secondary"


# -- librarian checks (issue 14): authors, dates and rights at add, remove --delete-file, hints -------------


def test_add_records_authors_in_order_and_show_prints_them(tiny_corpus, tmp_path, gizmo):
    args = location_args(tiny_corpus, tmp_path / "index")
    r = cli(
        [
            *args,
            *add_args(gizmo),
            "--url",
            "https://example.org/g",
            "--author",
            "Grimm, Robert",
            "--author",
            "Stamos,   Alex",
            "--json",
        ]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["added"]["authors"] == ["Grimm, Robert", "Stamos, Alex"]
    assert 'authors = ["Grimm, Robert", "Stamos, Alex"]' in tiny_corpus.manifest_path.read_text(encoding="utf-8")
    assert load_manifest(tiny_corpus.manifest_path).get("gizmo-depot").authors == ("Grimm, Robert", "Stamos, Alex")
    r = cli([*args, "corpus", "show", "gizmo-depot"])
    assert "authors:        ['Grimm, Robert', 'Stamos, Alex']" in r.stdout


def test_add_names_every_missing_option_at_once(tiny_corpus, tmp_path, gizmo):
    args = location_args(tiny_corpus, tmp_path / "index")
    before = tiny_corpus.manifest_path.read_bytes()
    line = one_error_line(cli([*args, "corpus", "add", str(gizmo), "--title", "T"]))
    assert line == (
        "Error: missing required metadata: --publisher, --date, --rights (`corpus check` requires them of "
        "every source); nothing was added"
    )
    assert tiny_corpus.manifest_path.read_bytes() == before and not (tiny_corpus.docs / gizmo.name).exists()


def test_remove_names_the_file_left_behind_and_delete_file_deletes_it(tiny_corpus, tmp_path):
    args = location_args(tiny_corpus, tmp_path / "index")
    notes = tiny_corpus.docs / load_manifest(tiny_corpus.manifest_path).get("tiny-notes").file
    r = cli([*args, "corpus", "remove", "tiny-notes"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(
        f"removed tiny-notes; its file {notes} was left in place: delete it (or remove with "
        "--delete-file), else `corpus check` reports it as unlisted."
    )
    assert notes.exists()
    rel = notes.relative_to(tiny_corpus.docs).as_posix()
    check = cli([*args, "corpus", "check", "--json"])
    (unlisted,) = [p for p in json.loads(check.stdout)["problems"] if p["kind"] == "unlisted_file"]
    assert unlisted["message"] == (
        f"{rel} is in the documents folder but no record names it: record it with "
        f"`ncmec-qa corpus add {tiny_corpus.docs / rel} --file {rel}` (with --title, "
        "--publisher, --date, --rights), or delete the file"
    )
    r = cli([*args, "corpus", "remove", "tiny-pdf", "--delete-file", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["removed"] == "tiny-pdf" and d["deleted"] is True
    assert not (tiny_corpus.docs / d["file"]).exists()
    assert "tiny-pdf" not in load_manifest(tiny_corpus.manifest_path).by_id()


def test_remove_delete_file_refuses_a_file_outside_the_folder(tiny_corpus, tmp_path):
    """A record whose file resolves outside the documents folder is removed from nothing: no file is deleted."""
    outside = tmp_path / "keep.txt"
    outside.write_text("keep me\n")
    (tiny_corpus.docs / "link.txt").symlink_to(outside)
    m = load_manifest(tiny_corpus.manifest_path)
    from dataclasses import replace as _replace

    from ncmec_qa.corpus.manifest import save_manifest

    save_manifest(m.with_sources([_replace(s, file="link.txt") if s.id == "tiny-notes" else s for s in m.sources]))
    before = tiny_corpus.manifest_path.read_bytes()
    line = one_error_line(
        cli([*location_args(tiny_corpus, tmp_path / "i"), "corpus", "remove", "tiny-notes", "--delete-file"])
    )
    assert line.startswith("Error: link.txt: resolves outside the documents folder") and line.endswith("; not deleted")
    assert outside.exists() and tiny_corpus.manifest_path.read_bytes() == before


def test_remove_refuses_a_record_another_names_then_drop_references_takes_it_out(tiny_corpus, tmp_path, gizmo):
    """Removing a record that another `supersedes` (or names in `superseded_by`) would leave a manifest every
    command refuses: it is refused by name, the manifest untouched, and --drop-references removes both."""
    args = location_args(tiny_corpus, tmp_path / "index")
    new = [*add_args(gizmo, "Gizmo Depot Rules, 2025", "Depot Board", "2025", "--supersedes", "tiny-notes")]
    assert cli([*args, *new, "--id", "gizmo-2025"]).exit_code == 0
    m = load_manifest(tiny_corpus.manifest_path)
    from dataclasses import replace as _replace

    from ncmec_qa.corpus.manifest import save_manifest

    pdf = m.get("tiny-pdf")
    save_manifest(m.with_sources(_replace(s, superseded_by="tiny-notes") if s is pdf else s for s in m.sources))
    before = tiny_corpus.manifest_path.read_bytes()
    line = one_error_line(cli([*args, "corpus", "remove", "tiny-notes"]))
    assert line == (
        f"Error: tiny-notes is named by tiny-pdf: superseded_by, gizmo-2025: supersedes in "
        f"{tiny_corpus.manifest_path}; removing it would leave that reference dangling: remove with "
        "--drop-references to take it out of those records too, or edit them first"
    )
    assert tiny_corpus.manifest_path.read_bytes() == before
    r = cli([*args, "corpus", "remove", "tiny-notes", "--drop-references", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["removed"] == "tiny-notes"
    assert d["dropped_references"] == ["tiny-pdf: superseded_by", "gizmo-2025: supersedes"]
    after = load_manifest(tiny_corpus.manifest_path).by_id()
    assert "tiny-notes" not in after
    assert after["gizmo-2025"].supersedes == () and after["tiny-pdf"].superseded_by is None
    check = cli([*args, "corpus", "check", "--json", "--quick"])
    kinds = [p["kind"] for p in json.loads(check.stdout)["problems"]]
    assert "dangling_reference" not in kinds and not any("not in the manifest" in p for p in check.stdout.splitlines())
