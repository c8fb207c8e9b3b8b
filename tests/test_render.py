"""Terminal and Markdown output (`render`): word-boundary wrapping at 80 and 120 columns (rich's console
width, `COLUMNS` in a pipe), whole URLs, the separator between `ask -` answers, Markdown abstentions."""

from __future__ import annotations

import io
import re

import pytest
from conftest import location_args, run_cli

from ncmec_qa.models import Answer, AnswerSentence, Citation, Hit, Passage, Source
from ncmec_qa.render.render import PlainConsole, answer_markdown, clip, print_answer, print_hits, wrap

LONG_URL = "https://example.org/" + "a-very-long-path-segment/" * 5 + "widget-report-2023.pdf"  # > 80 columns
SRC = Source(
    id="rep-2023",
    file="r.md",
    title="Widget Registry Annual Report on Reporting Duties and Counts",
    publisher="Registry of Widgets",
    date="2024-04-15",
    format="markdown",
    sha256="1" * 64,
    url=LONG_URL,
)
QUOTE = (
    "Every operator shall file a widget report within thirty days of discovery, and a late report is still "
    "accepted by the registry, which keeps every report for ninety days before it is archived in the "
    "national widget-tracking repository."
)
PASSAGE = Passage(
    "rep-2023:0-220",
    "rep-2023",
    "r.md",
    0,
    len(QUOTE),
    QUOTE,
    section="Widget Reporting Handbook > Section 7 Duties > (b) Contents",
)


def answered() -> Answer:
    c = Citation(1, SRC, PASSAGE, 0, len(QUOTE), QUOTE)
    return Answer(
        "When?",
        True,
        (AnswerSentence(QUOTE, (1,)),),
        (c,),
        (Hit(PASSAGE, 0.9),),
        warnings=("rep-2023 is a secondary source: every quote here is commentary",),
    )


def abstained() -> Answer:
    return Answer(
        "When?",
        False,
        (),
        (),
        (Hit(PASSAGE, 0.4),),
        reason="The corpus does not answer this question; the nearest passages are listed below.",
    )


def rich_console(width: int):
    from rich.console import Console

    buf = io.StringIO()
    return Console(file=buf, width=width, soft_wrap=True, highlight=False, color_system=None), buf


def _words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("width", [80, 120])
def test_answers_wrap_at_word_boundaries_and_keep_urls_whole(width):
    console, buf = rich_console(width)
    print_answer(console, answered())
    out = buf.getvalue()
    lines = out.splitlines()
    assert any(len(line) > width * 0.6 for line in lines)  # it did fill lines, not one word per line
    for line in lines:
        assert len(line) <= width or line.strip() == LONG_URL, line
    assert LONG_URL in lines[[i for i, x in enumerate(lines) if LONG_URL in x][0]]  # the URL on one line, whole
    assert sum(LONG_URL in line for line in lines) == 1
    # no word was cut: the words printed are exactly the words of the quote, in order
    quote_lines = lines[: next(i for i, x in enumerate(lines) if x == "")]
    assert _words(" ".join(quote_lines)) == _words(f"“{QUOTE}” [1]")
    assert "widget-tracking" in out  # never broken after its hyphen


@pytest.mark.parametrize("width", [80, 120])
def test_a_pipe_wraps_at_columns_and_not_without_it(monkeypatch, width):
    buf = io.StringIO()
    monkeypatch.setenv("COLUMNS", str(width))
    print_hits(PlainConsole(file=buf), [Hit(PASSAGE, 0.5)])
    lines = buf.getvalue().splitlines()
    assert len(lines) > 2 and all(len(x) <= width for x in lines)
    assert all(x.startswith("   ") for x in lines[1:])  # continuation lines are indented
    assert _words(" ".join(lines)) == _words(
        f"1. {PASSAGE.passage_id}  Section 7 Duties > (b) Contents  score 0.5000 {QUOTE}"
    )
    monkeypatch.delenv("COLUMNS")
    buf = io.StringIO()
    print_hits(PlainConsole(file=buf), [Hit(PASSAGE, 0.5)])
    assert len(buf.getvalue().splitlines()) == 2  # no width known: one line per item, for scripts


def test_wrap_never_breaks_a_long_word():
    assert wrap(f"see {LONG_URL} now", 30) == ["see", LONG_URL, "now"]
    assert wrap("abc def", None) == ["abc def"]
    assert clip("one two three four", 9) == "one two…" and clip("one two", 9) == "one two"


def test_markup_in_quotes_is_printed_not_read():
    console, buf = rich_console(80)
    text = "The registry [bold]never[/bold] deletes a report [1] early."
    c = Citation(1, SRC, PASSAGE, 0, 5, text)
    print_answer(console, Answer("q", True, (AnswerSentence(text, (1,)),), (c,), ()))
    assert "“The registry [bold]never[/bold] deletes a report [1] early.” [1]" in buf.getvalue()


def test_markdown_abstention_lists_nearest_passages_with_their_quotes():
    md = answer_markdown(abstained())
    assert md.startswith("**Q:** When?\n\nThe corpus does not answer this question;")
    assert "Nearest passages:\n\n- `rep-2023:0-220` Section 7 Duties > (b) Contents\n\n  > Every operator shall" in md
    assert QUOTE[-40:] in md  # the whole passage (under 400 characters), not only its id


# -- `ask -`: a separator line between answers (text mode) -----------------------------------------


@pytest.fixture
def cli_args(tiny_corpus, tmp_path):
    args = location_args(tiny_corpus, tmp_path / "index")
    assert run_cli([*args, "index", "build", "--model", "fake:64"]).exit_code == 0
    return args


def test_ask_stdin_separates_answers_with_a_line(cli_args, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    qs = "Does the registry keep every report for ninety days?\nWhat is the fine for never filing a report?\n"
    r = run_cli([*cli_args, "ask", "-"], input=qs)
    assert r.exit_code == 0, r.output
    seps = [line for line in r.stdout.splitlines() if re.fullmatch("─+", line)]
    assert seps == ["─" * 80]  # two answers, one separator between them (none before the first or after the last)
    assert not r.stdout.startswith("─") and not r.stdout.rstrip().endswith("─")
    one = run_cli([*cli_args, "ask", "Does the registry keep every report for ninety days?"])
    assert "─" not in one.stdout
