"""Answers a reader can quote (fake embedder, tiny corpora): CSV and JSON citations slice the file itself,
one statement made by several editions is quoted once with every citation, a question about a year is
answered only from evidence for that year (and otherwise says which years the corpus has), and a table
line's citation names what it is read with."""

from __future__ import annotations

import json

import pytest
from conftest import location_args, open_workspace, run_cli, write_tiny_corpus

from ncmec_qa.answer.answering import AnswerConfig
from ncmec_qa.answer.units import UnitConfig, passage_units, same_statement
from ncmec_qa.evaluation import Evidence, Question, answer_shape, evaluate
from ncmec_qa.models import Answer, AnswerSentence, Citation, Hit, Passage, Sentence, Source
from ncmec_qa.render.render import citation_line


@pytest.mark.parametrize(
    "a, b, same",
    [
        (
            "The term provider means an electronic communication service.",
            "The term  “provider”  means an electronic\ncommunication service.",
            True,
        ),  # spacing, quotes, a line break
        ("ESPs report interna tional users to the tipline.", "ESPs report international users to the tipline.", True),
        ("The office received 4,100 filings in 2021.", "The office received 4,200 filings in 2021.", False),  # a figure
        ("The office received 4,100 filings in 2021.", "The office received 4,100 filings in 2022.", False),  # a year
        ("Providers must report to the office.", "Providers may report to the office.", False),
        ("", "", False),
    ],
)
def test_same_statement(a, b, same):
    assert same_statement(a, b) is same


def _ws(tmp_path, docs: dict[str, tuple[str, str, str]], **answering):
    corpus = write_tiny_corpus(tmp_path, only=["tiny-notes"])
    for sid, (file, text, fmt) in docs.items():
        corpus.add(sid, file, text.encode(), fmt, title=sid.replace("-", " ").title())
    ws = open_workspace(corpus, tmp_path / "index")
    assert not ws.build().failures
    ws.answering = AnswerConfig(threshold=0.0, **answering)  # judge what is quoted, not whether to answer
    return corpus, ws


def _doc(corpus, sid: str) -> str:
    return corpus.path(sid).read_text()


COUNTS = "year,filings\n2021,4100\n2022,5300\n2023,6100\n"


def test_a_csv_row_is_quoted_and_cited_from_the_file_s_own_bytes(tmp_path):
    corpus, ws = _ws(tmp_path, {"filings-csv": ("filings.csv", COUNTS, "csv")})
    a = ws.ask("How many widget filings were there in 2022?")
    assert a.answered
    raw = corpus.path("filings-csv").read_bytes()
    for c in a.sources:
        if c.source.id == "filings-csv":
            assert raw[c.start : c.end].decode() == c.quote  # bytes of the file, not a header spliced on
            assert "\n" not in c.quote and "year,filings" not in c.quote
            assert c.passage.section.endswith("(columns: year, filings)")
    assert any(c.source.id == "filings-csv" and c.quote == "2022,5300" for c in a.sources)


def test_a_question_about_a_year_is_answered_only_from_that_year(tmp_path):
    docs = {
        f"filings-{y}": (
            f"filings-{y}.md",
            f"# Widget filings\n\nThe Northfield office received {n} widget filings in {y}.\n",
            "markdown",
        )
        for y, n in ((2021, "4,100"), (2022, "5,300"), (2023, "6,100"))
    }
    corpus, ws = _ws(tmp_path, docs)
    a = ws.ask("How many widget filings did the Northfield office receive in 2022?")
    assert a.answered and [c.source.id for c in a.sources] == ["filings-2022"]
    assert a.answer[0].text == "The Northfield office received 5,300 widget filings in 2022."

    missing = ws.ask("How many widget filings did the Northfield office receive in 2018?")
    assert not missing.answered and not missing.answer
    assert (
        "no passage found gives a figure for Northfield in 2018; the nearest evidence is for 2021, 2022 and 2023"
        in missing.reason
    )
    assert {h.passage.source_id for h in missing.passages[:3]} >= {"filings-2021", "filings-2022", "filings-2023"}

    off = AnswerConfig(threshold=0.0, same_year=False)  # the rule is what withholds other years' figures
    ws.answering = off
    assert ws.ask("How many widget filings did the Northfield office receive in 2018?").answered


