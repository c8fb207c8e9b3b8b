"""`verify --file`: every sentence of an article accounted for (checked or skipped with the reason), compound
sentences judged claim by claim, the article from stdin, `--annotate` (a footnote per claim) and `--html` (a
page checked in headless Chromium). Articles are written here; the corpus is the tiny fake-embedder one."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from conftest import location_args, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ncmec_qa.verify import CONTRADICTED, NOT_FOUND, SUPPORTED, split_claims, verify_article
from ncmec_qa.render.annotate import annotate_markdown
from ncmec_qa.verify.clauses import split_clauses
from ncmec_qa.render.report_html import COLOURS, report_html
from ncmec_qa.verify.segment import segment_article

CONTRA = "Every operator shall file a widget report within 45 days of discovery"
SUPPORT = "the registry keeps every report for ninety days"

ARTICLE = f"""\
# Widget notes

Checked on March 3, 2026

Title Without A Stop

{CONTRA}, and {SUPPORT} [1]. Is that long enough?

- Reports pile up.
- It was all of this and that.

> “Nobody reads the registry.”

```
code that is not prose.
```

| a | b |
|---|---|
| 1 | 2 |
"""

# (skip code or "" for checked, number of claims) per sentence of ARTICLE, in order
EXPECTED = [
    ("heading", 0),  # # Widget notes
    ("boilerplate", 0),  # Checked on …
    ("title", 0),  # Title Without A Stop
    ("", 2),  # the compound sentence: two claims
    ("question", 0),
    ("too_short", 0),  # Reports pile up.
    ("no_claim", 0),  # many words, few content words
    ("quotation", 0),
    ("code", 0),
    ("table", 0),
]


def norm(s: str) -> str:
    return " ".join(s.split())


# -- every sentence accounted for -------------------------------------------------------------------


def test_every_sentence_is_listed_checked_or_skipped_with_its_reason():
    sents = segment_article(ARTICLE)
    assert [(s.skip, len(s.claims)) for s in sents] == EXPECTED
    assert [s.n for s in sents] == list(range(1, len(EXPECTED) + 1))
    for s in sents:  # each entry is the article's own text at its offsets
        assert norm(ARTICLE[s.start : s.end]) == s.text
    by = {s.skip: s for s in sents}
    assert by["too_short"].reason == "too short to check (3 words)"
    assert by["no_claim"].reason == "no checkable claim (0 content words or figures; 4 needed, a figure counts as two)"
    assert by["question"].text == "Is that long enough?"
    assert by["heading"].text == "Widget notes"
    assert by["code"].text == "```\ncode that is not prose.\n```".replace("\n", " ")
    assert by["table"].reason == "a table"


def test_compound_claims_carry_their_spans_in_the_article():
    s = segment_article(ARTICLE)[3]
    a, b = s.claims
    assert a.text == CONTRA + "."
    assert b.text == "The registry keeps every report for ninety days."
    assert ARTICLE[a.start : a.end] == CONTRA
    assert ARTICLE[b.start : b.end] == SUPPORT + " [1]."
    assert split_claims(ARTICLE) == [a.text, b.text]


def test_markdown_blocks_are_read_by_markdown_it():
    text = (
        "Setext Heading Here\n===\n\n"
        "* A list item says the registry keeps reports for ninety days.\n"
        "  It wraps onto a second line about widget operators here.\n\n"
        "> The quoted paragraph says the registry audits every spring.\n\n"
        "**Contents**:\nThe widget report includes the serial number of the widget.\n\n"
        "    Indented prose in a plain-text article says the registry keeps reports.\n"
    )
    sents = segment_article(text)
    assert [(s.skip, s.text) for s in sents] == [
        ("heading", "Setext Heading Here"),
        ("", "A list item says the registry keeps reports for ninety days."),
        ("", "It wraps onto a second line about widget operators here."),
        ("", "The quoted paragraph says the registry audits every spring."),
        ("heading", "**Contents**:"),
        ("", "The widget report includes the serial number of the widget."),
        ("", "Indented prose in a plain-text article says the registry keeps reports."),
    ]
    for s in sents:
        assert norm(text[s.start : s.end]) == s.text


@pytest.mark.parametrize(
    "sentence, claims",
    [
        # two clauses, each with its subject: two claims
        (
            "The registry keeps every report for ninety days, and operators must file widget reports within 30 days.",
            ["The registry keeps every report for ninety days.", "Operators must file widget reports within 30 days."],
        ),
        ("The registry keeps every widget report for ninety days, and then was audited by the state office.", None),
        (
            "NCMEC received 36 million reports, but most of them came from three large providers.",
            ["NCMEC received 36 million reports.", "Most of them came from three large providers."],
        ),
        (
            "The registry keeps reports for ninety days; auditors review every office each spring.",
            ["The registry keeps reports for ninety days.", "Auditors review every office each spring."],
        ),
        # a leading year scopes the later clause
        (
            "In 2023, the registry received 2,400 widget reports, and the audit found forty missing reports.",
            ["In 2023, the registry received 2,400 widget reports.", "In 2023, the audit found forty missing reports."],
        ),
        # one subject for both verbs: one claim
        ("The registry keeps every widget report for ninety days, and archives it after that period ends.", None),
        # a list of subjects, not two clauses
        ("The registry, the archive office, and the audit office are open every day of the year.", None),
        # the comma is inside parentheses
        ("The registry keeps reports (for ninety days, and the archive keeps them longer) in its offices.", None),
        # a part with too little to check keeps the sentence whole
        ("The registry keeps every widget report for ninety days, and it is fine.", None),
    ],
)
def test_compound_sentences_split_only_at_clause_boundaries(sentence, claims):
    from ncmec_qa.verify.segment import _checkable

    got = [t for _, _, t in split_clauses(sentence, _checkable)]
    assert got == (claims or [sentence])


# -- checking, with the fake embedder -------------------------------------------------------------------


def test_each_claim_of_a_compound_sentence_is_judged(fake_ws):
    report = verify_article(fake_ws, ARTICLE)
    assert [v.verdict for v in report.verdicts] == [CONTRADICTED, SUPPORTED]
    assert report.summary() == (
        "2 claims checked of 10 sentences (9 skipped): 1 supported, 1 contradicted, 0 not found"
    )
    [(sent, items)] = [(s, it) for s, it in report.by_sentence() if it]
    assert sent.n == 4 and [i for i, _, _ in items] == [1, 2]
    d = report.to_list()
    assert [(x["sentence"], x["verdict"]) for x in d] == [(4, CONTRADICTED), (4, SUPPORTED)]
    assert ARTICLE[d[1]["article_start"] : d[1]["article_end"]] == SUPPORT + " [1]."


def test_annotate_adds_one_footnote_per_claim_and_nothing_else(fake_ws):
    report = verify_article(fake_ws, ARTICLE)
    out = annotate_markdown(ARTICLE, report)
    assert f"{CONTRA}[^1], and {SUPPORT} [1].[^2] Is that long enough?" in out
    body, notes = out.split("\n\n[^1]: ")
    assert re.sub(r"\[\^\d\]", "", body) == ARTICLE.rstrip("\n")
    n1, n2 = ("[^1]: " + notes).splitlines()
    assert n1.startswith("[^1]: contradicted — “") and "Widget Reporting Handbook" in n1 and "reason: " in n1
    assert n2.startswith("[^2]: supported — “The registry keeps every report for ninety days.” — Registry field notes")
    # an article with footnotes of its own keeps them and gets labels that cannot collide
    own = ARTICLE.replace("[1].", "[1].[^1]") + "\n[^1]: the article's own note.\n"
    out = annotate_markdown(own, verify_article(fake_ws, own))
    assert "[^v1]: contradicted" in out and "[^v2]: supported" in out and "[^1]: the article's own note." in out


HOSTILE = (
    "The registry keeps every report for ninety days <script>alert(1)</script>.\n\n"
    'An operator that never files a report pays a fine "><img src=x onerror=alert(2)> of up to $5,000.\n'
)


def test_html_report_escapes_article_and_corpus_text(fake_ws):
    report = verify_article(fake_ws, HOSTILE, source="<b>name</b>.md")
    page = report_html(HOSTILE, report, command="ncmec-qa verify --file x")
    assert "<script" not in page and "<img" not in page and "<b>name" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "default-src 'none'" in page  # the page may load nothing, run nothing
    from ncmec_qa.render.report_html import _safe_url

    assert _safe_url("javascript:alert(1)") == "" and _safe_url(" https://e.org/a ") == "https://e.org/a"


def test_html_report_colours_claims_by_verdict_and_leaves_skipped_unstyled(fake_ws):
    report = verify_article(fake_ws, ARTICLE)
    page = report_html(ARTICLE, report)
    assert f".supported {{ background: {COLOURS[SUPPORTED]}; }}" in page
    assert f".contradicted {{ background: {COLOURS[CONTRADICTED]}; }}" in page
    assert page.count('<span class="claim contradicted" id="c1"') == 1
    assert page.count('<span class="claim supported" id="c2"') == 1
    row = page[page.index('<tr id="s5"') : page.index('<tr id="s6"')]  # the question
    assert 'class="skipped"' in row and "not checked: a question" in row and "claim " not in row
    assert page.count("<tr id=") == len(EXPECTED)
    assert "Widget Reporting Handbook" in page and "<blockquote>“" in page


# -- the CLI -------------------------------------------------------------------------------------------


@pytest.fixture
def cli_args(tiny_corpus, tmp_path):
    args = location_args(tiny_corpus, tmp_path / "index")
    r = run_cli([*args, "index", "build", "--model", "fake:64"])
    assert r.exit_code == 0, r.output
    return args


def test_cli_json_lines_account_for_every_sentence_and_end_with_a_summary(cli_args, tmp_path):
    art = tmp_path / "article.md"
    art.write_text(ARTICLE, encoding="utf-8")
    r = run_cli([*cli_args, "-q", "verify", "--file", str(art), "--json"])
    assert r.exit_code == 1, r.output  # a claim is contradicted
    recs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [d["type"] for d in recs] == ["skipped"] * 3 + ["verdict", "verdict"] + ["skipped"] * 6 + ["summary"]
    assert sorted({d["sentence"] for d in recs[:-1]}) == list(range(1, 11))
    assert [d["verdict"] for d in recs if d["type"] == "verdict"] == [CONTRADICTED, SUPPORTED]
    assert [d["skip"] for d in recs if d["type"] == "skipped"] == [s for s, n in EXPECTED if not n]
    assert recs[-1] == {
        "schema_version": "1",
        "type": "summary",
        "source": str(art),
        "checked": 2,
        "counts": {SUPPORTED: 1, CONTRADICTED: 1, NOT_FOUND: 0},
        "ok": False,
        "exit_status": 1,
        "sentences": 10,
        "skipped": 9,
    }


def test_cli_reads_the_article_from_stdin(cli_args, tmp_path):
    art = tmp_path / "article.md"
    art.write_text(ARTICLE, encoding="utf-8")
    from_file = run_cli([*cli_args, "-q", "verify", "--file", str(art), "--json"])
    from_stdin = run_cli([*cli_args, "-q", "verify", "--file", "-", "--json"], input=ARTICLE)
    assert from_stdin.exit_code == 1, from_stdin.output
    assert from_stdin.stdout == from_file.stdout.replace(json.dumps(str(art)), '"-"')
    r = run_cli([*cli_args, "-q", "verify", "--file", "-", "--markdown"], input=ARTICLE)
    assert "Produced by: `ncmec-qa verify --file - --markdown`" in r.stdout


def test_cli_text_output_lists_skipped_sentences_and_claims_under_their_sentence(cli_args, tmp_path):
    art = tmp_path / "article.md"
    art.write_text(ARTICLE, encoding="utf-8")
    r = run_cli([*cli_args, "-q", "verify", "--file", str(art)])
    lines = r.stdout.splitlines()
    assert lines[0] == "  1. skipped, a heading: Widget notes"
    assert lines[4].startswith(f"     claim 1: contradicted: {CONTRA}.")
    assert lines[6].startswith("     claim 2: supported: The registry keeps every report for ninety days.")
    assert "  5. skipped, a question: Is that long enough?" in lines
    assert "  6. skipped, too short to check (3 words): Reports pile up." in lines
    assert lines[-1] == "2 claims checked of 10 sentences (9 skipped): 1 supported, 1 contradicted, 0 not found"
    md = run_cli([*cli_args, "-q", "verify", "--file", str(art), "--markdown"]).stdout
    assert "| 2 | 4 | supported | The registry keeps every report for ninety days. |" in md
    assert "- sentence 5, “Is that long enough?”: a question" in md


def test_cli_annotate_and_html_write_their_files(cli_args, tmp_path):
    art = tmp_path / "article.md"
    art.write_text(ARTICLE, encoding="utf-8")
    ann, page = tmp_path / "out" / "annotated.md", tmp_path / "out" / "report.html"
    r = run_cli([*cli_args, "verify", "--file", str(art), "--annotate", str(ann), "--html", str(page)])
    assert r.exit_code == 1, r.output
    assert f"wrote {ann}" in r.stderr and f"wrote {page}" in r.stderr
    assert "[^2]: supported — " in ann.read_text(encoding="utf-8")
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and f"--html {page}" in html


@pytest.mark.parametrize("flag", ["--annotate", "--html"])
def test_cli_annotate_and_html_need_an_article(cli_args, tmp_path, flag):
    r = run_cli([*cli_args, "verify", flag, str(tmp_path / "x"), "The registry keeps every report for ninety days."])
    assert r.exit_code == 2
    assert f"{flag} writes an annotated article: give --file ARTICLE with it" in r.stderr


def test_cli_unwritable_html_path_is_one_line_error(cli_args, tmp_path):
    art = tmp_path / "article.md"
    art.write_text(ARTICLE, encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_cli([*cli_args, "-q", "verify", "--file", str(art), "--html", str(blocker / "report.html")])
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"Error: cannot write {blocker / 'report.html'}: ") and r.stderr.count("\n") == 1


# -- the page in headless Chromium ----------------------------------------------------------------------------


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit RGB or RGBA PNG (what Chromium writes), by zlib alone."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line) if bpp == 3 else bytes(v for j in range(0, stride, 4) for v in line[j : j + 3]))
        prev = line
    return w, h, rows


def _count(rows: list[bytes], hex_colour: str, tol: int = 4) -> int:
    want = bytes.fromhex(hex_colour.lstrip("#"))
    n = 0
    for row in rows:
        for x in range(0, len(row), 3):
            if all(abs(row[x + i] - want[i]) <= tol for i in range(3)):
                n += 1
    return n


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_html_report_screenshot_shows_coloured_sentences(fake_ws, tmp_path):
    chromium = _chromium()
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing: .ci/run installs it (apt-get install -y chromium) before the tests")
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    report = verify_article(fake_ws, ARTICLE, source="article.md")
    page = tmp_path / "report.html"
    page.write_text(report_html(ARTICLE, report, command="ncmec-qa verify --file article.md"), encoding="utf-8")
    png = tmp_path / "shot.png"
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={png}",
        "--window-size=1000,800",
        "--hide-scrollbars",
        page.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert png.is_file(), (proc.returncode, proc.stderr[-2000:])
    keep = os.environ.get("NCMEC_QA_KEEP_SCREENSHOT")
    if keep:
        shutil.copyfile(png, keep)
    w, h, rows = _png_pixels(png.read_bytes())
    assert (w, h) == (1000, 800)
    # each claim's highlight is a few lines of text: hundreds of pixels at least
    assert _count(rows, COLOURS[SUPPORTED]) > 500
    assert _count(rows, COLOURS[CONTRADICTED]) > 500
    assert _count(rows, COLOURS[NOT_FOUND]) < _count(rows, COLOURS[SUPPORTED])  # only the legend


def test_ci_installs_chromium_before_the_tests():
    run = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    install = run.index("apt-get install -y chromium")
    assert run.index("apt-get update") < install < run.index("make test")
    assert "[ ! -x /usr/bin/chromium ] && command -v apt-get" in run and 'export CI="${CI:-true}"' in run


# -- any article ----------------------------------------------------------------------------------------------


_PIECES = st.sampled_from(
    [
        "The registry keeps every report for ninety days",
        ", and ",
        "; ",
        ", but the audit found 40 reports",
        ".",
        "?",
        " ",
        "\n",
        "\n\n",
        "# ",
        "## ",
        "- ",
        "1. ",
        "> ",
        "**",
        "`",
        "```\n",
        "| a | b |\n|---|---|\n",
        "[1]",
        "[^2]",
        "“",
        "”",
        '"',
        "(",
        ")",
        "In 2023, ",
        "<b>",
        "&amp;",
        "\t",
        "    ",
        "Title\n===\n",
        "é",
        "—",
        "[link](https://e.org/x)",
        "\r\n",
        "\ufeff",
    ]
)


def test_a_continuation_line_s_indent_after_crlf_is_not_part_of_its_sentence():
    # found by the fuzz test below: markdown-it keeps the indent of a line after "\r\n"
    article = "**The registry keeps every report for ninety days**\r\n The registry keeps every report for ninety days"
    (heading, title) = segment_article(article)
    assert article[title.start : title.end] == title.text == "The registry keeps every report for ninety days"
    assert (heading.start, heading.end, title.start) == (0, 51, 54)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_any_article_gives_ordered_sentences_that_are_its_own_text(article):
    sents = segment_article(article)
    last = 0
    for i, s in enumerate(sents, start=1):
        assert s.n == i
        assert last <= s.start < s.end <= len(article), (s, last)
        piece = article[s.start : s.end]  # the sentence's own text, with the container markers ("> ") of its lines
        assert piece[0] == s.text[0] and piece[-1] == s.text[-1]
        rest = iter(piece)
        assert all(ch in rest for ch in s.text.replace(" ", "")), (s.text, piece)
        assert bool(s.skip) != bool(s.claims)
        for c in s.claims:
            assert s.start <= c.start < c.end <= s.end and c.text.strip()
        last = s.end


def test_terminal_report_prints_article_text_as_text_not_markup(fake_ws):
    """On a terminal (rich), "[1]", "[/bold]" and "[red]" in the article are printed, never read as markup."""
    import io

    from rich.console import Console

    import ncmec_qa.cli.commands  # noqa: F401  (cli_verify is registered by cli; import them in that order)
    from ncmec_qa.cli.verify import _print_report

    text = f"{CONTRA} [1] [/bold] [red]x[/red]. Is [/cyan] this long enough?\n"
    buf = io.StringIO()
    _print_report(Console(file=buf, width=100, force_terminal=True, color_system=None), verify_article(fake_ws, text))
    out = norm(buf.getvalue())
    assert f"1. {CONTRA} [1] [/bold] [red]x[/red]." in out
    assert "2. skipped, a question: Is [/cyan] this long enough?" in out
    assert out.endswith("1 claims checked of 2 sentences (1 skipped): 0 supported, 1 contradicted, 0 not found")
