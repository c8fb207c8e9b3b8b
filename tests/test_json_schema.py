"""Machine output: every command's --json against its JSON Schema (src/ncmec_qa/schemas), JSON Lines where
results stream, `verify` reading stdin, and the exit codes of README's table, each produced and checked."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from conftest import FAKE_MODEL, REPO, location_args, run_cli, write_tiny_corpus

from ncmec_qa import schemas
from ncmec_qa.cli.commands import main
from ncmec_qa.cli.inputs import EXIT_BROKEN_PIPE
from ncmec_qa.errors import ExitStatus

KEEP_QUESTION = "Does the registry keep every report for ninety days?"
OFF_TOPIC = "Which planets have rings made of ice?"  # the fake embedder's answer abstains
SUPPORTED_CLAIM = "The registry keeps every report for ninety days."
CONTRADICTED_CLAIM = "Every operator shall file a widget report within 45 days of discovery."
NOT_FOUND_CLAIM = "Lighthouse keepers polish the brass lamps every Tuesday."


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The tiny corpus indexed through the CLI once for this module: (location args, corpus, build output)."""
    root = tmp_path_factory.mktemp("json")
    corpus = write_tiny_corpus(root)
    args = location_args(corpus, root / "index")
    r = run_cli([*args, "index", "build", "--json", "--model", FAKE_MODEL])
    assert r.exit_code == 0, r.output
    questions = root / "questions.jsonl"
    questions.write_text(
        json.dumps(
            {
                "id": "t-1",
                "question": KEEP_QUESTION,
                "answerable": True,
                "evidence": [{"file": "notes.txt", "quote": "keeps every report for ninety days"}],
            }
        )
        + "\n"
        + json.dumps({"id": "t-2", "question": OFF_TOPIC, "answerable": False, "evidence": []})
        + "\n",
        encoding="utf-8",
    )
    return args, corpus, r.stdout, questions


def documents_of(result) -> list[dict]:
    docs = schemas.parse_output(result.stdout)
    assert docs, f"no JSON on stdout:\n{result.output}"
    for d in docs:
        assert list(d)[:2] == ["schema_version", "type"], list(d)[:3]
        assert d["schema_version"] == schemas.SCHEMA_VERSION
        problems = schemas.errors(d)
        assert not problems, f"{d['type']} departs from its schema:\n" + "\n".join(problems)
    return docs


# command -> (arguments after the command, stdin, exit status, the types printed in order)
CASES = {
    "ask": (["ask", KEEP_QUESTION, "--json", "--cite-format", "csl-json"], None, 0, ["answer"]),
    "search": (["search", "report ninety days", "--json"], None, 0, ["search"]),
    "verify": (["verify", SUPPORTED_CLAIM, "--json", "--cite-format", "ris"], None, 0, ["verdict"]),
    "cite": (["cite", "tiny-notes:39-87", "--json", "--format", "bibtex"], None, 0, ["cite"]),
    "open": (["open", "tiny-notes:39-87", "--print", "--json"], None, 0, ["open"]),
    "eval": (["eval", "{questions}", "--json"], None, 0, ["eval"]),
    "index status": (["index", "status", "--json"], None, 0, ["index_status"]),
    "index verify": (["index", "verify", "--json"], None, 0, ["index_verify"]),
    "index path": (["index", "path", "--json"], None, 0, ["index_path"]),
    "corpus list": (["corpus", "list", "--json"], None, 0, ["corpus_list"]),
    "corpus show": (["corpus", "show", "tiny-notes", "--json"], None, 0, ["corpus_show"]),
    "corpus path": (["corpus", "path", "--json"], None, 0, ["corpus_path"]),
    "corpus check": (["corpus", "check", "--json"], None, 1, ["corpus_check"]),  # the fixtures lack `rights`, …
    "corpus sync": (["corpus", "sync", "--from", "{docs}", "--json"], None, 0, ["corpus_sync"]),
}
# commands that change the corpus or need the training sets: tested below, each on its own copy
SEPARATE = {
    "index build",
    "corpus add",
    "corpus remove",
    "train",
    # validated in test_config.py (they read and write a config file of their own)
    "config",
    "config show",
    "config path",
    "config set",
    "config unset",
}


@pytest.mark.parametrize("command", sorted(CASES))
def test_json_output_validates_against_its_schema(built, command):
    args, corpus, _, questions = built
    argv, stdin, status, kinds = CASES[command]
    argv = [a.format(questions=questions, docs=corpus.docs) for a in argv]
    r = run_cli([*args, *argv], input=stdin)
    assert r.exit_code == status, r.output
    assert [d["type"] for d in documents_of(r)] == kinds
    assert kinds[0] in schemas.COMMANDS[command]


