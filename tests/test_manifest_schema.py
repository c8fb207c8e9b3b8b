"""The manifest's schema: every field's type and form, ids, references; one report of every problem, never a traceback."""

from __future__ import annotations

import json
import tomllib

import pytest
from conftest import FAKE_MODEL, REPO_MANIFEST, run_cli

from ncmec_qa.corpus.manifest import ManifestInvalid, load_manifest, source_from_dict
from ncmec_qa.errors import ExitStatus, ManifestError
from ncmec_qa.models import Source

GOOD = {
    "id": "a",
    "file": "a.txt",
    "title": "A",
    "publisher": "P",
    "date": "2024-03",
    "format": "text",
    "sha256": "0" * 64,
}


def record(**fields) -> str:
    """A [[source]] table: GOOD with `fields` changed (None: left out). Values are written as JSON, which TOML
    reads alike for strings, numbers, booleans and arrays; a Raw value is written as is."""
    d = {**GOOD, **fields}
    return (
        "[[source]]\n"
        + "".join(f"{k} = {v if isinstance(v, Raw) else json.dumps(v)}\n" for k, v in d.items() if v is not None)
        + "\n"
    )


def inline(d: dict) -> str:
    return "{" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in d.items()) + "}"


class Raw(str):
    """A TOML value written as is (a table, a date, a bare word)."""


def write(tmp_path, text: str):
    p = tmp_path / "sources.toml"
    p.write_text(text, encoding="utf-8")
    return p


def problems_of(tmp_path, text: str) -> list[str]:
    with pytest.raises(ManifestInvalid) as info:
        load_manifest(write(tmp_path, text))
    e = info.value
    assert "\n" not in str(e)
    assert str(e).startswith(f"{tmp_path / 'sources.toml'}: ")
    assert str(e).endswith("(`ncmec-qa corpus check` lists every problem one per line)")
    return [p.message for p in e.problems]


# -- every problem, at once ------------------------------------------------------------------------


def test_every_problem_of_a_manifest_is_reported_at_once_with_its_record_and_field(tmp_path):
    text = (
        "format_version = 1\nsourcs = 1\n"
        + record(file=5, date="2024-02-30", sha256="x", supersedes="abc", kind="tertiary", bytes=True, supercedes=["b"])
        + record(id="b", source=None, url="file:///etc/passwd", retrieved_from=Raw("{commit = 5}"))
        + record(id="a", file="c.txt")
    )
    got = problems_of(tmp_path, text)
    assert got == [
        "sourcs is not a manifest setting (did you mean 'source'?)",
        "source #1 (a): file must be a string, not 5",
        "source #1 (a): date must be a real date as YYYY, YYYY-MM or YYYY-MM-DD, not '2024-02-30'",
        "source #1 (a): sha256 must be 64 lowercase hexadecimal characters (a sha256 digest), not 'x'",
        "source #1 (a): bytes must be an integer, not True",
        "source #1 (a): kind must be one of primary, secondary, not 'tertiary'",
        "source #1 (a): supersedes must be a list of source ids, e.g. supersedes = [\"abc\"], not 'abc'",
        "source #1 (a): supercedes is not a field of a source (did you mean 'supersedes'?)",
        "source #2 (b): url must be an http:// or https:// address, not 'file:///etc/passwd'",
        "source #2 (b): retrieved_from.commit must be a string, not 5",
        "source #3 (a): duplicate id 'a' (also source #1)",
    ]
    with pytest.raises(ManifestInvalid, match=r": 11 problems: sourcs is not a manifest setting"):
        load_manifest(tmp_path / "sources.toml")


