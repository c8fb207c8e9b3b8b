"""Citation export (`citations`, `ncmec-qa cite`, `--cite-format`): formats built from the manifest's
record and the passage's pinpoint, on hand-made records and on the tiny corpus."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import location_args, run_cli

from ncmec_qa.models import Citation, Passage, Source
from ncmec_qa.render.citations import (
    CitationError,
    cite_passage,
    export,
    pinpoint,
    source_type,
    superseded_note,
    to_bibtex,
    to_csl,
    to_markdown,
    to_ris,
)

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


def _bib_entry(text: str):
    """The one entry of `text`, parsed back by pybtex's BibTeX parser."""
    from pybtex.database import parse_string

    (entry,) = parse_string(text, "bibtex").entries.values()
    return entry


def test_bibtex_escapes_and_carries_pinpoint_and_quote():
    b = to_bibtex(pdf_cite())
    assert b.startswith("@techreport{rep-2023:0,\n")
    assert r'title = "{2023 Widget Report \textbraceleft{}draft\textbraceright{} \& notes}"' in b
    assert 'institution = "Registry"' in b and 'year = "2024"' in b and 'month = "apr"' in b
    assert 'pages = "4"' in b
    assert r"Quote: ``Reports rose by 10\% to \$5,000 in 2023.''" in b
    assert b.count("{") == b.count("}")
    e = _bib_entry(b)
    assert e.type == "techreport" and e.fields["pages"] == "4" and "author" not in e.persons
    law = _bib_entry(to_bibtex(law_cite()))
    assert law.fields["note"] == "§ 7A(h)(1). Quote: ``A report shall be preserved for 90 days after it is filed.''"
    assert law.fields["edition"] == "pre-2024 text" and law.fields["url"] == "https://example.org/7a"


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
    assert lines[0] == "TY  - RPRT" and lines[-1] == "ER  - "
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
    assert 'url = "https://example.org/tiny-handbook"' in to_bibtex(c)