def test_index_build_json_validates(built):
    docs = schemas.parse_output(built[2])
    assert [d["type"] for d in docs] == ["index_build"] and not schemas.errors(docs[0])
    assert docs[0]["exit_status"] == 0 and docs[0]["documents"] == 6


def test_corpus_add_and_remove_json_validate(tmp_path):
    corpus = write_tiny_corpus(tmp_path)
    args = location_args(corpus, tmp_path / "index")
    new = tmp_path / "gizmo.txt"
    new.write_text("The gizmo depot opens at seven every morning.\n", encoding="utf-8")
    r = run_cli(
        [
            *args,
            "corpus",
            "add",
            str(new),
            "--title",
            "Gizmo",
            "--publisher",
            "Depot",
            "--date",
            "2025-01-02",
            "--rights",
            "CC0",
            "--url",
            "https://example.org/g",
            "--json",
        ]
    )
    assert r.exit_code == 0, r.output
    (added,) = documents_of(r)
    assert added["type"] == "corpus_add" and added["added"]["source_id"] == "gizmo" and "id" not in added["added"]
    r = run_cli([*args, "corpus", "remove", "gizmo", "--json"])
    assert r.exit_code == 0, r.output
    assert documents_of(r) == [
        {
            "schema_version": "1",
            "type": "corpus_remove",
            "removed": "gizmo",
            "file": "gizmo.txt",
            "deleted": False,
            "dropped_references": [],
        }
    ]


def test_train_json_validates(built, tmp_path, monkeypatch):
    import ncmec_qa.learn.train as train

    report = {
        "questions": {
            "abstainer": {
                "cv_auc": 0.5,
                "cv": {
                    "threshold": 0.3,
                    "answerable answered": 1,
                    "answerable": 2,
                    "unanswerable abstained": 1,
                    "unanswerable": 2,
                },
            }
        },
        "claims": {"cv": {"accuracy": 0.5, "contradicted recall": 0.5, "not_in_corpus called supported": 0.0}},
    }
    monkeypatch.setattr(train, "train_all", lambda ws, data, log=None: (object(), report))
    monkeypatch.setattr(train, "save_models", lambda models, out: [])
    for name in ("questions.jsonl", "claims.jsonl"):
        (tmp_path / name).write_text("", encoding="utf-8")
    r = run_cli([*built[0], "train", "--data", str(tmp_path), "--out", str(tmp_path / "models"), "--json"])
    assert r.exit_code == 0, r.output
    (doc,) = documents_of(r)
    assert doc["type"] == "train" and doc["claims"] == report["claims"]


def test_every_command_with_results_has_json_and_a_schema():
    """Walk the click command tree: a command without --json, a schema or a test here fails this test."""
    found = {}

    def walk(group: click.Group, path: tuple[str, ...] = ()) -> None:
        for name, cmd in group.commands.items():
            if isinstance(cmd, click.Group):
                walk(cmd, (*path, name))
            else:
                found[" ".join((*path, name))] = cmd

    walk(main)
    for name, cmd in sorted(found.items()):
        flags = {o for p in cmd.params for o in getattr(p, "opts", [])}
        assert "--json" in flags, f"`ncmec-qa {name}` prints results but has no --json"
        assert name in schemas.COMMANDS, f"`ncmec-qa {name}`: no document type in schemas.COMMANDS"
        assert name in CASES or name in SEPARATE, f"`ncmec-qa {name}`: its --json is validated by no test"
    assert set(schemas.COMMANDS) == set(found), set(schemas.COMMANDS) ^ set(found)
    used = {k for kinds in schemas.COMMANDS.values() for k in kinds}
    assert used == set(schemas.names()), used ^ set(schemas.names())


def test_schemas_are_draft_2020_12_and_named_by_their_type():
    schemas.check_schemas()
    for kind in schemas.names():
        assert schemas.load(kind)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_validation_rejects_what_departs_from_the_schema(built):
    r = run_cli([*built[0], "ask", KEEP_QUESTION, "--json"])
    doc = json.loads(r.stdout)
    assert schemas.errors(doc) == []
    del doc["sources"][0]["quote"]
    doc["extra"] = 1
    problems = schemas.errors(doc)
    assert any(p.startswith("sources/0: 'quote' is a required property") for p in problems), problems
    assert any("'extra' was unexpected" in p for p in problems), problems
    assert schemas.errors({**doc, "schema_version": "0"}) == ["schema_version is '0', not '1'"]
    assert schemas.errors([doc])[0].startswith("not a typed document")


# -- JSON Lines ----------------------------------------------------------------------------------------