def test_a_string_where_a_list_of_ids_is_expected_is_not_read_as_its_letters(tmp_path):
    # before the schema, supersedes = "abc" was read as the three ids 'a', 'b', 'c'
    got = problems_of(tmp_path, record(supersedes="abc"))
    assert got == ["source #1 (a): supersedes must be a list of source ids, e.g. supersedes = [\"abc\"], not 'abc'"]


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("file", 5, "file must be a string, not 5"),
        ("title", [], "title must be a string, not []"),
        ("publisher", Raw("{name = 'x'}"), "publisher must be a string, not {'name': 'x'}"),
        ("edition", 2, "edition must be a string, not 2"),
        ("superseded_by", True, "superseded_by must be a string, not True"),
        ("format", 1.5, "format must be a string, not 1.5"),
        ("sha256", "x", "sha256 must be 64 lowercase hexadecimal characters (a sha256 digest), not 'x'"),
        (
            "sha256",
            "AB" * 32,
            "sha256 must be 64 lowercase hexadecimal characters (a sha256 digest), not '" + "AB" * 32 + "'",
        ),
        ("sha256", "0" * 63 + "g", "sha256 must be 64 lowercase hexadecimal characters"),
        ("date", "2024-13", "date must be a real date as YYYY, YYYY-MM or YYYY-MM-DD, not '2024-13'"),
        ("date", "2023-02-29", "date must be a real date as YYYY, YYYY-MM or YYYY-MM-DD, not '2023-02-29'"),
        ("date", "24", "date must be a real date as YYYY, YYYY-MM or YYYY-MM-DD, not '24'"),
        ("date", "2024/01/01", "date must be a real date as YYYY, YYYY-MM or YYYY-MM-DD, not '2024/01/01'"),
        ("date", " 2024", "date must be a real date as YYYY, YYYY-MM or YYYY-MM-DD, not ' 2024'"),
        ("date", 2024, "date must be a date string (YYYY, YYYY-MM or YYYY-MM-DD), not 2024"),
        (
            "date",
            Raw("2024-01-01T10:00:00"),
            ("date must be a date string (YYYY, YYYY-MM or YYYY-MM-DD), not datetime.datetime(2024, 1, 1, 10, 0)"),
        ),
        ("kind", "tertiary", "kind must be one of primary, secondary, not 'tertiary'"),
        ("kind", 1, "kind must be one of primary, secondary, not 1"),
        ("bytes", -1, "bytes must be a number of bytes (0 or more), not -1"),
        ("bytes", 1.5, "bytes must be an integer, not 1.5"),
        ("bytes", "12", "bytes must be an integer, not '12'"),
        ("supersedes", [1], "supersedes[0] must be a string, not 1"),
        ("supersedes", [""], "supersedes must list source ids, not an empty string"),
        ("supersedes", 5, 'supersedes must be a list of source ids, e.g. supersedes = ["other-id"], not 5'),
        ("url", "ftp://example.org/a", "url must be an http:// or https:// address, not 'ftp://example.org/a'"),
        ("url", "example.org", "url must be an http:// or https:// address, not 'example.org'"),
        ("retrieved_from", "github", "retrieved_from must be a table (key = value pairs), not 'github'"),
        ("rights", Raw("2024-01-01"), "rights must be a string, not datetime.date(2024, 1, 1)"),
        ("sha", "0" * 64, "sha is not a field of a source (did you mean 'sha256'?)"),
        (
            "authors",
            "Grimm, Robert",
            'authors must be a list of "Family, Given" names, e.g. authors = ["Grimm, Robert"], not \'Grimm, Robert\'',
        ),
        (
            "authors",
            ["Robert Grimm"],
            'authors must list people as "Family, Given" (e.g. "Grimm, Robert"), '
            "not 'Robert Grimm'; an institution is the publisher, not an author",
        ),
        ("authors", ["Grimm, "], 'authors must list people as "Family, Given"'),
        ("authors", ["Grimm, Robert, Jr"], 'authors must list people as "Family, Given"'),
        ("authors", [3], "authors[0] must be a string, not 3"),
        (
            "colour",
            "red",
            (
                "colour is not a field of a source (known fields: id, file, title, publisher, authors, date, format, "
                "sha256, url, rights, bytes, kind, edition, supersedes, superseded_by, retrieved_from)"
            ),
        ),
    ],
)
def test_each_field_is_checked_by_type_and_form(tmp_path, field, value, message):
    got = problems_of(tmp_path, record(**{field: value}))
    assert len(got) == 1, got
    assert got[0].startswith(f"source #1 (a): {message}"), got[0]


@pytest.mark.parametrize("field", ["id", "file", "title", "publisher", "date", "format", "sha256"])
@pytest.mark.parametrize("value", [None, ""])
def test_a_required_field_missing_or_empty_is_named(tmp_path, field, value):
    got = problems_of(tmp_path, record(**{field: value}))
    where = "source #1" if field == "id" else "source #1 (a)"
    assert got == [f"{where}: missing required field {field!r}"]