FOOTNOTE = "The term widget office means any office that files widget reports with the registry."


def test_one_statement_in_two_editions_is_quoted_once_with_both_citations(tmp_path):
    docs = {
        "report-2022": ("report-2022.md", f"# Annual report 2022\n\nThe registry grew.\n\n{FOOTNOTE}\n", "markdown"),
        "report-2023": (
            "report-2023.md",
            "# Annual report 2023\n\nThe registry grew again.\n\n"
            + FOOTNOTE.replace("widget reports", "widget\nreports")
            + "\n",
            "markdown",
        ),
    }
    corpus, ws = _ws(tmp_path, docs)
    a = ws.ask("What does the term widget office mean?")
    assert a.answered
    first = [s for s in a.answer if "widget office means" in s.text]
    assert len(first) == 1, [s.text for s in a.answer]  # shown once …
    cited = [a.sources[n - 1] for n in first[0].citations]
    assert sorted(c.source.id for c in cited) == ["report-2022", "report-2023"]  # … with both citations
    for c in cited:  # each quote verbatim in its own document
        assert _doc(corpus, c.source.id)[c.start : c.end] == c.quote
    assert sum("widget office means" in s.text for s in a.answer) == 1


TABLE = (
    "Widget filings by office\n"
    "                 CY 2021   CY 2022\n"
    "Northfield Office 4,100 5,300\n"
    "Redmont Office 470 520\n"
    "Southgate Office 1,299 1,350\n"
)


def test_a_table_line_s_citation_names_what_it_is_read_with(tmp_path):
    corpus, ws = _ws(tmp_path, {"by-office": ("by-office.txt", TABLE, "text")})
    src = ws.manifest.get("by-office")
    (p,) = [p for p in ws.index.all_passages() if p.source_id == "by-office"]
    units = passage_units(p, [0.0] * len(p.sentences), src, lambda: _doc(corpus, "by-office"), 0, UnitConfig())
    (line,) = [u for u in units if u.text == "Northfield Office 4,100 5,300"]
    assert line.reads_with == "Widget filings by office CY 2021 CY 2022"  # caption and column years, not quoted
    c = Citation(1, src, p, line.start, line.end, line.text, line.reads_with)
    assert _doc(corpus, "by-office")[c.start : c.end] == c.quote
    assert c.to_dict()["reads_with"] == line.reads_with
    assert "read with: Widget filings by office CY 2021 CY 2022. chars" in citation_line(c)
    # the CLI shows it for every table line it quotes
    r = run_cli(
        [
            *location_args(corpus, tmp_path / "index"),
            "ask",
            "--min-confidence",
            "0",
            "--json",
            "How many widget filings came from the Northfield office in 2022?",
        ]
    )
    assert r.exit_code == 0, r.stderr
    for c in json.loads(r.stdout)["sources"]:
        if c["source_id"] == "by-office" and "\n" not in c["quote"]:
            assert c["reads_with"] == "Widget filings by office CY 2021 CY 2022"


API_DOC = """Widget Registry API

C.4. Widget Owner

<widgetOwner>

The owner of the reported widget.

<ownerName>0|1

The full name of the widget's owner.

type string

validation max length is 100 characters

<ownerAddress>0+

A postal address of the widget's owner.

type <address>

C.5. Widget Maker

<maker>1

The company that built the widget.

type string
"""