def test_ask_from_stdin_prints_one_answer_per_line(built):
    r = run_cli([*built[0], "ask", "-", "--json"], input=f"{KEEP_QUESTION}\n\n{OFF_TOPIC}\n")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert len(lines) == 2  # JSON Lines: one compact document per question, the empty line skipped
    docs = [json.loads(line) for line in lines]
    assert [(d["type"], d["question"], d["answered"]) for d in docs] == [
        ("answer", KEEP_QUESTION, True),
        ("answer", OFF_TOPIC, False),
    ]
    assert all(not schemas.errors(d) for d in docs)


def test_verify_file_streams_verdicts_then_a_summary_with_counts(built, tmp_path):
    art = tmp_path / "article.md"
    art.write_text(f"# Notes\n\n{CONTRADICTED_CLAIM}\n\n{SUPPORTED_CLAIM}\n", encoding="utf-8")
    r = run_cli([*built[0], "-q", "verify", "--file", str(art), "--json"])
    assert r.exit_code == 1, r.output
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [d["type"] for d in docs] == ["skipped", "verdict", "verdict", "summary"]  # the heading is skipped
    assert all(not schemas.errors(d) for d in docs)
    assert docs[0]["skip"] == "heading" and docs[0]["text"] == "Notes"
    assert [d["sentence"] for d in docs[1:3]] == [2, 3]
    assert docs[-1] == {
        "schema_version": "1",
        "type": "summary",
        "source": str(art),
        "checked": 2,
        "counts": {"supported": 1, "contradicted": 1, "not_found": 0},
        "ok": False,
        "exit_status": 1,
        "sentences": 3,
        "skipped": 1,
    }


# -- verify reads stdin -----------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["verify"], ["verify", "-"]])
def test_verify_reads_claims_one_per_line_from_stdin(built, argv):
    r = run_cli([*built[0], *argv, "--json"], input=f"{SUPPORTED_CLAIM}\n{CONTRADICTED_CLAIM}\n")
    assert r.exit_code == 1, r.output  # one of them is contradicted
    docs = documents_of(r)
    assert [(d["type"], d.get("claim"), d.get("verdict")) for d in docs] == [
        ("verdict", SUPPORTED_CLAIM, "supported"),
        ("verdict", CONTRADICTED_CLAIM, "contradicted"),
        ("summary", None, None),
    ]
    assert docs[-1]["checked"] == 2 and docs[-1]["source"] is None
    r = run_cli([*built[0], *argv], input=f"{SUPPORTED_CLAIM}\n")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("supported: ")
    assert r.stdout.rstrip().endswith("1 claims checked: 1 supported, 0 contradicted, 0 not found")


def test_verify_file_dash_reads_the_article_from_stdin(built):
    r = run_cli([*built[0], "-q", "verify", "--file", "-", "--json"], input=f"# Notes\n\n{SUPPORTED_CLAIM}\n")
    assert r.exit_code == 0, r.output
    docs = documents_of(r)
    assert [d["type"] for d in docs] == ["skipped", "verdict", "summary"]
    assert docs[1]["claim"] == SUPPORTED_CLAIM and docs[2]["source"] == "-"


# -- exit codes ----------------------------------------------------------------------------------------


@pytest.fixture
def stale(tmp_path):
    """A tiny corpus whose manifest gained a source after its index was built."""
    corpus = write_tiny_corpus(tmp_path)
    args = location_args(corpus, tmp_path / "index")
    assert run_cli([*args, "-q", "index", "build", "--model", FAKE_MODEL]).exit_code == 0
    corpus.add("tiny-extra", "extra.txt", b"An extra note about widget audits.\n", "text")
    return args


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", KEEP_QUESTION, "--json"],
        ["search", "ninety days", "--json"],
        ["verify", SUPPORTED_CLAIM, "--json"],
        ["index", "status", "--json"],
    ],
)
def test_a_stale_index_exits_3_after_printing_its_results(stale, argv):
    r = run_cli([*stale, *argv])
    assert r.exit_code == ExitStatus.INDEX == 3, r.output
    assert documents_of(r)  # the results are printed all the same
    if argv[0] != "index":
        assert r.stderr.startswith("warning: index is stale") and "`ncmec-qa index build`" in r.stderr


def test_stale_outranks_refused_input_and_abstention(stale):
    r = run_cli([*stale, "ask", "-", "--json", "--fail-on-abstain"], input=b"\xff\xfe bad\n" + OFF_TOPIC.encode())
    assert r.exit_code == 3, r.output
    assert "stdin line 1 is not UTF-8 text" in r.stderr


