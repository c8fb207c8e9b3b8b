"""Citation export (`citations`, `ncmec-qa cite`, `--cite-format`): formats built from the manifest's
record and the passage's pinpoint, on hand-made records and on the tiny corpus."""

from __future__ import annotations

import json

import pytest
from conftest import location_args, run_cli

from ncmec_qa.citations import (
    CitationError,
    cite_passage,
    export,
    pinpoint,
    source_type,
    to_bibtex,
    to_csl,
    to_markdown,
    to_ris,
)
from ncmec_qa.models import Citation, Passage, Source

STATUTE = Source(
    id="law-7",
    file="law/s7.md",
    title="99 U.S.C. § 7A — Widget reporting duties",
    publisher="Widget Code Office",
    date="2023-04",
    format="markdown",
    sha256="0" * 64,
    url="https://example.org/7a",
    edition="pre-2024 text",
)
REPORT = Source(
    id="rep-2023",
    file="r.pdf",
    title="2023 Widget Report {draft} & notes",
    publisher="Registry",
    date="2024-04-15",
    format="pdf",
    sha256="1" * 64,
)
LAW_PASSAGE = Passage(
    "law-7:100-220",
    "law-7",
    "law/s7.md",
    100,
    220,
    "(1) In general. A report shall be preserved for 90 days after it is filed.",
    section="§ 7A. Widget reporting duties > (h) Preservation. > (1) In general",
)
PDF_PASSAGE = Passage("rep-2023:0-60", "rep-2023", "r.pdf", 0, 60, "Reports rose by 10% to $5,000 in 2023.", page=4)


def law_cite() -> Citation:
    quote = "A report shall be preserved for 90 days after it is filed."
    start = 100 + LAW_PASSAGE.text.index(quote)
    return Citation(1, STATUTE, LAW_PASSAGE, start, start + len(quote), quote)


def pdf_cite() -> Citation:
    return Citation(2, REPORT, PDF_PASSAGE, 0, 38, PDF_PASSAGE.text[:38])


def test_types_and_pinpoints():
    assert source_type(STATUTE) == "legislation"
    assert source_type(REPORT) == "report"
    assert pinpoint(LAW_PASSAGE) == "§ 7A(h)(1)"
    assert pinpoint(PDF_PASSAGE) == "p. 4"
    assert pinpoint(Passage("x:0-1", "x", "x.csv", 0, 1, "a", section="row 3")) == "row 3"


def test_bibtex_escapes_and_carries_pinpoint_and_quote():
    b = to_bibtex(pdf_cite())
    assert b.startswith("@techreport{rep-2023:0,\n")
    assert r"title = {{2023 Widget Report \textbraceleft{}draft\textbraceright{} \& notes}}" in b
    assert "institution = {Registry}" in b and "year = {2024}" in b and "month = {apr}" in b
    assert "pages = {4}" in b
    assert r"Quote: ``Reports rose by 10\% to \$5,000 in 2023.''" in b
    assert b.count("{") == b.count("}")
    law = to_bibtex(law_cite())
    assert "note = {§ 7A(h)(1). Quote: ``A report shall be preserved for 90 days after it is filed.''}" in law
    assert "edition = {pre-2024 text}" in law and "url = {https://example.org/7a}" in law


def test_csl_json_item():
    item = to_csl(law_cite())
    assert item["id"] == "law-7:" + str(law_cite().start)
    assert item["title"] == STATUTE.title and item["publisher"] == "Widget Code Office"
    assert item["issued"] == {"date-parts": [[2023, 4]]} and item["URL"] == "https://example.org/7a"
    assert item["custom"]["quote"] == law_cite().quote and item["custom"]["pinpoint"] == "§ 7A(h)(1)"
    assert json.loads(export([law_cite(), pdf_cite()], "csl-json"))[1]["page"] == "4"