def test_an_api_element_is_one_unit_with_its_description_type_and_children(tmp_path):
    corpus, ws = _ws(tmp_path, {"widget-api": ("widget-api.txt", API_DOC, "text")})
    src = ws.manifest.get("widget-api")
    doc = _doc(corpus, "widget-api")
    units = [
        u
        for p in ws.index.all_passages()
        if p.source_id == "widget-api"
        for u in passage_units(p, [0.0] * len(p.sentences), src, lambda: doc, 0, UnitConfig())
    ]
    texts = {u.text: u for u in units}
    entry = (
        "<ownerName>0|1\n\nThe full name of the widget's owner.\n\ntype string\n\n"
        "validation max length is 100 characters"
    )
    assert entry in texts and doc[texts[entry].start : texts[entry].end] == entry  # verbatim, offsets slice the text
    assert "<ownerAddress>0+\n\nA postal address of the widget's owner.\n\ntype <address>" in texts
    # a container element is read with its children, up to the next heading (not <maker>, nor the type <address>)
    container = texts["<widgetOwner>\n\nThe owner of the reported widget."]
    assert container.reads_with == "child elements: <ownerName>, <ownerAddress>"
    # an element's type and validation lines are no answers of their own
    assert not {"type string", "validation max length is 100 characters", "type <address>"} & set(texts)
    a = ws.ask("What is the full name field of the widget owner?")
    assert a.answered and a.answer[0].text == " ".join(entry.split())


def test_a_statement_cut_inside_a_citation_is_quoted_to_its_end():
    """pysbd cuts a statute's sentence after "subsection" when "(a) of that section" follows; the unit goes on
    through the citation to the sentence's end, so no quote stops at "as required by subsection"."""
    from ncmec_qa.ingest.chunking import ChunkConfig, chunk_document
    from ncmec_qa.models import Block, Document

    text = (
        "# § 9. Failure to report\n\nA clerk who, while acting in a capacity described in subsection (b) of section "
        "12 of the Widget Act of 1990 in a federal depot, or a covered person as described in subsection (a)(2) of "
        "such section 12 who, learns of facts that give reason to suspect a widget fault, as defined in subsection "
        "(c) of that section, and fails to make a timely report as required by subsection (a) of that section, "
        "shall be fined under this title or imprisoned not more than 1 year or both.\n"
    )
    (p,) = chunk_document(Document("w", "w.md", text, (Block(0, len(text)),), "markdown"), ChunkConfig())
    pieces = [s.text for s in p.sentences if s.text.startswith(("A clerk", "("))]
    assert len(pieces) == 4 and pieces[0].endswith("described in subsection"), pieces  # how pysbd cuts it
    src = Source("w", "w.md", "Widget code", "Widget office", "2024", "markdown", "0" * 64)
    units = passage_units(p, [0.1] * len(p.sentences), src, lambda: text, 0, UnitConfig())
    whole = text[text.index("A clerk") : text.rindex("both.") + 5]
    assert whole in [u.text for u in units]
    assert all(u.text.endswith("both.") for u in units if "A clerk" in u.text or u.text.startswith("(")), [
        u.text[-30:] for u in units
    ]
    assert all(text[u.start : u.end] == u.text for u in units)


def test_primary_sources_are_quoted_before_secondary_ones(tmp_path):
    docs = {
        "commentary": (
            "commentary.md",
            "# Commentary\n\nWidget offices must file every widget report within ten days, commentators say.\n",
            "markdown",
        ),
        "the-rule": (
            "rule.md",
            "# Rule 7\n\nA widget office shall file each widget report within ten days.\n",
            "markdown",
        ),
    }
    corpus = write_tiny_corpus(tmp_path, only=["tiny-notes"])
    corpus.add("commentary", *docs["commentary"][:1], docs["commentary"][1].encode(), "markdown", kind="secondary")
    corpus.add("the-rule", *docs["the-rule"][:1], docs["the-rule"][1].encode(), "markdown")
    ws = open_workspace(corpus, tmp_path / "index")
    assert not ws.build().failures
    ws.answering = AnswerConfig(threshold=0.0, keep_share=0.0)  # quote every candidate: the order is the point
    for q in ("How soon must a widget office file a widget report?", "commentators widget report ten days"):
        a = ws.ask(q)
        ids = [a.sources[s.citations[0] - 1].source.id for s in a.answer]
        assert {"commentary", "the-rule"} <= set(ids), ids
        assert ids.index("the-rule") < ids.index("commentary"), (q, ids)


