"""Editions: which sources were in force on a date (`ask --as-of`), `corpus add --superseded-by`, and
`corpus check` flagging a reference to a record that does not exist."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import location_args, open_workspace, run_cli, write_tiny_corpus

from ncmec_qa.corpus.editions import dangling, in_force, parse_date
from ncmec_qa.models import Source


def _src(sid: str, date: str, **kw) -> Source:
    return Source(sid, f"{sid}.md", sid, "Registry", date, "markdown", "0" * 64, **kw)


RULES = [
    _src("rule-2019", "2019-05"),
    _src("rule-2022", "2022-03-15", supersedes=("rule-2019",)),
    _src("statute", "2020", superseded_by="Amended by the Widget Act of 2024-05-07"),
    _src("guide", "2021", superseded_by="Replaced by a later guide (2023)"),
    _src("note", "2018", superseded_by="rule-2022"),
    _src("undated", ""),
]


@pytest.mark.parametrize(
    "text, day",
    [
        ("2023", dt.date(2023, 1, 1)),
        ("2023-04", dt.date(2023, 4, 1)),
        ("2023-04-09", dt.date(2023, 4, 9)),
        ("2023-13", None),
        ("April 2023", None),
        ("", None),
    ],
)
def test_parse_date(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize(
    "on, expected",
    [
        ("2018-06-01", {"note", "undated"}),
        ("2019-05-01", {"rule-2019", "note", "undated"}),  # a YYYY-MM date counts from its first day
        ("2021-06-01", {"rule-2019", "statute", "guide", "note", "undated"}),
        ("2022-03-15", {"statute", "guide", "rule-2022", "undated"}),  # replaced (supersedes / superseded_by id)
        ("2023-06-01", {"statute", "rule-2022", "undated"}),  # the note's year ends the guide
        ("2024-05-06", {"statute", "rule-2022", "undated"}),
        ("2024-05-07", {"rule-2022", "undated"}),  # the note's full date ends the statute
    ],
)
def test_in_force(on, expected):
    assert in_force(RULES, parse_date(on)) == expected


def test_dangling_references():
    srcs = [
        *RULES,
        _src("orphan", "2020", supersedes=("rule-2010",)),
        _src("later", "2021", superseded_by="rule-2030"),
        _src("prose", "2021", superseded_by="a later text outside the corpus"),
    ]
    assert dangling(srcs) == [
        ("orphan", "orphan: supersedes 'rule-2010', which is not in the manifest"),
        ("later", "later: superseded_by 'rule-2030', which is not in the manifest"),
    ]
    assert dangling(RULES) == []


def _corpus(tmp_path):
    corpus = write_tiny_corpus(tmp_path, only=["tiny-notes"])
    corpus.add(
        "rule-2019",
        "rule-2019.md",
        b"# Rule 7 (2019)\n\nA widget office shall keep each widget report for 90 days.\n",
        "markdown",
        date="2019-05",
    )
    corpus.add(
        "rule-2024",
        "rule-2024.md",
        b"# Rule 7 (2024)\n\nA widget office shall keep each widget report for one year.\n",
        "markdown",
        date="2024-05",
        supersedes=("rule-2019",),
    )
    return corpus


def test_ask_as_of_answers_from_the_editions_in_force(tmp_path):
    corpus = _corpus(tmp_path)
    assert not open_workspace(corpus, tmp_path / "index").build().failures
    args = location_args(corpus, tmp_path / "index")
    q = "How long must a widget office keep each widget report?"

    def cited(*extra):
        r = run_cli([*args, "ask", "--min-confidence", "0", "--json", *extra, q])
        assert r.exit_code == 0, r.stderr
        return {c["source_id"] for c in json.loads(r.stdout)["sources"]}, r.stderr

    then, log = cited("--as-of", "2020-01-01")
    assert "rule-2019" in then and "rule-2024" not in then
    n = len(in_force(corpus.manifest().sources, dt.date(2020, 1, 1)))
    assert "rule-2019" in in_force(corpus.manifest().sources, dt.date(2020, 1, 1))
    assert f"as of 2020-01-01: {n} of 3 sources in force" in log
    now, _ = cited("--as-of", "2025")
    assert "rule-2024" in now and "rule-2019" not in now

    r = run_cli([*args, "ask", "--as-of", "next year", q])
    assert r.exit_code == 2 and "'next year' is not a date (YYYY, YYYY-MM or YYYY-MM-DD)" in r.stderr
    r = run_cli([*args, "ask", "--as-of", "1990", q])
    assert r.exit_code != 0 and r.stderr.strip().endswith("Error: no source in the corpus was in force on 1990")


def test_corpus_add_records_superseded_by_and_check_flags_a_dangling_reference(tmp_path):
    corpus = _corpus(tmp_path)
    args = location_args(corpus, tmp_path / "index")
    new = tmp_path / "guide.md"
    new.write_text("# Widget guide\n\nOffices file widget reports on paper.\n")
    base = [
        "corpus",
        "add",
        str(new),
        "--title",
        "Widget guide",
        "--publisher",
        "Registry",
        "--date",
        "2018",
        "--rights",
        "public domain",
        "--url",
        "https://example.org/guide",
    ]
    r = run_cli([*args, *base, "--superseded-by", "rule-2030"])
    assert r.exit_code != 0 and "superseded_by 'rule-2030', which is not in the manifest" in r.stderr
    r = run_cli([*args, *base, "--superseded-by", "rule-2024"])
    assert r.exit_code == 0, r.stderr
    assert corpus.manifest().get("guide").superseded_by == "rule-2024"
    r = run_cli([*args, "corpus", "check", "--json"])
    assert not [p for p in json.loads(r.stdout)["problems"] if p["kind"] == "dangling_reference"]

    m = corpus.manifest()  # a record that points at nothing: the id was mistyped, or its target removed
    from dataclasses import replace

    from ncmec_qa.corpus.manifest import save_manifest

    save_manifest(
        m.with_sources([replace(s, supersedes=("rule-2018",)) if s.id == "rule-2024" else s for s in m.sources])
    )
    r = run_cli([*args, "corpus", "check", "--json"])
    assert r.exit_code == 1
    problems = json.loads(r.stdout)["problems"]
    assert {
        "kind": "dangling_reference",
        "source_id": "rule-2024",
        "file": "rule-2024.md",
        "message": "rule-2024: supersedes 'rule-2018', which is not in the manifest",
    } in problems
