"""The `ncmec-qa` command line, in-process with click's CliRunner and the fake embedder."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from conftest import (
    FAKE_MODEL,
    PASSAGE_KEYS,
    SOURCE_KEYS,
    TINY_DOCS,
    assert_answer_contract,
    location_args,
    run_cli,
)

from ncmec_qa import __version__
from ncmec_qa.cli.commands import main
from ncmec_qa.errors import IndexMissing
from ncmec_qa.index.store import Index

# Questions that repeat most words of the sentence that answers them, so that even the fake
# embedder scores that sentence far above any abstention threshold tuned for the real model.
KEEP_QUESTION = "Does the registry keep every report for ninety days?"
FINE_QUESTION = "Does an operator that never files a report pay a fine of up to $5,000 for each widget?"
KEEP_SENTENCE = "The registry keeps every report for ninety days."
OFF_TOPIC = "Which planets have rings made of ice?"


@pytest.fixture
def built(tiny_corpus, tmp_path):
    """(location args, index dir, build report) for the tiny corpus indexed through the CLI."""
    index_dir = tmp_path / "index"
    args = location_args(tiny_corpus, index_dir)
    result = run_cli([*args, "index", "build", "--json", "--model", FAKE_MODEL])
    assert result.exit_code == 0, result.output
    return args, index_dir, json.loads(result.stdout)


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("Error: "), lines[0]
    assert "Traceback" not in result.output
    return lines[0]


# -- index ------------------------------------------------------------------------------------------


def test_index_build_json(built, tiny_corpus):
    _, index_dir, report = built
    assert report["documents"] == len(TINY_DOCS)
    assert report["passages"] == report["embedded"] > 0
    assert report["reused"] == report["dropped"] == 0
    assert report["failures"] == [] and report["warnings"] == []
    assert Path(report["index_path"]).parent == index_dir
    assert isinstance(report["seconds"], float)


def test_index_build_twice_reuses_everything_and_says_so(built):
    args, _, first = built
    result = run_cli([*args, "index", "build", "--model", FAKE_MODEL])
    assert result.exit_code == 0
    assert result.stdout.startswith(
        f"indexed {len(TINY_DOCS)} documents, {first['passages']} passages "
        f"(0 embedded, {first['passages']} reused, 0 dropped)"
    )
    assert result.stdout.rstrip().endswith("; 0 failed")


def test_index_build_quiet_leaves_stderr_empty(tiny_corpus, tmp_path):
    result = run_cli([*location_args(tiny_corpus, tmp_path / "i"), "-q", "index", "build", "--model", FAKE_MODEL])
    assert result.exit_code == 0 and result.stderr == ""


def test_index_status_json_and_staleness(built, tiny_corpus):
    args, index_dir, report = built
    result = run_cli([*args, "index", "status", "--json"])
    assert result.exit_code == 0, result.output
    st = json.loads(result.stdout)
    assert st["stale"] is False and st["stale_reason"] is None
    assert st["model"] == FAKE_MODEL and st["dimension"] == 64
    assert st["counts"]["documents"] == len(TINY_DOCS) and st["counts"]["passages"] == report["passages"]
    assert st["path"] == report["index_path"]
    assert st["failures"] == []

    tiny_corpus.add("tiny-extra", "extra.txt", b"An extra note about widget audits.\n", "text")
    st = json.loads(run_cli([*args, "index", "status", "--json"]).stdout)
    assert st["stale"] is True
    assert "ncmec-qa index build" in st["stale_reason"]
    text = run_cli([*args, "index", "status"])
    assert text.exit_code == 3 and "status:    STALE: index is stale" in text.stdout  # does not match the corpus


def test_index_path(tiny_corpus, tmp_path):
    result = run_cli([*location_args(tiny_corpus, tmp_path / "somewhere"), "index", "path"])
    assert result.exit_code == 0 and result.stdout == f"{tmp_path / 'somewhere'}\n"


def test_locations_come_from_the_environment_too(built, tiny_corpus):
    _, index_dir, _ = built
    from click.testing import CliRunner

    env = {
        "NCMEC_QA_CORPUS": str(tiny_corpus.manifest_path),
        "NCMEC_QA_INDEX": str(index_dir),
        "NCMEC_QA_DOCS": str(tiny_corpus.docs),
        "NCMEC_QA_MODEL": None,
    }
    result = CliRunner().invoke(main, ["index", "status", "--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and json.loads(result.stdout)["stale"] is False


# -- search ------------------------------------------------------------------------------------------


def test_search_json_shape(built):
    args, index_dir, _ = built
    result = run_cli([*args, "search", "serial number of the widget", "--json", "-k", "4"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["query"] == "serial number of the widget"
    assert 1 <= len(out["passages"]) <= 4
    idx = Index(index_dir)
    for p in out["passages"]:
        assert set(p) == PASSAGE_KEYS
        assert idx.document_text(p["source_id"])[p["start"] : p["end"]] == p["text"]
        assert p["file"] == TINY_DOCS[p["source_id"]][0]
    assert out["passages"][0]["source_id"] == "tiny-handbook"
    scores = [p["score"] for p in out["passages"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_search_source_filter_and_modes(built, mode):
    args, _, _ = built
    result = run_cli(
        [*args, "search", "widget reports", "--json", "--mode", mode, "--source", "tiny-notes", "--source", "tiny-pdf"]
    )
    assert result.exit_code == 0, result.output
    got = {p["source_id"] for p in json.loads(result.stdout)["passages"]}
    assert got and got <= {"tiny-notes", "tiny-pdf"}


def test_search_text_output(built):
    args, _, _ = built
    result = run_cli([*args, "search", "ninety days"])
    assert result.exit_code == 0
    assert result.stdout.startswith("1. tiny-notes:")


# -- ask -----------------------------------------------------------------------------------------------


def test_ask_json_follows_the_contract(built, tiny_corpus):
    args, index_dir, _ = built
    result = run_cli([*args, "ask", KEEP_QUESTION, "--json"])
    assert result.exit_code == 0, result.output
    a = json.loads(result.stdout)
    assert a["question"] == KEEP_QUESTION and a["answered"] is True
    assert KEEP_SENTENCE in [s["text"] for s in a["answer"]]
    for s in a["sources"]:
        assert SOURCE_KEYS <= set(s)
    src = next(s for s in a["sources"] if s["quote"] == KEEP_SENTENCE)
    assert (src["source_id"], src["file"], src["title"], src["publisher"], src["date"]) == (
        "tiny-notes",
        "notes.txt",
        "Registry field notes",
        "ncmec-qa test fixtures",
        "2024-01-01",
    )
    assert src["page"] is None and src["section"] == ""
    assert tiny_corpus.path("tiny-notes").read_text()[src["start"] : src["end"]] == KEEP_SENTENCE
    idx = Index(index_dir)
    assert_answer_contract(a, idx, tiny_corpus.manifest())


def test_ask_json_cites_pages_sections_and_urls(built, tiny_corpus):
    args, index_dir, _ = built
    idx = Index(index_dir)
    for q, sid, check in [
        ("Did the registry audit find forty missing widget reports?", "tiny-pdf", lambda s: s["page"] == 1),
        (
            "What does a widget report include besides the serial number of the widget?",
            "tiny-handbook",
            lambda s: s["section"].endswith("(b) Contents") and s["url"] == "https://example.org/tiny-handbook",
        ),
    ]:
        # the abstainer's judgment of the fake embedder's evidence is not what this test is about
        a = json.loads(run_cli([*args, "ask", q, "--json", "--min-confidence", "0"]).stdout)
        assert a["answered"], q
        assert_answer_contract(a, idx, tiny_corpus.manifest())
        cited = [s for s in a["sources"] if s["source_id"] == sid]
        assert cited and all(check(s) for s in cited), a["sources"]


def test_ask_json_abstains(built, tiny_corpus):
    args, index_dir, _ = built
    a = json.loads(run_cli([*args, "ask", OFF_TOPIC, "--json"]).stdout)
    assert a["answered"] is False and a["answer"] == [] and a["sources"] == []
    assert a["passages"]
    assert_answer_contract(a, Index(index_dir), tiny_corpus.manifest())


@pytest.mark.parametrize("arg", [[], ["-"]])
def test_ask_reads_questions_from_stdin_one_json_object_per_line(built, tiny_corpus, arg):
    args, index_dir, _ = built
    questions = [KEEP_QUESTION, OFF_TOPIC, FINE_QUESTION]
    result = run_cli([*args, "ask", *arg, "--json"], input="\n".join(questions[:2]) + "\n\n  \n" + questions[2] + "\n")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3, result.stdout
    answers = [json.loads(ln) for ln in lines]
    assert [a["question"] for a in answers] == questions
    assert [a["answered"] for a in answers] == [True, False, True]
    idx = Index(index_dir)
    for a in answers:
        assert_answer_contract(a, idx, tiny_corpus.manifest())


def test_ask_text_output(built):
    args, _, _ = built
    result = run_cli([*args, "ask", KEEP_QUESTION])
    assert result.exit_code == 0
    out = result.stdout
    assert f"“{KEEP_SENTENCE}” [" in out
    assert "Sources" in out and "Registry field notes. ncmec-qa test fixtures. 2024-01-01" in out


def test_ask_markdown_output(built):
    args, _, _ = built
    result = run_cli([*args, "ask", KEEP_QUESTION, "--markdown"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"**Q:** {KEEP_QUESTION}\n")
    assert any(ln.startswith(f"> {KEEP_SENTENCE} [") for ln in result.stdout.splitlines())


def test_ask_warns_on_a_stale_index_answers_and_exits_3(built, tiny_corpus):
    args, _, _ = built
    tiny_corpus.add("tiny-extra", "extra.txt", b"An extra note about widget audits.\n", "text")
    result = run_cli([*args, "ask", KEEP_QUESTION, "--json"])
    assert result.exit_code == 3  # ExitStatus.INDEX: the answer is printed, the status says it may be out of date
    assert result.stderr.startswith("warning: index is stale") and "ncmec-qa index build" in result.stderr
    assert json.loads(result.stdout)["answered"] is True


# -- eval --------------------------------------------------------------------------------------------------


def test_eval_on_a_tiny_question_set(built, tmp_path):
    args, _, _ = built
    qs = tmp_path / "questions.jsonl"
    records = [
        {
            "id": "t-1",
            "question": KEEP_QUESTION,
            "answerable": True,
            "evidence": [{"file": "notes.txt", "quote": "keeps every report for ninety days"}],
        },
        {
            "id": "t-2",
            "question": FINE_QUESTION,
            "answerable": True,
            "evidence": [{"file": "handbook/handbook.md", "quote": "pays a fine of up to $5,000"}],
        },
        {"id": "t-3", "question": OFF_TOPIC, "answerable": False, "evidence": []},
    ]
    qs.write_text("\n".join(json.dumps(r) for r in records) + "\n\n")
    result = run_cli([*args, "eval", str(qs), "--json"])
    assert result.exit_code == 0, result.output
    rep = json.loads(result.stdout)
    assert (rep["n_answerable"], rep["n_unanswerable"]) == (2, 1)
    assert [r["id"] for r in rep["results"]] == ["t-1", "t-2", "t-3"]
    by_id = {r["id"]: r for r in rep["results"]}
    # each gold quote is in exactly one passage of the tiny corpus, and the question shares its words
    assert by_id["t-1"]["rank"] is not None and by_id["t-1"]["rank"] <= 3
    assert by_id["t-2"]["rank"] is not None and by_id["t-2"]["rank"] <= 3
    assert by_id["t-3"]["rank"] is None and by_id["t-3"]["answered"] is False
    assert rep["abstained_correct"] == 1 and rep["answered_correct"] == 2
    assert rep["hits_at"]["@5"] == 2 and rep["recall"]["@5"] == 1.0
    ranks = [by_id["t-1"]["rank"], by_id["t-2"]["rank"]]
    assert rep["mrr"] == pytest.approx(sum(1 / r for r in ranks) / 2, abs=1e-4)

    text = run_cli([*args, "eval", str(qs)])
    assert text.exit_code == 0
    assert "answerable questions: 2" in text.stdout and "abstained: 1/1" in text.stdout


def test_eval_rejects_a_malformed_question_file(built, tmp_path):
    args, _, _ = built
    qs = tmp_path / "bad.jsonl"
    qs.write_text('{"id": "x", "question": "ok?", "answerable": true, "evidence": []}\n{"question": "no id"}\n')
    result = run_cli([*args, "eval", str(qs)])
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "bad.jsonl, line 2: not a question record" in line


# -- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cmd", [["ask", "anything"], ["search", "anything"], ["index", "status"], ["ask", "anything", "--json"]]
)
def test_missing_index_is_exit_3_and_one_line(tiny_corpus, tmp_path, cmd):
    result = run_cli([*location_args(tiny_corpus, tmp_path / "no-index"), *cmd])
    assert result.exit_code == 3
    line = one_error_line(result)
    assert "no index at" in line and "ncmec-qa index build" in line
    assert result.stdout == ""


def test_corrupt_index_is_exit_3(built):
    args, index_dir, report = built
    (Path(report["index_path"]) / "store.sqlite").write_bytes(b"garbage" * 100)
    result = run_cli([*args, "ask", KEEP_QUESTION])
    assert result.exit_code == 3
    assert "rebuild" in one_error_line(result)


def test_missing_manifest_is_exit_2(tmp_path):
    result = run_cli(
        [
            "--corpus",
            str(tmp_path / "nope.toml"),
            "--index",
            str(tmp_path / "i"),
            "index",
            "build",
            "--model",
            FAKE_MODEL,
        ]
    )
    assert result.exit_code == 2
    assert one_error_line(result).startswith("Error: manifest not found:")


def test_unknown_model_is_an_error_not_a_download(tiny_corpus, tmp_path):
    result = run_cli(
        [
            *location_args(tiny_corpus, tmp_path / "i"),
            "-q",
            "index",
            "build",
            "--model",
            "someone/some-model-that-is-not-here",
        ]
    )
    assert result.exit_code == 2
    assert "never downloaded" in one_error_line(result)


def test_traceback_flag_re_raises(tiny_corpus, tmp_path):
    with pytest.raises(IndexMissing):
        run_cli(
            [*location_args(tiny_corpus, tmp_path / "no-index"), "--traceback", "ask", "anything"],
            catch_exceptions=False,
        )


# -- help and version --------------------------------------------------------------------------------------


def walk(cmd: click.Command, path: tuple[str, ...] = ()):
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from walk(sub, (*path, name))


def test_every_command_has_help_text():
    commands = list(walk(main))
    names = {" ".join(p) for p, _ in commands}
    assert {"index", "index build", "index status", "index path", "search", "ask", "eval"} <= names
    for path, cmd in commands:
        assert (cmd.help or "").strip(), f"`ncmec-qa {' '.join(path)}` has no help text"
        assert (cmd.get_short_help_str() or "").strip()
        for param in cmd.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert (param.help or "").strip(), f"`ncmec-qa {' '.join(path)}` option {param.opts} has no help"
        result = run_cli([*path, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.stdout


def test_version():
    result = run_cli(["--version"])
    assert result.exit_code == 0 and result.stdout == f"ncmec-qa, version {__version__}\n"
