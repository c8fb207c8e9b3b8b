"""The manifest (corpus/sources.toml) and where things live (config)."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import REPO, REPO_MANIFEST, TINY_DOCS

from ncmec_qa.config import resolve_paths
from ncmec_qa.corpus import manifest as manifest_mod
from ncmec_qa.corpus.manifest import (
    FORMATS,
    Manifest,
    detect_format,
    dumps,
    load_manifest,
    manifest_hash,
    save_manifest,
    sha256_file,
    source_from_dict,
    validate_ids,
)
from ncmec_qa.errors import ManifestError
from ncmec_qa.models import Source

RECORD = {
    "id": "widget-handbook",
    "file": "handbook/handbook.md",
    "title": "Widget Reporting Handbook",
    "publisher": "Widget Registry",
    "date": "2024-03",
    "format": "markdown",
    "sha256": "ab" * 32,
}


def full_source() -> Source:
    return source_from_dict(
        {
            **RECORD,
            "url": "https://example.org/handbook",
            "rights": "CC0",
            "bytes": 1234,
            "kind": "secondary",
            "edition": "second edition",
            "supersedes": ["widget-handbook-1"],
            "superseded_by": "the third edition (2025)",
            "retrieved_from": {"repository": "https://example.org/repo", "commit": "0" * 40, "path": "a/b.md"},
        }
    )


# -- records ------------------------------------------------------------------------------------


def test_source_from_dict_defaults():
    s = source_from_dict(dict(RECORD))
    assert (s.id, s.file, s.format, s.sha256) == ("widget-handbook", "handbook/handbook.md", "markdown", "ab" * 32)
    assert s.kind == "primary" and s.url is None and s.bytes is None and s.supersedes == ()


@pytest.mark.parametrize("field", ["id", "file", "title", "publisher", "date", "format", "sha256"])
def test_missing_required_field_is_named(field):
    d = {k: v for k, v in RECORD.items() if k != field}
    with pytest.raises(ManifestError, match=f"missing required field '{field}'"):
        source_from_dict(d, where="#3")


def test_missing_id_names_the_record_position():
    d = {k: v for k, v in RECORD.items() if k != "id"}
    with pytest.raises(ManifestError, match=r"^source #3: missing required field 'id'"):
        source_from_dict(d, where="#3")


def test_bad_kind_is_refused():
    with pytest.raises(ManifestError, match="kind must be one of primary, secondary, not 'tertiary'"):
        source_from_dict({**RECORD, "kind": "tertiary"})


def test_validate_ids():
    a = source_from_dict(RECORD)
    problems = validate_ids([a, replace(a, id="Bad_ID"), a])
    assert problems == [
        "Bad_ID: id must be lowercase letters, digits, '.' or '-'",
        "widget-handbook: duplicate id",
    ]
    assert validate_ids([a, replace(a, id="usc-18-2258a"), replace(a, id="v1.2")]) == []


@pytest.mark.parametrize(
    "name,fmt",
    [
        ("a.md", "markdown"),
        ("A.MARKDOWN", "markdown"),
        ("x.htm", "html"),
        ("x.HTML", "html"),
        ("r.pdf", "pdf"),
        ("n.txt", "text"),
        ("t.csv", "csv"),
        ("j.json", "json"),
        ("d.docx", None),
        ("noext", None),
    ],
)
def test_detect_format(name, fmt):
    assert detect_format(name) == fmt


def test_sha256_file(tmp_path):
    p = tmp_path / "f.bin"
    data = os.urandom(3 << 20)  # spans several read chunks
    p.write_bytes(data)
    assert sha256_file(p) == hashlib.sha256(data).hexdigest()


# -- reading and writing ---------------------------------------------------------------------------


def test_round_trip_keeps_every_field(tmp_path):
    # the record full_source supersedes is in the manifest: a reference to no record is refused on reading
    plain = source_from_dict({**RECORD, "id": "widget-handbook-1", "file": "plain.txt", "format": "text"})
    m = Manifest(path=tmp_path / "corpus" / "sources.toml", sources=(full_source(), plain), documents="../docs")
    save_manifest(m)
    back = load_manifest(m.path)
    assert back.sources == m.sources
    assert back.documents == "../docs"
    assert back.path == m.path
    # nothing but the manifest is left in the folder (the write is atomic, via a temporary file)
    assert [p.name for p in m.path.parent.iterdir()] == ["sources.toml"]


def test_written_manifest_is_readable_toml_one_table_per_source(tmp_path):
    m = Manifest(path=tmp_path / "sources.toml", sources=(full_source(),), documents="docs")
    text = dumps(m)
    assert len(re.findall(r"^\[\[source\]\]$", text, re.M)) == 1
    assert 'kind = "secondary"' in text
    assert re.search(r"^format_version = 1$", text, re.M)
    # "primary" is the default and is left out
    text2 = dumps(m.with_sources([source_from_dict(RECORD)]))
    assert "kind" not in text2


def test_failed_save_leaves_the_old_manifest_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "sources.toml"
    m = Manifest(path=path, sources=(source_from_dict(RECORD),))
    save_manifest(m)
    before = path.read_text()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(manifest_mod.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save_manifest(m.with_sources([full_source()]))
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["sources.toml"]


def test_missing_manifest_says_how_to_point_at_one(tmp_path):
    with pytest.raises(ManifestError, match=r"manifest not found: .*nope\.toml \(pass --corpus or set NCMEC_QA_CORPUS"):
        load_manifest(tmp_path / "nope.toml")


def test_invalid_toml(tmp_path):
    p = tmp_path / "sources.toml"
    p.write_text("format_version = 1\n[[source]\nid = 'x'\n")
    with pytest.raises(ManifestError, match="not valid TOML"):
        load_manifest(p)


def test_unsupported_format_version(tmp_path):
    p = tmp_path / "sources.toml"
    p.write_text("format_version = 2\n")
    with pytest.raises(ManifestError, match="format_version 2 is not supported"):
        load_manifest(p)


def test_bad_record_in_file_is_located(tmp_path):
    p = tmp_path / "sources.toml"
    p.write_text(
        'format_version = 1\n[[source]]\nid = "a"\nfile = "a.txt"\ntitle = "A"\npublisher = "P"\n'
        'date = "2024"\nformat = "text"\nsha256 = "00"\n\n[[source]]\ntitle = "no id"\n'
    )
    with pytest.raises(ManifestError, match=r"source #2: missing required field 'id'"):
        load_manifest(p)


def test_get_unknown_id(tmp_path):
    m = Manifest(path=tmp_path / "s.toml", sources=(source_from_dict(RECORD),))
    assert m.get("widget-handbook").title == "Widget Reporting Handbook"
    with pytest.raises(ManifestError, match=r"no source with id 'nope'.*`ncmec-qa corpus list`"):
        m.get("nope")


def test_docs_dir_is_relative_to_the_manifest_and_overridable(tmp_path):
    m = Manifest(path=tmp_path / "corpus" / "sources.toml", sources=(), documents="../docs")
    assert m.docs_dir() == (tmp_path / "docs").resolve()
    assert m.docs_dir(tmp_path / "elsewhere") == tmp_path / "elsewhere"
    with pytest.raises(ManifestError, match="no documents folder: pass --docs, set NCMEC_QA_DOCS"):
        replace(m, documents=None).docs_dir()


# -- the manifest hash --------------------------------------------------------------------------------


def test_manifest_hash_follows_what_the_index_depends_on(tmp_path):
    a = source_from_dict(RECORD)
    b = source_from_dict({**RECORD, "id": "other", "file": "other.txt", "format": "text"})
    m = Manifest(path=tmp_path / "s.toml", sources=(a, b))
    h = manifest_hash(m)
    assert re.fullmatch(r"[0-9a-f]{64}", h)
    assert manifest_hash(m.with_sources([b, a])) == h  # order does not matter
    for changed in (
        replace(a, sha256="cd" * 32),
        replace(a, file="moved.md"),
        replace(a, format="text"),
        replace(a, id="renamed"),
    ):
        assert manifest_hash(m.with_sources([changed, b])) != h, changed
    assert manifest_hash(m.with_sources([a])) != h  # a removed source
    assert manifest_hash(m.with_sources([a, b, replace(b, id="third")])) != h  # an added one


# -- config ---------------------------------------------------------------------------------------------


def test_paths_explicit_beats_env_beats_checkout(tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / "corpus").mkdir(parents=True)
    (checkout / "corpus" / "sources.toml").write_text("format_version = 1\n")
    sub = checkout / "deep" / "er"
    sub.mkdir(parents=True)

    p = resolve_paths(env={}, cwd=sub)
    assert p.manifest == checkout.resolve() / "corpus" / "sources.toml"
    assert p.index == checkout.resolve() / "index"
    assert p.docs is None

    env = {
        "NCMEC_QA_CORPUS": str(tmp_path / "env.toml"),
        "NCMEC_QA_INDEX": str(tmp_path / "envidx"),
        "NCMEC_QA_DOCS": str(tmp_path / "envdocs"),
    }
    p = resolve_paths(env=env, cwd=sub)
    assert (p.manifest, p.index, p.docs) == (tmp_path / "env.toml", tmp_path / "envidx", tmp_path / "envdocs")

    p = resolve_paths(
        corpus=tmp_path / "arg.toml", index=tmp_path / "argidx", docs=tmp_path / "argdocs", env=env, cwd=sub
    )
    assert (p.manifest, p.index, p.docs) == (tmp_path / "arg.toml", tmp_path / "argidx", tmp_path / "argdocs")


def test_corpus_given_as_a_folder_means_its_sources_toml(tmp_path):
    (tmp_path / "c").mkdir()
    assert resolve_paths(corpus=tmp_path / "c", env={}, cwd=tmp_path).manifest == tmp_path / "c" / "sources.toml"


# -- the checkout's own manifest --------------------------------------------------------------------------


def test_checkout_manifest_is_valid():
    m = load_manifest(REPO_MANIFEST)
    assert m.sources, "the checkout's manifest lists no sources"
    assert validate_ids(m.sources) == []
    assert len({s.file for s in m.sources}) == len(m.sources), "two records for one file"
    for s in m.sources:
        assert s.format in FORMATS.values(), s.id
        assert detect_format(s.file) == s.format, f"{s.id}: format {s.format} but file {s.file}"
        assert re.fullmatch(r"[0-9a-f]{64}", s.sha256), s.id
        assert not Path(s.file).is_absolute() and ".." not in Path(s.file).parts, s.id
        assert s.kind in ("primary", "secondary")
    # the documents live outside the checkout: the repository holds records, not documents
    assert m.documents
    docs = m.docs_dir()
    assert REPO.resolve() not in docs.parents and docs != REPO.resolve()


def test_checkout_manifest_round_trips_unchanged(tmp_path):
    m = load_manifest(REPO_MANIFEST)
    copy = replace(m, path=tmp_path / "sources.toml")
    save_manifest(copy)
    assert load_manifest(copy.path).sources == m.sources


def test_tiny_corpus_manifest_records_real_hashes(tiny_corpus):
    m = tiny_corpus.manifest()
    assert [s.id for s in m.sources] == list(TINY_DOCS)
    for s in m.sources:
        p = tiny_corpus.docs / s.file
        assert sha256_file(p) == s.sha256 and p.stat().st_size == s.bytes