def test_a_near_duplicate_spelled_otherwise_is_neither_repeated_nor_cited_for_a_text_it_lacks(tmp_path):
    split = FOOTNOTE.replace("registry", "regis try")  # how PDF extraction splits a word
    docs = {
        "report-2022": ("report-2022.md", f"# Annual report 2022\n\nThe registry grew.\n\n{FOOTNOTE}\n", "markdown"),
        "report-2023": ("report-2023.md", f"# Annual report 2023\n\nThe registry grew again.\n\n{split}\n", "markdown"),
    }
    corpus, ws = _ws(tmp_path, docs)
    ws.answering = AnswerConfig(threshold=0.0, keep_share=0.0)
    a = ws.ask("What does the term widget office mean?")
    same = [s for s in a.answer if "widget office means" in s.text]
    assert len(same) == 1, [s.text for s in a.answer]
    for n in same[0].citations:  # the text shown stands in every quote it cites
        assert same[0].text in " ".join(a.sources[n - 1].quote.split())


def test_two_editions_that_give_different_figures_are_shown_side_by_side(tmp_path):
    said = "When the registry opened in 1998, the office received {} widget filings."
    docs = {
        "report-2022": ("report-2022.md", f"# Annual report 2022\n\n{said.format('4,560')}\n", "markdown"),
        "report-2023": ("report-2023.md", f"# Annual report 2023\n\n{said.format('2,772')}\n", "markdown"),
    }
    corpus, ws = _ws(tmp_path, docs)
    a = ws.ask("How many widget filings did the office receive in 1998?")
    assert a.answered
    texts = [s.text for s in a.answer]
    assert said.format("4,560") in texts and said.format("2,772") in texts, texts
    (x,) = a.conflicts
    by_n = {c.n: c for c in a.sources}
    (first, second) = x.citations
    assert {by_n[first].source.id, by_n[second].source.id} == {"report-2022", "report-2023"}
    assert x.figures == (("4,560", "2,772") if by_n[first].source.id == "report-2022" else ("2,772", "4,560"))
    d = a.to_dict()["conflict"]
    assert d == [
        {
            "citations": [first, second],
            "figures": list(x.figures),
            "note": "the sources give different figures for the same statement",
        }
    ]
    r = run_cli(
        [
            *location_args(corpus, tmp_path / "index"),
            "ask",
            "--min-confidence",
            "0",
            "How many widget filings did the office receive in 1998?",
        ]
    )
    assert r.exit_code == 0, r.stderr
    assert (
        f"the sources differ: [{first}] says {x.figures[0]} where [{second}] says {x.figures[1]} "
        "(the same statement otherwise)"
    ) in r.stdout


def test_the_same_statement_about_two_years_is_no_conflict():
    from ncmec_qa.answer.units import figures_apart

    assert (
        figures_apart("The office received 4,100 filings in 2021.", "The office received 5,300 filings in 2022.")
        is None
    )  # a year differs: two years, not two figures for one
    assert figures_apart("The office received 4,100 filings.", "The office received 5,300 filings.") == (
        "4,100",
        "5,300",
    )
    assert figures_apart("The office received 4,100 filings.", "The office filed 5,300 reports.") is None
    assert figures_apart("The office received 4,100 filings.", "The office received 4,100 filings.") is None


def test_footnote_markers_are_not_figures_in_conflict():
    """Two editions number the same sentence's footnote differently: that is no disagreement."""
    from ncmec_qa.answer.units import figures_apart

    assert (
        figures_apart(
            "Operators may attach files to the widget report.3 Files may be images.",
            "Operators may attach files to the widget report.4 Files may be images.",
        )
        is None
    )
    assert (
        figures_apart(
            "Operators file reports under the statute12 every year.",
            "Operators file reports under the statute14 every year.",
        )
        is None
    )
    # a figure beside a footnote marker still counts
    assert figures_apart("Operators filed 1,200 reports.3", "Operators filed 1,500 reports.4") == ("1,200", "1,500")


# -- what `eval` counts about the answers' shape -------------------------------------------------------------


def _answer(question: str, quotes: list[tuple[Source, str, str]]):
    """An answer quoting (source, section, quote) in order, one citation each."""
    cits, sents = [], []
    for i, (src, section, quote) in enumerate(quotes, start=1):
        p = Passage(f"{src.id}:0-{len(quote)}", src.id, src.file, 0, len(quote), quote, section=section)
        cits.append(Citation(i, src, p, 0, len(quote), quote))
        sents.append(AnswerSentence(quote, (i,)))
    return Answer(question, True, tuple(sents), tuple(cits), ())