@pytest.fixture
def cli_args(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    args = location_args(tiny_corpus, index_dir)
    assert run_cli([*args, "index", "build", "--model", "fake:64"]).exit_code == 0
    return args


def test_cli_cite_formats(cli_args, fake_ws):
    search = run_cli([*cli_args, "search", "--json", "registry keeps every report for ninety days"])
    pid = json.loads(search.stdout)["passages"][0]["passage_id"]
    for fmt, head in (
        ("bibtex", "@"),
        ("ris", "TY  - "),
        ("markdown", "> “"),
        ("csl-json", "["),
        ("apa", "“"),
        ("chicago", "“"),
    ):
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


# -- authors, the superseded note, APA and Chicago (citeproc-py) --------------------------------------

GRIMM = Source(
    id="grimm-2024",
    file="research/grimm.pdf",
    title="Putting the Count Back Into Accountability",
    publisher="Robert Grimm",
    date="2024-07-12",
    format="pdf",
    sha256="2" * 64,
    url="https://arxiv.org/abs/2402.14625",
    kind="secondary",
    authors=("Grimm, Robert",),
)
TWO = Source(
    id="duo-2025",
    file="duo.md",
    title="A Chapter on Widgets",
    publisher="Widget Press",
    date="2025",
    format="markdown",
    sha256="3" * 64,
    authors=("Stamos, Alex", "Grossman, Shelby"),
)
OLD_LAW = Source(
    id="law-8",
    file="law/s8.md",
    title="99 U.S.C. § 8 — Old duties",
    publisher="Widget Code Office",
    date="2023-04",
    format="markdown",
    sha256="4" * 64,
    superseded_by="Amended by the Widget Act (Pub. L. 1-2, 2024)",
)


def _cite(src: Source, text="Reports rose by ten per cent.", page=3, section="") -> Citation:
    p = Passage(f"{src.id}:0-{len(text)}", src.id, src.file, 0, len(text), text, section=section, page=page)
    return Citation(1, src, p, 0, len(text), text)


def test_citeproc_renders_an_apa_reference_with_authors_for_grimm_2024():
    text = export([_cite(GRIMM, page=4)], "apa")
    quote_line, entry = text.splitlines()
    assert quote_line == "“Reports rose by ten per cent.” (Grimm, 2024, p. 4)"
    # the author once (not again as publisher), the year, the title, the URL
    assert entry == "Grimm, R. (2024). Putting the Count Back Into Accountability. https://arxiv.org/abs/2402.14625"


def test_chicago_spells_given_names_and_two_authors_in_both_styles():
    quote_line, entry = export([_cite(GRIMM, page=4)], "chicago").splitlines()
    assert quote_line == "“Reports rose by ten per cent.” (Grimm 2024, 4)"
    assert entry.startswith("Grimm, Robert. 2024. Putting the Count Back Into Accountability.")
    duo = _cite(TWO, page=None, section="Chapter > Hashing")
    assert export([duo], "apa").splitlines()[0].endswith("(Stamos & Grossman, 2025, Chapter > Hashing)")
    assert export([duo], "apa").splitlines()[1].startswith("Stamos, A., & Grossman, S. (2025). A Chapter on Widgets.")
    assert export([duo], "chicago").splitlines()[1].startswith("Stamos, Alex, and Shelby Grossman. 2025.")


def test_a_work_without_authors_is_cited_by_its_publisher_and_a_statute_by_its_section():
    _, entry = export([_cite(REPORT, page=4)], "apa").splitlines()
    assert entry.startswith("Registry. (2024). 2023 Widget Report {draft} & notes.")
    quote_line = export([law_cite()], "apa").splitlines()[0]
    assert quote_line.endswith(", 2023, § 7A(h)(1))") and "§ §" not in quote_line


def test_authors_in_every_format_parsed_back_by_their_parsers():
    import rispy
    from citeproc.source.json import CiteProcJSON

    c = _cite(TWO)
    e = _bib_entry(to_bibtex(c))
    assert [(p.last_names, p.first_names) for p in e.persons["author"]] == [
        (["Stamos"], ["Alex"]),
        (["Grossman"], ["Shelby"]),
    ]
    (ris,) = rispy.loads(to_ris(c))
    assert ris["authors"] == ["Stamos, Alex", "Grossman, Shelby"] and ris["type_of_reference"] == "GEN"
    item = to_csl(c)
    assert item["author"] == [{"family": "Stamos", "given": "Alex"}, {"family": "Grossman", "given": "Shelby"}]
    assert "duo-2025:0" in CiteProcJSON([{k: v for k, v in item.items() if k != "custom"}])
    assert to_markdown(c).splitlines()[2].startswith("> — Stamos, Alex & Grossman, Shelby. *A Chapter on Widgets*")
    assert "author" not in to_csl(_cite(REPORT)) and "authors" not in rispy.loads(to_ris(_cite(REPORT)))[0]


def test_the_superseded_note_is_carried_into_every_format():
    import rispy

    note = "Superseded: Amended by the Widget Act (Pub. L. 1-2, 2024)."
    c = _cite(OLD_LAW, page=None, section="§ 8. Old duties > (a) Filing")
    assert _bib_entry(to_bibtex(c)).fields["note"].endswith(note)
    assert note in rispy.loads(to_ris(c))[0]["notes"]
    assert to_csl(c)["note"].endswith(note) and to_csl(c)["custom"]["superseded"] == note
    assert to_markdown(c).rstrip().endswith("> " + note)
    for style in ("apa", "chicago"):
        assert export([c], style).splitlines()[-1] == note
    # a text replaced by another record names it; a text still in force carries no note
    assert superseded_note(replace(OLD_LAW, superseded_by="law-9")) == "Superseded by law-9."
    assert "Superseded" not in to_bibtex(law_cite()) + to_ris(law_cite()) + export([law_cite()], "apa")


def test_bibtex_from_the_reference_manifest_parses_with_authors():
    """Every record of the checkout's manifest makes an entry pybtex reads back; Grimm 2024 has its author."""
    from conftest import REPO_MANIFEST

    from ncmec_qa.corpus.manifest import load_manifest

    sources = load_manifest(REPO_MANIFEST).by_id()
    for src in sources.values():
        e = _bib_entry(to_bibtex(_cite(src)))
        assert e.fields["title"].startswith("{")
    grimm = _bib_entry(to_bibtex(_cite(sources["grimm-2024"])))
    assert [str(p) for p in grimm.persons["author"]] == ["Grimm, Robert"]
    assert sources["tsbook-ch7-2025"].authors == ()  # its text names no author: left to the publisher
