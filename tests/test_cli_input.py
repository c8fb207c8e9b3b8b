"""What `ask`, `search` and `verify` take from the user: one-line errors for bad input, never a traceback or a silent guess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import FAKE_MODEL, REPO, TINY_DOCS, location_args, run_cli

from ncmec_qa.cli.inputs import EXIT_BROKEN_PIPE

KEEP_QUESTION = "Does the registry keep every report for ninety days?"
OFF_TOPIC = "Which planets have rings made of ice?"


@pytest.fixture
def args(tiny_corpus, tmp_path):
    """Location args of the tiny corpus, indexed with the fake embedder."""
    a = location_args(tiny_corpus, tmp_path / "index")
    r = run_cli([*a, "-q", "index", "build", "--model", FAKE_MODEL])
    assert r.exit_code == 0, r.output
    return a


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("Error: ") and "Traceback" not in result.output, lines[0]
    return lines[0]


# -- empty arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command,message",
    [
        (["ask", ""], "Error: the question is empty; give a QUESTION, or - to read one question per line from stdin"),
        (
            ["ask", "   "],
            "Error: the question is empty; give a QUESTION, or - to read one question per line from stdin",
        ),
        (["search", ""], "Error: the query is empty; give the words to search for"),
        (["search", " \t"], "Error: the query is empty; give the words to search for"),
        (
            ["verify", ""],
            "Error: the claim is empty; give a CLAIM, - to read one claim per line from stdin, or --file ARTICLE",
        ),
        (
            ["verify", "  "],
            "Error: the claim is empty; give a CLAIM, - to read one claim per line from stdin, or --file ARTICLE",
        ),
    ],
)
def test_an_empty_argument_is_an_error_and_stdin_is_not_read(args, command, message):
    r = run_cli([*args, *command], input=KEEP_QUESTION + "\n")
    assert r.exit_code == 2
    assert one_error_line(r) == message
    assert r.stdout == ""


# -- -k ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["ask", KEEP_QUESTION],
        ["search", "report"],
        ["verify", "Reports are kept."],
        ["eval", str(REPO / "pyproject.toml")],
    ],
)
@pytest.mark.parametrize("k", ["0", "-1"])
def test_k_below_one_is_refused_by_name(args, command, k):
    r = run_cli([*args, *command, "-k", k])
    assert r.exit_code == 2
    assert f"Invalid value for '-k' / '--top': {k} is not in the range x>=1." in r.stderr
    assert r.stdout == "" and "Traceback" not in r.output


def test_k_of_one_is_taken(args):
    r = run_cli([*args, "search", "report", "-k", "1", "--json"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)["passages"]) == 1


# -- source ids -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["ask", KEEP_QUESTION], ["search", "report"], ["verify", "Reports are kept."]])
@pytest.mark.parametrize("option", ["--source", "--exclude-source"])
def test_an_unknown_source_id_is_refused_naming_it_and_the_known_ids(args, tiny_corpus, command, option):
    r = run_cli([*args, *command, "--source", "tiny-notes", option, "tiny-note"])
    assert r.exit_code == 2
    line = one_error_line(r)
    assert line == (
        f"Error: {option} 'tiny-note': no source with this id in {tiny_corpus.manifest_path}; "
        f"did you mean 'tiny-notes'? known ids: {', '.join(TINY_DOCS)}"
    )
    assert r.stdout == ""


def test_an_unknown_source_id_without_a_near_one_lists_the_known_ids(args):
    line = one_error_line(run_cli([*args, "search", "report", "--source", "zzz"]))
    assert line.endswith(f"; known ids: {', '.join(TINY_DOCS)}") and "did you mean" not in line


def test_known_source_ids_still_filter(args):
    r = run_cli([*args, "search", "report", "--source", "tiny-notes", "--json"])
    assert r.exit_code == 0, r.output
    assert {p["source_id"] for p in json.loads(r.stdout)["passages"]} == {"tiny-notes"}


# -- stdin sessions ---------------------------------------------------------------------------------------


def test_a_stdin_line_that_is_not_utf8_is_reported_and_the_session_goes_on(args):
    data = (KEEP_QUESTION + "\n").encode() + b"caf\xe9 \xff?\n" + (OFF_TOPIC + "\n").encode()
    r = run_cli([*args, "-q", "ask", "-", "--json"], input=data)
    assert r.exit_code == 2
    assert [json.loads(ln)["question"] for ln in r.stdout.splitlines()] == [KEEP_QUESTION, OFF_TOPIC]
    assert one_error_line(r) == "Error: stdin line 2 is not UTF-8 text (byte 0xe9 at position 4); skipped it"


def test_a_stdin_session_reads_utf8_with_a_byte_order_mark(args):
    data = "\ufeff".encode() + "Does the registry keep every report for ninety days? — «yes»\n".encode()
    r = run_cli([*args, "-q", "ask", "--json"], input=data)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["question"] == "Does the registry keep every report for ninety days? — «yes»"


# -- a closed stdout ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["ask", KEEP_QUESTION], ["search", "report"], ["corpus", "list"]])
def test_a_closed_stdout_ends_the_command_quietly(args, command):
    """`ncmec-qa ask … | head -1`: the reader is gone before the answer is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to the pipe fails with EPIPE
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    for v in ("NCMEC_QA_CORPUS", "NCMEC_QA_INDEX", "NCMEC_QA_DOCS"):
        env.pop(v, None)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ncmec_qa", *args, "-q", *command],
            stdout=write_end,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.stderr.decode() == ""
    assert proc.returncode == EXIT_BROKEN_PIPE == 141