def test_eval_counts_primary_first_other_years_and_duplicates():
    rule = Source("rule", "rule.md", "Rule 7", "Registry", "2022", "markdown", "0" * 64)
    notes = Source("notes", "notes.md", "Commentary", "Blog", "2023", "markdown", "0" * 64, kind="secondary")
    table = Source("table", "t.csv", "Filings 2020-2023", "Registry", "2024", "csv", "0" * 64)
    gold = (Evidence("rule.md", "Offices keep reports for 90 days."),)
    qs = [
        Question("a", "How long are reports kept?", True, gold),
        Question("b", "How long is a report kept?", True, gold),
        Question("c", "How many filings in 2022?", True, (Evidence("t.csv", "2022,5300"),)),
        Question("d", "How many filings in 2021?", False, ()),
    ]
    answers = {
        "How long are reports kept?": _answer("a", [(rule, "", "Offices keep reports for 90 days.")]),
        "How long is a report kept?": _answer(
            "b",
            [
                (notes, "", "Reports are kept for 90 days, says a blog."),
                (rule, "", "Offices keep reports for 90 days."),
                (rule, "", "Offices  keep reports for 90 days."),
            ],
        ),
        "How many filings in 2022?": _answer("c", [(table, "row 3 (columns: year, filings)", "2022,5300")]),
        "How many filings in 2021?": _answer("d", [(table, "row 3 (columns: year, filings)", "2022,5300")]),
    }
    kinds = {"rule.md": "primary", "notes.md": "secondary", "t.csv": "primary"}
    rep = evaluate(qs, answers.__getitem__, lambda f: None, kind_of_file=kinds.__getitem__)
    assert (rep.primary_first, rep.primary_gold_answered) == (2, 3)  # b quotes the blog first
    assert rep.other_year_answers == 1  # d asks about 2021 and quotes the 2022 row
    assert rep.duplicate_quotes == 1  # b repeats the rule's sentence
    assert answer_shape("How many filings in 2022?", answers["How many filings in 2022?"]) == (False, 0)
    assert (rep.primary_gold_listed, rep.secondary_only_primary_gold) == (0, 0)  # no answer quotes only the blog


def test_eval_counts_secondary_only_answers_whose_primary_gold_is_listed_to_check():
    from dataclasses import replace

    notes = Source("notes", "notes.md", "Commentary", "Blog", "2023", "markdown", "0" * 64, kind="secondary")
    gold = (Evidence("rule.md", "Offices keep reports for 90 days."),)
    qs = [Question("a", "How long are reports kept?", True, gold), Question("b", "How long is it kept?", True, gold)]
    blog = "Reports are kept for 90 days, says a blog."
    text = "Rule 7. Offices keep reports for 90 days."
    listed = Hit(Passage(f"rule:0-{len(text)}", "rule", "rule.md", 0, len(text), text), 0.5)
    other = Hit(Passage("rule:0-7", "rule", "rule.md", 0, 7, "Rule 7."), 0.4)
    answers = {
        "How long are reports kept?": replace(_answer("a", [(notes, "", blog)]), check_against=(other, listed)),
        "How long is it kept?": replace(_answer("b", [(notes, "", blog)]), check_against=(other,)),
    }
    kinds = {"rule.md": "primary", "notes.md": "secondary"}
    rep = evaluate(qs, answers.__getitem__, lambda f: None, kind_of_file=kinds.__getitem__)
    assert (rep.primary_gold_listed, rep.secondary_only_primary_gold) == (1, 2)