def test_ris_record():
    r = to_ris(pdf_cite())
    lines = r.splitlines()
    assert lines[0] == "TY  - RPRT" and lines[-1] == "ER  -"
    assert "DA  - 2024/04/15/" in lines and "SP  - 4" in lines and "PY  - 2024" in lines
    assert "N1  - Quote: “Reports rose by 10% to $5,000 in 2023.”" in lines
    assert "DA  - 2023/04//" in to_ris(law_cite()).splitlines()


def test_markdown_and_unknown_format():
    m = to_markdown(law_cite())
    assert m.startswith("> “A report shall be preserved for 90 days after it is filed.”\n>\n> — *99 U.S.C. § 7A")
    assert "§ 7A(h)(1)" in m and "<https://example.org/7a>" in m
    with pytest.raises(CitationError):
        export([law_cite()], "mla")


# -- from the tiny index ----------------------------------------------------------------------------


def _a_passage(ws, source_id: str):
    for p in ws.index.all_passages():
        if p.source_id == source_id:
            return p
    raise AssertionError(source_id)


def test_cite_passage_whole_quote_and_span(fake_ws):
    p = _a_passage(fake_ws, "tiny-notes")
    c = cite_passage(fake_ws, p.passage_id)
    doc = fake_ws.index.document_text("tiny-notes")
    assert doc[c.start : c.end] == c.quote and c.quote == p.text.strip()
    c = cite_passage(fake_ws, p.passage_id, quote="keeps   every report\nfor ninety days")
    assert c.quote == "keeps every report for ninety days" and doc[c.start : c.end] == c.quote
    span = f"tiny-notes:{c.start}-{c.end}"
    c2 = cite_passage(fake_ws, span)
    assert (c2.start, c2.end, c2.quote) == (c.start, c.end, c.quote)
    assert c2.source.title == "Registry field notes"
    with pytest.raises(CitationError):
        cite_passage(fake_ws, p.passage_id, quote="not in there at all")
    with pytest.raises(CitationError):
        cite_passage(fake_ws, "tiny-notes:999999-1000000")


def test_cite_pdf_page_and_markdown_section(fake_ws):
    c = cite_passage(fake_ws, _a_passage(fake_ws, "tiny-pdf").passage_id)
    assert c.passage.page == 1 and "SP  - 1" in to_ris(c)
    c = cite_passage(fake_ws, _a_passage(fake_ws, "tiny-handbook").passage_id)
    assert "url = {https://example.org/tiny-handbook}" in to_bibtex(c)


@pytest.fixture
def cli_args(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    args = location_args(tiny_corpus, index_dir)
    assert run_cli([*args, "index", "build", "--model", "fake:64"]).exit_code == 0
    return args


def test_cli_cite_formats(cli_args, fake_ws):
    search = run_cli([*cli_args, "search", "--json", "registry keeps every report for ninety days"])
    pid = json.loads(search.stdout)["passages"][0]["passage_id"]
    for fmt, head in (("bibtex", "@"), ("ris", "TY  - "), ("markdown", "> “"), ("csl-json", "[")):
        r = run_cli([*cli_args, "cite", pid, "--format", fmt])
        assert r.exit_code == 0, r.output
        assert r.stdout.startswith(head), r.stdout
    r = run_cli([*cli_args, "cite", "no-such-passage:1-2"])
    assert r.exit_code == 2 and r.stderr.startswith("Error: no passage 'no-such-passage:1-2'")


def test_cli_ask_cite_format(cli_args):
    r = run_cli([*cli_args, "ask", "--cite-format", "ris", "Does the registry keep every report for ninety days?"])
    assert r.exit_code == 0 and "TY  - " in r.stdout
    r = run_cli(
        [
            *cli_args,
            "ask",
            "--json",
            "--cite-format",
            "csl-json",
            "Does the registry keep every report for ninety days?",
        ]
    )
    d = json.loads(r.stdout)
    if d["answered"]:
        items = json.loads(d["export"]["text"])
        assert [i["custom"]["quote"] for i in items] == [s["quote"] for s in d["sources"]]
