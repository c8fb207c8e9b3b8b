"""The loaders: what each format turns into, and how broken files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import (
    COUNTS_CSV,
    RATES_JSON,
    HANDBOOK_MD,
    NOTES_TXT,
    TINY_DOCS,
    make_pdf,
)
from ncmec_qa.errors import LoadError
from ncmec_qa.ingest import LOADERS, load_document
from ncmec_qa.models import Document


def load(tiny_corpus, source_id: str) -> Document:
    file, fmt, _ = TINY_DOCS[source_id]
    return load_document(tiny_corpus.docs / file, source_id, file, fmt)


def block_texts(doc: Document, kind: str | None = None) -> list[str]:
    return [doc.text[b.start : b.end] for b in doc.blocks if kind is None or b.kind == kind]


def block_containing(doc: Document, needle: str):
    found = [b for b in doc.blocks if needle in doc.text[b.start : b.end]]
    assert len(found) == 1, f"{needle!r} is in {len(found)} blocks"
    return found[0]


# -- every loader -----------------------------------------------------------------------------


@pytest.mark.parametrize("source_id", list(TINY_DOCS))
def test_blocks_are_ordered_non_overlapping_trimmed_slices(tiny_corpus, source_id):
    doc = load(tiny_corpus, source_id)
    assert doc.source_id == source_id and doc.file == TINY_DOCS[source_id][0]
    assert doc.format == TINY_DOCS[source_id][1]
    assert doc.blocks
    prev_end = 0
    for b in doc.blocks:
        assert 0 <= prev_end <= b.start < b.end <= len(doc.text), (b, prev_end)
        piece = doc.text[b.start : b.end]
        assert piece == piece.strip(), f"block {b} has surrounding whitespace: {piece!r}"
        prev_end = b.end


# -- Markdown -------------------------------------------------------------------------------------


def test_markdown_offsets_point_into_the_source_itself(tiny_corpus):
    doc = load(tiny_corpus, "tiny-handbook")
    assert doc.text == HANDBOOK_MD


def test_markdown_nested_heading_gives_the_section_path(tiny_corpus):
    doc = load(tiny_corpus, "tiny-handbook")
    contents = block_containing(doc, "A widget report includes the serial number")
    assert contents.kind == "text"
    assert contents.section.endswith("Section 7 Duties > (b) Contents"), contents.section
    duties = block_containing(doc, "Every operator shall file")
    assert duties.section.endswith("Section 7 Duties") and "(b) Contents" not in duties.section
    # a heading of the same level closes the earlier one and its children
    penalties = block_containing(doc, "pays a fine of up to $5,000")
    assert penalties.section.endswith("Section 8 Penalties"), penalties.section
    assert "Section 7" not in penalties.section and "(b) Contents" not in penalties.section
    heading = block_containing(doc, "### (b) Contents")
    assert heading.kind == "heading" and heading.section == contents.section


def test_markdown_table_rows_are_verbatim_blocks_with_the_header_kept(tiny_corpus):
    doc = load(tiny_corpus, "tiny-handbook")
    assert block_texts(doc, "table_header") == ["| Year | Reports filed |"]
    assert block_texts(doc, "row") == ["| 2021 | 1,204 |", "| 2022 | 2,400 |"]
    # the delimiter row is not content
    assert not any(set(t) <= set("|-: ") for t in block_texts(doc))
    for b in doc.blocks:
        if b.kind in ("row", "table_header"):
            assert b.section.endswith("(b) Contents")


# -- HTML -------------------------------------------------------------------------------------------


def test_html_drops_script_style_nav_header_footer_and_head(tiny_corpus):
    doc = load(tiny_corpus, "tiny-html")
    for secret in (
        "SCRIPTSECRET",
        "SCRIPTSECRET2",
        "STYLESECRET",
        "NAVSECRET",
        "HEADERSECRET",
        "FOOTERSECRET",
        "color: red",
        "Registry notes",
        "Home",
    ):
        assert secret not in doc.text, f"{secret!r} leaked into the extracted text"


def test_html_headings_paragraphs_and_table_rows(tiny_corpus):
    doc = load(tiny_corpus, "tiny-html")
    assert block_texts(doc, "heading") == ["Registry Annual Notes", "Counts by region"]
    # whitespace inside a paragraph is collapsed to single spaces
    para = block_containing(doc, "The registry received")
    assert doc.text[para.start : para.end] == "The registry received many widget reports in the spring of 2023."
    assert para.section == "Registry Annual Notes"
    north = block_containing(doc, "Northern offices")
    assert north.section == "Registry Annual Notes > Counts by region"
    assert block_texts(doc, "row") == ["Region | Reports", "North | 7,310", "South | 412"]


def test_html_header_inside_article_is_kept(tmp_path):
    p = tmp_path / "a.html"
    p.write_text(
        "<html><body><header>SITE BANNER</header><article><header><h1>Story title</h1>"
        "<p>Byline text here.</p></header><p>The story body.</p></article></body></html>"
    )
    doc = load_document(p, "a", "a.html", "html")
    assert "SITE BANNER" not in doc.text
    assert "Story title" in doc.text and "Byline text here." in doc.text and "The story body." in doc.text


# -- plain text -------------------------------------------------------------------------------------


def test_text_keeps_the_file_text_and_one_block_per_paragraph(tiny_corpus):
    doc = load(tiny_corpus, "tiny-notes")
    assert doc.text == NOTES_TXT
    assert block_texts(doc) == [
        "Field notes from the widget registry.",
        "The registry keeps every report for ninety days. After that the report is archived.",
        "Operators can ask the registry to correct a report at any time.",
    ]


def test_text_normalises_crlf_and_strips_the_bom(tmp_path):
    p = tmp_path / "crlf.txt"
    p.write_bytes(b"\xef\xbb\xbfFirst line of notes.\r\n\r\nSecond paragraph here.\r\n")
    doc = load_document(p, "crlf", "crlf.txt", "text")
    assert doc.text == "First line of notes.\n\nSecond paragraph here.\n"
    assert block_texts(doc) == ["First line of notes.", "Second paragraph here."]


# -- PDF ----------------------------------------------------------------------------------------------


def test_pdf_blocks_carry_their_page_numbers(tiny_corpus):
    doc = load(tiny_corpus, "tiny-pdf")
    assert doc.format == "pdf"
    assert all(b.page in (1, 2) for b in doc.blocks)
    assert block_containing(doc, "forty missing widget reports").page == 1
    assert block_containing(doc, "Auditors reviewed every office").page == 1
    assert block_containing(doc, "audits happen every spring").page == 2
    pages = [b.page for b in doc.blocks]
    assert pages == sorted(pages)


# -- CSV ----------------------------------------------------------------------------------------------


def test_csv_row_block_is_the_raw_row_line_of_the_file(tiny_corpus):
    doc = load(tiny_corpus, "tiny-counts")
    _header, row1, row2 = COUNTS_CSV.splitlines()
    assert doc.text == COUNTS_CSV  # offsets are the file's own
    assert block_texts(doc) == [row1, row2]
    assert block_texts(doc)[0] == '2022,"400,715",first full year'  # the quoted number, verbatim
    assert [(b.start, b.end) for b in doc.blocks] == [
        (COUNTS_CSV.index(row1), COUNTS_CSV.index(row1) + len(row1)),
        (COUNTS_CSV.index(row2), COUNTS_CSV.index(row2) + len(row2)),
    ]
    assert all(b.kind == "row" for b in doc.blocks)
    assert [b.section for b in doc.blocks] == [
        "row 1 (columns: year, reports, note)",
        "row 2 (columns: year, reports, note)",
    ]


def test_csv_quoted_field_spanning_lines_stays_one_row(tmp_path):
    p = tmp_path / "multi.csv"
    raw = 'name,comment\nalpha,"first line\nsecond line"\nbeta,plain\n'
    p.write_text(raw)
    doc = load_document(p, "m", "multi.csv", "csv")
    assert block_texts(doc) == ['alpha,"first line\nsecond line"', "beta,plain"]
    assert [raw[b.start : b.end] for b in doc.blocks] == block_texts(doc)


def test_csv_with_a_byte_order_mark_and_crlf_line_ends(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(b'\xef\xbb\xbfyear,reports\r\n2008,102029\r\n2009,"1,000"\r\n')
    doc = load_document(p, "b", "bom.csv", "csv")
    assert block_texts(doc) == ["2008,102029", '2009,"1,000"']
    assert doc.blocks[0].section == "row 1 (columns: year, reports)"


# -- JSON ---------------------------------------------------------------------------------------------


def test_json_rows_are_the_file_s_own_text_and_their_section_names_path_and_columns(tiny_corpus):
    doc = load(tiny_corpus, "tiny-rates")
    assert doc.text == RATES_JSON  # offsets are the file's own
    rows = [b for b in doc.blocks if b.kind == "row"]
    assert [doc.text[b.start : b.end] for b in rows] == ['["Alpha", 2.400]', '["Beta", 10]']  # 2.400 as written
    assert [(b.start, b.end) for b in rows] == [
        (RATES_JSON.index('["Alpha"'), RATES_JSON.index('["Alpha"') + 16),
        (RATES_JSON.index('["Beta"'), RATES_JSON.index('["Beta"') + 12),
    ]
    assert {b.section for b in rows} == {"tables > rates > rows (columns: platform, rate)"}
    (cols,) = [b for b in doc.blocks if b.kind == "text"]
    assert doc.text[cols.start : cols.end] == '"columns": ["platform", "rate"]' and cols.section == "tables > rates"


def test_json_flat_fields_of_an_object_are_one_block_as_written(tmp_path):
    p = tmp_path / "o.json"
    raw = (
        '{"Acme": {\n  "brands": ["A", "B"],\n  "unit": "per 1,000",\n  "rows": [{"2023": [1, 2]}],\n  "note": null\n}}'
    )
    p.write_text(raw)
    doc = load_document(p, "o", "o.json", "json")
    assert [(raw[b.start : b.end], b.section, b.kind) for b in doc.blocks] == [
        ('"brands": ["A", "B"],\n  "unit": "per 1,000"', "Acme", "text"),
        ('{"2023": [1, 2]}', "Acme > rows", "row"),
        ('"note": null', "Acme", "text"),
    ]


def test_json_keeps_large_and_exponent_numbers_verbatim(tmp_path):
    p = tmp_path / "n.json"
    p.write_text('{"t": {"columns": ["a", "b", "c"], "rows": [[1.50, 1e3, 12345678901234567890]]}}')
    doc = load_document(p, "n", "n.json", "json")
    assert "[1.50, 1e3, 12345678901234567890]" in doc.text


def test_json_keeps_top_level_scalar_fields(tmp_path):
    """A top-level field is document content too: it must not vanish from the extracted text."""
    p = tmp_path / "top.json"
    p.write_text(
        '{"title": "Widget rates by platform", "unit": "per 1,000 reports",'
        ' "tables": {"rates": {"columns": ["platform", "rate"], "rows": [["Alpha", 2.400]]}}}'
    )
    doc = load_document(p, "top", "top.json", "json")
    assert "Widget rates by platform" in doc.text
    assert "per 1,000 reports" in doc.text


# -- broken inputs ---------------------------------------------------------------------------------


def expect_load_error(path: Path, file: str, fmt: str) -> str:
    with pytest.raises(LoadError) as ei:
        load_document(path, "broken", file, fmt)
    msg = str(ei.value)
    assert msg.startswith(f"{file}: "), f"the message does not name the file first: {msg!r}"
    assert "\n" not in msg
    return msg


@pytest.mark.parametrize("data", [b"", b"   \n\n\t\n"])
def test_empty_file(tmp_path, data):
    p = tmp_path / "empty.md"
    p.write_bytes(data)
    assert expect_load_error(p, "broken/empty.md", "markdown") == "broken/empty.md: empty file"


def test_pdf_that_is_not_a_pdf(tmp_path):
    p = tmp_path / "fake.pdf"
    p.write_text("<html><body>Access denied</body></html>")
    msg = expect_load_error(p, "broken/fake.pdf", "pdf")
    assert "not a PDF" in msg


def test_damaged_pdf(tmp_path):
    p = tmp_path / "damaged.pdf"
    p.write_bytes(make_pdf([["Some text on a page."]])[:120])
    msg = expect_load_error(p, "broken/damaged.pdf", "pdf")
    assert "PDF" in msg or "pdf" in msg


def test_pdf_without_text_asks_for_ocr(tmp_path):
    p = tmp_path / "blank.pdf"
    p.write_bytes(make_pdf([[], []]))
    msg = expect_load_error(p, "broken/blank.pdf", "pdf")
    assert "no extractable text in 2 page(s)" in msg and "OCR" in msg


def test_text_that_is_not_utf8(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("Caf\xe9 notes about the registry.".encode("latin-1"))
    msg = expect_load_error(p, "broken/latin1.txt", "text")
    assert "UTF-8" in msg
    assert "0xe9" in msg and "offset 3" in msg


def test_text_with_nul_bytes(tmp_path):
    p = tmp_path / "nul.txt"
    p.write_bytes(b"looks like text\x00\x00\x01binary")
    assert "NUL" in expect_load_error(p, "broken/nul.txt", "text")


def test_invalid_json_reports_line_and_column(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"rows": [\n  [1, 2],\n  [3, 4\n}\n')
    msg = expect_load_error(p, "broken/bad.json", "json")
    assert "invalid JSON at line 4, column 1" in msg


def test_unsupported_format(tmp_path):
    p = tmp_path / "x.docx"
    p.write_bytes(b"PK\x03\x04 not really")
    msg = expect_load_error(p, "broken/x.docx", "docx")
    assert "unsupported format 'docx'" in msg
    for fmt in LOADERS:
        assert fmt in msg  # says what is supported


def test_missing_file(tmp_path):
    msg = expect_load_error(tmp_path / "nowhere.txt", "broken/nowhere.txt", "text")
    assert "file not found" in msg


def test_html_without_text(tmp_path):
    p = tmp_path / "empty.html"
    p.write_text("<html><head><script>var a = 1;</script></head><body><nav>menu</nav></body></html>")
    assert expect_load_error(p, "broken/empty.html", "html") == "broken/empty.html: no text could be extracted"


def test_csv_row_with_the_wrong_number_of_fields(tmp_path):
    p = tmp_path / "ragged.csv"
    p.write_text("year,reports,note\n2022,10,ok\n2023,11\n")
    msg = expect_load_error(p, "broken/ragged.csv", "csv")
    assert "line 3 has 2 fields, the header has 3" in msg


def test_csv_error_names_the_physical_line(tmp_path):
    """Line numbers in CSV errors are the file's lines, even after a quoted field that spans lines."""
    p = tmp_path / "ragged2.csv"
    p.write_text('year,reports,note\n2022,10,"a note\nover two lines"\n2023,11\n')
    msg = expect_load_error(p, "broken/ragged2.csv", "csv")
    assert "line 4 has 2 fields" in msg, msg