def test_an_answer_quoting_only_secondary_sources_says_so(tmp_path):
    from ncmec_qa.answer.answering import SECONDARY_ONLY

    corpus = write_tiny_corpus(tmp_path, only=["tiny-notes"])
    corpus.add(
        "commentary",
        "commentary.md",
        b"# Commentary\n\nWidget offices must file every widget report within ten days, commentators say.\n",
        "markdown",
        kind="secondary",
    )
    corpus.add(
        "the-rule",
        "rule.md",
        b"# Rule 7\n\nA widget office shall file each widget report within ten days.\n",
        "markdown",
    )
    ws = open_workspace(corpus, tmp_path / "index")
    assert not ws.build().failures
    ws.answering = AnswerConfig(threshold=0.0)
    q = "How soon must a widget office file a widget report, commentators say?"
    only = ws.ask(q, sources={"commentary"})
    assert only.answered and {c.source.id for c in only.sources} == {"commentary"}
    assert only.warnings[0] == SECONDARY_ONLY
    both = ws.ask(q, sources={"commentary", "the-rule"})
    if any(c.source.kind != "secondary" for c in both.sources):
        assert SECONDARY_ONLY not in both.warnings
    rule = ws.ask(q, sources={"the-rule"})
    assert rule.answered and SECONDARY_ONLY not in rule.warnings
    r = run_cli(
        [*location_args(corpus, tmp_path / "index"), "ask", "--min-confidence", "0", "--source", "commentary", q]
    )
    assert r.exit_code == 0 and f"note: {SECONDARY_ONLY}" in " ".join(r.stdout.split())
    # the secondary-only answer lists the primary passages to check it against: the rule, and nothing secondary
    listed = [h.passage.source_id for h in ws.primary_nearest(q, [s.text for s in only.answer])]
    assert listed[0] == "the-rule" and "commentary" not in listed  # tiny-notes is a primary document too
    assert [h.passage.source_id for h in ws.primary_nearest(q, [], exclude={"the-rule"})] == ["tiny-notes"]
    assert ws.primary_nearest(q, [], exclude={"the-rule", "tiny-notes"}) == []
    assert ws.primary_nearest(q, [], sources={"commentary"}) == []  # only secondary sources allowed: none
    assert only.check_against == ()  # asked with sources={"commentary"}
    assert rule.check_against == ()  # it quotes the rule itself


def test_a_row_is_read_by_its_own_year_and_its_columns_not_by_its_title():
    """A per-year table titled "1998–2023" names 1998 in every row's context; the row for 2021 is not
    evidence for 1998 (ranker and selector alike), and a bare row is a count of what its columns say."""
    from ncmec_qa.answer.answer_features import UnitCandidate, unit_features
    from ncmec_qa.answer.units import Unit
    from ncmec_qa.search.rank_features import Candidate, QueryTerms, passage_features

    q = QueryTerms.of("How many reports were filed in 1998?", lambda ts: {t: 1.0 for t in ts})
    ctx = "Reports per year, 1998-2023\nrow 3 (columns: year, reports)"
    rows = {
        y: Passage(
            f"t:{i}",
            "t",
            "t.csv",
            i,
            i + 13,
            text,
            section="row 3 (columns: year, reports)",
            sentences=(Sentence(i, i + 13, text, "row"),),
        )
        for i, (y, text) in enumerate((("2021", "2021,29397681"), ("1998", "1998,4560")))
    }
    feats = {y: passage_features(q, Candidate(1, p, ctx, 0.5, (0.5,), 0.1), 1.0) for y, p in rows.items()}
    assert (feats["1998"]["years_named"], feats["1998"]["other_years"]) == (1.0, 0.0)
    assert (feats["2021"]["years_named"], feats["2021"]["other_years"]) == (0.0, 1.0)
    title_only = Passage("t:9", "t", "t.csv", 0, 9, "Reports by", sentences=(Sentence(0, 9, "Reports by"),))
    assert passage_features(q, Candidate(1, title_only, ctx, 0.5, (0.5,), 0.1), 1.0)["years_named"] == 1.0

    def unit(p):
        return UnitCandidate(Unit(p.text, ctx, 0.5, "t", p.start, p.end, p, 0, doc_year=2024), 0, 1.0, 0.5)

    u98, u21 = unit_features(q, unit(rows["1998"])), unit_features(q, unit(rows["2021"]))
    assert (u98["years_named"], u98["other_years"], u21["years_named"], u21["other_years"]) == (1.0, 0.0, 0.0, 1.0)
    assert u98["amount_named"] == 1.0  # "reports" is in its columns, not in "1998,4560"