def test_an_empty_record_names_all_seven_required_fields(tmp_path):
    got = problems_of(tmp_path, "[[source]]\n")
    assert got == [
        f"source #1: missing required field {f!r}"
        for f in ("id", "file", "title", "publisher", "date", "format", "sha256")
    ]


@pytest.mark.parametrize(
    "text,message",
    [
        ("source = 5\n", "source must be an array of tables (one [[source]] per document), not 5"),
        ("source = 'a.txt'\n", "source must be an array of tables (one [[source]] per document), not 'a.txt'"),
        ("[source]\nid = 'a'\n", "source must be an array of tables (one [[source]] per document), not {'id': 'a'}"),
        ("source = [1]\n", "source #1: must be a table ([[source]] with key = value lines), not 1"),
        ("source = [[1, 2]]\n", "source #1: must be a table ([[source]] with key = value lines), not [1, 2]"),
        ("sources = []\n", "sources is not a manifest setting (did you mean 'source'?)"),
        ("docs = 'x'\n", "docs is not a manifest setting (did you mean 'documents'?)"),
        ("documents = 5\n", "documents must be a folder path (a non-empty string), not 5"),
        ("documents = ''\n", "documents must be a folder path (a non-empty string), not ''"),
    ],
)
def test_malformed_shapes_of_the_whole_manifest_are_one_line_each(tmp_path, text, message):
    assert problems_of(tmp_path, text) == [message]


@pytest.mark.parametrize(
    "text,message",
    [
        ("format_version = '1'\n", "format_version must be the integer 1, not '1'"),
        ("format_version = true\n", "format_version must be the integer 1, not True"),
        ("format_version = 2\n", "manifest format_version 2 is not supported (expected 1)"),
        ("format_version = [\n", "not valid TOML"),
    ],
)
def test_a_manifest_of_another_format_is_refused_before_its_records(tmp_path, text, message):
    with pytest.raises(ManifestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_manifest(write(tmp_path, text))


def test_non_utf8_manifest_is_one_error(tmp_path):
    p = tmp_path / "sources.toml"
    p.write_bytes(b"format_version = 1\ndocuments = '\xff'\n")
    with pytest.raises(ManifestError, match=r"sources\.toml: not valid TOML"):
        load_manifest(p)


def test_an_empty_manifest_is_valid_and_lists_nothing(tmp_path):
    m = load_manifest(write(tmp_path, ""))
    assert m.sources == () and m.problems == () and m.documents is None


# -- ids and references between records -----------------------------------------------------------


def test_duplicate_ids_dangling_references_and_bad_ids_are_located(tmp_path):
    text = (
        record(id="a")
        + record(id="b", file="b.txt", supersedes=["a", "gone"], superseded_by="later-rule")
        + record(id="a", file="c.txt")
        + record(id="Bad_ID", file="d.txt")
        + record(id="c", file="e.txt", superseded_by="Amended in 2024 by a later act")
    )
    assert problems_of(tmp_path, text) == [
        "source #3 (a): duplicate id 'a' (also source #1)",
        "source #4 (Bad_ID): id must be lowercase letters, digits, '.' or '-'",
        "source #2 (b): supersedes 'gone', which is not in the manifest",
        "source #2 (b): superseded_by 'later-rule', which is not in the manifest",
    ]


def test_a_record_that_is_not_a_table_does_not_shift_the_places_of_the_others(tmp_path):
    text = f"source = [5, {inline(GOOD)}, {inline({**GOOD, 'file': 'b.txt'})}]\n"
    assert problems_of(tmp_path, text) == [
        "source #1: must be a table ([[source]] with key = value lines), not 5",
        "source #3 (a): duplicate id 'a' (also source #2)",
    ]


# -- what stays as it was ---------------------------------------------------------------------------


def test_the_reference_manifest_is_read_into_the_same_records_as_the_toml_says():
    data = tomllib.loads(REPO_MANIFEST.read_text(encoding="utf-8"))
    m = load_manifest(REPO_MANIFEST)
    assert m.problems == ()
    expected = tuple(
        Source(**{**d, "supersedes": tuple(d.get("supersedes", ())), "authors": tuple(d.get("authors", ()))})
        for d in data["source"]
    )
    assert m.sources == expected
    assert m.documents == data["documents"]


def test_a_toml_date_is_read_as_the_manifest_string(tmp_path):
    m = load_manifest(write(tmp_path, record(date=Raw("2024-05-17"))))
    assert m.sources[0].date == "2024-05-17"


def test_records_made_in_code_may_give_supersedes_as_a_tuple():
    assert source_from_dict({**GOOD, "supersedes": ("x",)}).supersedes == ("x",)
    with pytest.raises(ManifestError, match=r"^source a: sha256 must be 64 lowercase"):
        source_from_dict({**GOOD, "sha256": "x"})


def test_lenient_reading_keeps_the_good_fields_and_lists_the_bad(tmp_path):
    m = load_manifest(write(tmp_path, record(file=5, supersedes="abc", kind="tertiary")), strict=False)
    (s,) = m.sources
    assert (s.id, s.file, s.supersedes, s.kind, s.title) == ("a", "", (), "primary", "A")
    assert [p.field for p in m.problems] == ["file", "kind", "supersedes"]
    assert all(p.source_id == "a" for p in m.problems)


# -- the command line -------------------------------------------------------------------------------


def _cli_corpus(tmp_path, text: str):
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "a.txt").write_text("Widgets are reported within ten days.\n")
    path = tmp_path / "corpus" / "sources.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return ["--corpus", str(path), "--index", str(tmp_path / "index"), "--docs", str(docs)]


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and "Traceback" not in result.output
    return lines[0]


