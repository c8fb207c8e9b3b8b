"""`ncmec-qa open PASSAGE_ID` (`links`): a text fragment for web pages, #page=N for PDFs, the local file
when there is no URL, and the browser error when none starts."""

from __future__ import annotations

import json

import pytest
from conftest import location_args, run_cli

from ncmec_qa.models import Citation, Passage, Source
from ncmec_qa.render.links import link_for, text_fragment


def _cite(fmt: str, url: str | None, quote: str, page=None, file="doc.x") -> Citation:
    src = Source(id="s", file=file, title="T", publisher="P", date="2024", format=fmt, sha256="0" * 64, url=url)
    p = Passage("s:0-9", "s", file, 0, len(quote), quote, page=page)
    return Citation(1, src, p, 0, len(quote), quote)


def test_text_fragment_percent_encodes_terms_and_names_first_and_last_words():
    assert text_fragment("A late report is still accepted.") == ":~:text=A%20late%20report%20is%20still%20accepted."
    # "-", "," and "&" would end a term: encoded
    assert text_fragment("Year-end, counts & totals") == ":~:text=Year%2Dend%2C%20counts%20%26%20totals"
    long = "one two three four five six seven eight nine ten"
    assert text_fragment(long) == ":~:text=one%20two%20three%20four,seven%20eight%20nine%20ten"
    assert text_fragment("**Bold** text[^3] here") == ":~:text=Bold%20text%20here"  # Markdown marks are not shown


def test_links_by_kind_of_source(tmp_path):
    web = link_for(_cite("html", "https://example.org/a", "Reports rose."))
    assert (web.url, web.how) == ("https://example.org/a#:~:text=Reports%20rose.", "text fragment")
    assert link_for(_cite("markdown", "https://example.org/a#top", "Hi.")).url == "https://example.org/a#top:~:text=Hi."
    pdf = link_for(_cite("pdf", "https://example.org/r.pdf", "x", page=7))
    assert (pdf.url, pdf.how) == ("https://example.org/r.pdf#page=7", "page")
    assert link_for(_cite("csv", "https://example.org/data", "1998,4560")).url == "https://example.org/data"
    (tmp_path / "r.pdf").write_bytes(b"%PDF-1.4\n")
    landing = link_for(_cite("pdf", "https://arxiv.org/abs/1", "x", page=2, file="r.pdf"), tmp_path)
    assert (landing.url, landing.how) == ((tmp_path / "r.pdf").resolve().as_uri() + "#page=2", "file")
    (tmp_path / "n.txt").write_text("Hello there.\n")
    local = link_for(_cite("text", None, "Hello there.", file="n.txt"), tmp_path)
    assert local.url == (tmp_path / "n.txt").resolve().as_uri() + "#:~:text=Hello%20there."


@pytest.fixture
def cli_args(tiny_corpus, tmp_path):
    args = location_args(tiny_corpus, tmp_path / "index")
    assert run_cli([*args, "index", "build", "--model", "fake:64"]).exit_code == 0
    return args


def _pid(cli_args, query: str, source: str) -> str:
    r = run_cli([*cli_args, "search", "--json", "--source", source, query])
    return json.loads(r.stdout)["passages"][0]["passage_id"]


def test_open_print_and_json(cli_args, tiny_corpus):
    pid = _pid(cli_args, "registry keeps every report for ninety days", "tiny-handbook")
    r = run_cli([*cli_args, "open", "--print", pid, "--quote", "A late report is still accepted by the registry."])
    assert r.exit_code == 0, r.output
    assert r.stdout == (
        "https://example.org/tiny-handbook#:~:text=A%20late%20report%20is,accepted%20by%20the%20registry.\n"
    )
    pdf = _pid(cli_args, "registry audit found forty missing widget reports", "tiny-pdf")
    d = json.loads(run_cli([*cli_args, "open", "--print", "--json", pdf]).stdout)
    assert d["how"] in ("page", "file") and d["url"].endswith("#page=1") and d["opened"] is False
    r = run_cli([*cli_args, "open", "--print", "no-such:1-2"])
    assert r.exit_code == 2 and r.stderr.startswith("Error: no passage 'no-such:1-2'")


def test_open_calls_the_browser_and_says_so_when_none_starts(cli_args, monkeypatch):
    import webbrowser

    pid = _pid(cli_args, "registry keeps every report for ninety days", "tiny-handbook")
    seen = []
    monkeypatch.setattr(webbrowser, "open", lambda url: seen.append(url) or True)
    r = run_cli([*cli_args, "open", pid])
    assert (
        r.exit_code == 0
        and r.stdout == ""
        and seen
        and seen[0].startswith("https://example.org/tiny-handbook#:~:text=")
    )
    monkeypatch.setattr(webbrowser, "open", lambda url: False)
    r = run_cli([*cli_args, "open", pid])
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: no web browser could be started to open https://example.org/tiny-handbook#")
    assert r.stderr.rstrip().endswith("set BROWSER, or pass --print to print the URL")