def test_abstention_exits_0_unless_fail_on_abstain(built):
    r = run_cli([*built[0], "ask", OFF_TOPIC, "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["answered"] is False
    r = run_cli([*built[0], "ask", OFF_TOPIC, "--json", "--fail-on-abstain"])
    assert r.exit_code == ExitStatus.FAILURE == 1 and json.loads(r.stdout)["answered"] is False
    r = run_cli([*built[0], "ask", KEEP_QUESTION, "--fail-on-abstain"])
    assert r.exit_code == 0, r.output  # answered
    r = run_cli([*built[0], "ask", "-", "--json", "--fail-on-abstain"], input=f"{KEEP_QUESTION}\n{OFF_TOPIC}\n")
    assert r.exit_code == 1 and len(r.stdout.splitlines()) == 2


def test_verify_contradicted_exits_1_and_not_found_only_with_fail_on_not_found(built):
    r = run_cli([*built[0], "verify", CONTRADICTED_CLAIM, "--json"])
    assert r.exit_code == 1 and json.loads(r.stdout)["verdict"] == "contradicted"
    r = run_cli([*built[0], "verify", NOT_FOUND_CLAIM, "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["verdict"] == "not_found"
    r = run_cli([*built[0], "verify", NOT_FOUND_CLAIM, "--json", "--fail-on-not-found"])
    assert r.exit_code == 1 and json.loads(r.stdout)["verdict"] == "not_found"
    r = run_cli([*built[0], "verify", "-", "--json", "--fail-on-not-found"], input=f"{NOT_FOUND_CLAIM}\n")
    assert r.exit_code == 1 and json.loads(r.stdout.splitlines()[-1])["exit_status"] == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["ask", KEEP_QUESTION, "-k", "0"], "Invalid value for '-k' / '--top'"),
        (["search", "widgets", "--source", "tiny-note"], "--source 'tiny-note': no source with this id"),
        (["verify", "", "--json"], "Error: the claim is empty"),
        (["cite", "no-such-source:0-10", "--json"], "Error: "),
    ],
)
def test_bad_input_exits_2_with_nothing_on_stdout(built, argv, message):
    r = run_cli([*built[0], *argv])
    assert r.exit_code == ExitStatus.ERROR == 2, r.output
    assert r.stdout == "" and message in r.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", KEEP_QUESTION, "--json"],
        ["verify", SUPPORTED_CLAIM, "--json"],
        ["search", "widgets", "--json"],
        ["index", "status", "--json"],
    ],
)
def test_a_missing_index_exits_3_naming_the_fix(built, tmp_path, argv):
    corpus = built[1]
    r = run_cli([*location_args(corpus, tmp_path / "nothing-here"), *argv])
    assert r.exit_code == ExitStatus.INDEX == 3, r.output
    assert r.stdout == "" and "no index at" in r.stderr and "`ncmec-qa index build`" in r.stderr


# -- the documented table --------------------------------------------------------------------------------


def exit_table(text: str, heading: str) -> dict[int, tuple[str, str]]:
    """The rows `| code | name | meaning |` of the table under `heading`."""
    section = text.split(heading, 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `?(\d+)`? \| `?([A-Z_]*|—)`? \| (.+?) \|$", section, re.M)
    return {int(code): (name, meaning) for code, name, meaning in rows}


def test_readme_and_docs_exit_tables_match_exit_status():
    readme = exit_table((REPO / "README.md").read_text(encoding="utf-8"), "### Exit codes")
    docs = exit_table((REPO / "docs" / "json.md").read_text(encoding="utf-8"), "## Exit codes")
    assert readme == docs
    enum = {int(s): s.name for s in ExitStatus}
    assert {c: n for c, (n, _) in readme.items() if c in enum} == enum, readme
    assert set(readme) == set(enum) | {130, EXIT_BROKEN_PIPE}, sorted(readme)


def test_docs_json_describes_every_document_type():
    text = (REPO / "docs" / "json.md").read_text(encoding="utf-8")
    for kind in schemas.names():
        assert f"`{kind}`" in text and f"{kind}.schema.json" in text, kind
    for command in schemas.COMMANDS:
        assert f"`ncmec-qa {command}" in text, command
    assert "## Changes in schema 1" in text
    assert (REPO / "README.md").read_text(encoding="utf-8").count("docs/json.md") >= 1


def test_schemas_ship_inside_the_package():
    here = Path(schemas.__file__).parent
    assert sorted(p.name for p in here.glob("*.schema.json")) == sorted(
        [f"{k}.schema.json" for k in schemas.names()] + ["common.schema.json"]
    )
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert '"ncmec_qa.schemas" = ["*.json"]' in pyproject