def test_corpus_check_prints_each_schema_problem_on_its_own_line(tmp_path):
    from ncmec_qa.corpus.manifest import sha256_file

    args = _cli_corpus(tmp_path, "")
    good = {**GOOD, "sha256": sha256_file(tmp_path / "docs" / "a.txt"), "rights": "CC0"}
    (tmp_path / "corpus" / "sources.toml").write_text(
        "format_version = 1\nsourcs = 2\n"
        + "[[source]]\n"
        + "".join(f"{k} = {json.dumps(v)}\n" for k, v in {**good, "supersedes": "abc", "bytes": -3}.items())
    )
    r = run_cli([*args, "corpus", "check"])
    assert r.exit_code == ExitStatus.FAILURE
    lines = r.stdout.splitlines()
    assert lines[:3] == [
        "schema             sourcs is not a manifest setting (did you mean 'source'?)",
        "schema             source #1 (a): bytes must be a number of bytes (0 or more), not -3",
        (
            'schema             source #1 (a): supersedes must be a list of source ids, e.g. supersedes = ["abc"], '
            "not 'abc'"
        ),
    ]
    assert lines[-1].endswith(": 3 problem(s)")
    r = run_cli([*args, "corpus", "check", "--json"])
    got = json.loads(r.stdout)["problems"]
    assert {
        "kind": "schema",
        "source_id": "a",
        "file": "",
        "message": "source #1 (a): bytes must be a number of bytes (0 or more), not -3",
    } in got


@pytest.mark.parametrize(
    "command",
    [["index", "build", "--model", FAKE_MODEL], ["ask", "widgets"], ["search", "widgets"], ["corpus", "list"]],
)
def test_duplicate_ids_are_one_line_and_exit_2_before_any_build_or_query(tmp_path, command):
    args = _cli_corpus(tmp_path, "format_version = 1\n" + record(id="a") + record(id="a"))
    r = run_cli([*args, *command])
    assert r.exit_code == ExitStatus.ERROR
    line = one_error_line(r)
    assert "UNIQUE" not in line
    assert line == (
        f"Error: {tmp_path / 'corpus' / 'sources.toml'}: source #2 (a): duplicate id 'a' (also source #1); "
        "fix it in the manifest (`ncmec-qa corpus check` lists every problem one per line)"
    )
    assert not (tmp_path / "index").exists()


@pytest.mark.parametrize(
    "text",
    ["source = 5\n", "[source]\nid = 5\n", "source = [[]]\n", "format_version = 'one'\n", "x = \n", record(file=5)],
)
def test_no_manifest_makes_a_command_print_a_traceback(tmp_path, text):
    args = _cli_corpus(tmp_path, text)
    for command in (["ask", "widgets"], ["index", "build", "--model", FAKE_MODEL], ["corpus", "check"]):
        r = run_cli([*args, *command])
        assert r.exit_code in (ExitStatus.FAILURE, ExitStatus.ERROR), (command, r.output)
        assert "Traceback" not in r.output
        if command[0] != "corpus":
            one_error_line(r)
