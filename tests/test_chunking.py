"""Documents to passages and sentences: exact slices, bounded sizes, sections, pages, rows."""

from __future__ import annotations

import pytest
from conftest import TINY_DOCS

from ncmec_qa.ingest import load_document
from ncmec_qa.ingest.chunking import ChunkConfig, chunk_document, split_sentences
from ncmec_qa.models import Block, Document, Passage

WORDS = (
    "registry operator widget report office audit city serial number penalty spring archive "
    "correction region north south filing deadline record"
).split()


def prose(n_sentences: int, seed: int = 0) -> str:
    """Deterministic sentences of 4 to 30 words, authored here."""
    out = []
    for i in range(n_sentences):
        k = 4 + (i * 7 + seed * 3) % 27
        words = [WORDS[(i * 5 + j * 3 + seed) % len(WORDS)] for j in range(k)]
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def long_text_doc() -> Document:
    paras = [prose(12, 1), prose(3, 2), prose(25, 3), "A short one.", prose(9, 4)]
    text = "\n\n".join(paras) + "\n"
    pos, blocks = 0, []
    for p in paras:
        blocks.append(Block(pos, pos + len(p)))
        pos += len(p) + 2
    return Document("long", "long.txt", text, tuple(blocks), "text")


def load_tiny(tiny_corpus, source_id: str) -> Document:
    file, fmt, _ = TINY_DOCS[source_id]
    return load_document(tiny_corpus.docs / file, source_id, file, fmt)


def assert_exact_slices(doc: Document, passages: list[Passage]) -> None:
    ids = [p.passage_id for p in passages]
    assert len(ids) == len(set(ids)), "duplicate passage ids"
    for p in passages:
        assert p.source_id == doc.source_id and p.file == doc.file
        assert p.passage_id == f"{doc.source_id}:{p.start}-{p.end}"
        assert 0 <= p.start < p.end <= len(doc.text)
        assert p.text == doc.text[p.start : p.end]
        assert p.sentences, f"passage {p.passage_id} has no sentences"
        assert p.sentences[0].start == p.start and p.sentences[-1].end == p.end
        prev = p.start
        for s in p.sentences:
            assert s.text == doc.text[s.start : s.end], (p.passage_id, s)
            assert s.text == s.text.strip() and s.text
            assert prev <= s.start < s.end <= p.end
            prev = s.end


# -- exact offsets ------------------------------------------------------------------------------


@pytest.mark.parametrize("source_id", list(TINY_DOCS))
def test_every_passage_and_sentence_is_an_exact_slice(tiny_corpus, source_id):
    doc = load_tiny(tiny_corpus, source_id)
    assert_exact_slices(doc, chunk_document(doc))


@pytest.mark.parametrize(
    "cfg",
    [
        ChunkConfig(),
        ChunkConfig(max_chars=150, max_sentence_chars=80),
        ChunkConfig(max_chars=300, overlap=0),
        ChunkConfig(max_chars=90, max_sentence_chars=40),
    ],
    ids=str,
)
def test_long_text_slices_and_size_bounds(cfg):
    doc = long_text_doc()
    passages = chunk_document(doc, cfg)
    assert_exact_slices(doc, passages)
    for p in passages:
        longest = max(len(s.text) for s in p.sentences)
        assert len(p.text) <= cfg.max_chars + longest, (
            f"{p.passage_id}: {len(p.text)} chars > max_chars {cfg.max_chars} + one sentence ({longest})"
        )
        for s in p.sentences:
            assert len(s.text) <= 2 * cfg.max_sentence_chars, f"sentence of {len(s.text)} chars not split"


def test_nothing_is_dropped(tiny_corpus):
    """Every character of every non-heading block lies inside some passage."""
    docs = [long_text_doc()] + [load_tiny(tiny_corpus, sid) for sid in TINY_DOCS]
    for doc in docs:
        covered = [False] * len(doc.text)
        for p in chunk_document(doc, ChunkConfig(max_chars=200, max_sentence_chars=100)):
            covered[p.start : p.end] = [True] * (p.end - p.start)
        for b in doc.blocks:
            if b.kind == "heading":
                continue
            missing = [i for i in range(b.start, b.end) if not covered[i] and not doc.text[i].isspace()]
            assert not missing, f"{doc.file}: text at {missing[:3]} of block {b} is in no passage"


# -- packing --------------------------------------------------------------------------------------


def even_doc() -> Document:
    """Fifteen sentences of about 50 characters in one paragraph."""
    text = " ".join(f"Office number {i} filed {i * 3} widget reports in spring." for i in range(1, 16))
    return Document("even", "even.txt", text, (Block(0, len(text)),), "text")


def test_consecutive_passages_overlap_by_whole_sentences():
    """With the default overlap a long run gives passages that repeat the previous one's last sentences."""
    doc = even_doc()
    passages = chunk_document(doc, ChunkConfig(max_chars=200))
    assert_exact_slices(doc, passages)
    assert len(passages) >= 4
    assert any(b.start < a.end for a, b in zip(passages, passages[1:])), "no overlap with the default setting"
    for a, b in zip(passages, passages[1:]):
        assert len(a.text) <= 200 and len(b.text) <= 200
        a_spans = [(s.start, s.end) for s in a.sentences]
        b_spans = [(s.start, s.end) for s in b.sentences]
        shared = [sp for sp in b_spans if sp[0] < a.end]
        assert b_spans[: len(shared)] == shared and a_spans[len(a_spans) - len(shared) :] == shared, (
            f"{b.passage_id} does not start with whole trailing sentences of {a.passage_id}"
        )
        assert len(shared) < len(a_spans) and len(shared) < len(b_spans)  # each passage moves on
    covered = {(s.start, s.end) for p in passages for s in p.sentences}
    assert len(covered) == 15  # every sentence is in some passage


def test_no_overlap_when_disabled():
    doc = even_doc()
    passages = chunk_document(doc, ChunkConfig(max_chars=200, overlap=0))
    assert len(passages) >= 4
    for a, b in zip(passages, passages[1:]):
        assert b.start > a.end, f"{a.passage_id} and {b.passage_id} overlap with overlap=0"
    assert sum(len(p.sentences) for p in passages) == 15


def test_heading_starts_a_passage_and_is_kept_in_it(tiny_corpus):
    doc = load_tiny(tiny_corpus, "tiny-handbook")
    passages = chunk_document(doc)
    contents = [p for p in passages if "serial number" in p.text]
    assert len(contents) == 1
    p = contents[0]
    assert p.sentences[0].kind == "heading" and p.sentences[0].text == "### (b) Contents"
    assert p.section.endswith("Section 7 Duties > (b) Contents")
    # the table under the heading stays with it, header row included
    assert [s.text for s in p.sentences if s.kind in ("table_header", "row")] == [
        "| Year | Reports filed |",
        "| 2021 | 1,204 |",
        "| 2022 | 2,400 |",
    ]
    for q in passages:
        assert not all(s.kind == "heading" for s in q.sentences), f"{q.passage_id} is only headings"
        headings = [i for i, s in enumerate(q.sentences) if s.kind == "heading"]
        assert all(i == j for j, i in enumerate(headings)), f"{q.passage_id}: a heading in the middle of a passage"


def test_passages_do_not_cross_sections(tiny_corpus):
    doc = load_tiny(tiny_corpus, "tiny-handbook")
    for p in chunk_document(doc):
        sections = {b.section for b in doc.blocks if b.kind != "heading" and p.start <= b.start < p.end}
        assert sections == {p.section}, (p.passage_id, sections)


def test_passages_do_not_cross_pages_and_carry_the_page(tiny_corpus):
    doc = load_tiny(tiny_corpus, "tiny-pdf")
    passages = chunk_document(doc)
    by_text = {p.page: p.text for p in passages}
    assert set(by_text) == {1, 2}
    assert "forty missing widget reports" in by_text[1] and "every spring" not in by_text[1]
    assert "audits happen every spring" in by_text[2]


@pytest.mark.parametrize("source_id,rows", [("tiny-counts", 2), ("tiny-rates", 2)])
def test_table_rows_are_a_passage_each(tiny_corpus, source_id, rows):
    doc = load_tiny(tiny_corpus, source_id)
    passages = chunk_document(doc)
    row_passages = [p for p in passages if all(s.kind == "row" for s in p.sentences)]
    assert len(row_passages) == rows
    for p in row_passages:
        assert len(p.sentences) == 1


def test_csv_row_passage_is_the_raw_row_and_its_section_names_the_columns(tiny_corpus):
    doc = load_tiny(tiny_corpus, "tiny-counts")
    raw = tiny_corpus.path("tiny-counts").read_text()
    passages = chunk_document(doc)
    assert [p.text for p in passages] == ['2022,"400,715",first full year', "2023,52592,second year"]
    assert [p.section for p in passages] == [
        "row 1 (columns: year, reports, note)",
        "row 2 (columns: year, reports, note)",
    ]
    for p in passages:  # the offsets slice the file itself
        assert raw[p.start : p.end] == p.text


# -- sentences ----------------------------------------------------------------------------------


def test_split_sentences_gives_trimmed_absolute_offsets():
    text = "PREFIX   The first sentence is here.  The second one is here too!   Third?  SUFFIX"
    start, end = text.index("The first"), text.index("SUFFIX")
    spans = split_sentences(text, start, end)
    got = [text[a:b] for a, b in spans]
    assert got == ["The first sentence is here.", "The second one is here too!", "Third?"]


def test_a_sentence_wrapped_over_lines_stays_one_sentence():
    """PDF text (pypdf) breaks lines inside sentences; a quote must be a sentence, not a line."""
    text = (
        "The registry audit found forty missing widget reports in the\n"
        "northern offices during the spring. Auditors reviewed every office\n"
        "in person and signed the report."
    )
    got = [text[a:b] for a, b in split_sentences(text, 0, len(text))]
    assert got == [
        "The registry audit found forty missing widget reports in the\nnorthern offices during the spring.",
        "Auditors reviewed every office\nin person and signed the report.",
    ]


def test_overlong_sentence_is_cut_at_line_breaks_or_semicolons():
    items = "; ".join(f"item number {i} of the registry list" for i in range(40))
    spans = split_sentences(items, 0, len(items), limit=120)
    assert len(spans) > 1
    for a, b in spans:
        assert b - a <= 240
        assert items[a:b] == items[a:b].strip()
    # together they cover the whole run, in order
    assert spans[0][0] == 0 and spans[-1][1] == len(items)
    assert all(x[1] <= y[0] for x, y in zip(spans, spans[1:]))


# -- tables printed as text (PDF pages of figures) ------------------------------------------------


def table_doc() -> Document:
    """A caption, a table of 40 'label  figure' lines (one with three columns), then prose."""
    rows = [f"Region {chr(65 + i % 26)}{i}  {(i * 7919) % 100000:,}" for i in range(40)]
    rows[5] = "Widgets 39,939,298 49,404,779 54,842,374"
    text = "Filings by region\nRegion / Area Filings\n" + "\n".join(rows) + "\n" + prose(6, 5)
    return Document("tbl", "tbl.pdf", text, (Block(0, len(text), page=3),), "pdf")


def test_table_lines_are_units_of_their_own_in_small_passages():
    doc = table_doc()
    cfg = ChunkConfig()
    passages = chunk_document(doc, cfg)
    assert_exact_slices(doc, passages)
    lines = [s for p in passages for s in p.sentences if s.kind == "line"]
    assert {s.text for s in lines} >= {
        f"Region {chr(65 + i % 26)}{i}  {(i * 7919) % 100000:,}" for i in range(40) if i != 5
    }
    assert "Widgets 39,939,298 49,404,779 54,842,374" in {s.text for s in lines}
    assert all("\n" not in s.text for s in lines)
    # the caption lines (no figures at the end) stay prose, and so does the paragraph after the table
    kinds = {s.text: s.kind for p in passages for s in p.sentences}
    assert kinds["Filings by region\nRegion / Area Filings"] == "text"
    table_passages = [p for p in passages if all(s.kind == "line" for s in p.sentences)]
    assert len(table_passages) >= 4
    assert all(len(p.text) <= cfg.table_max_chars for p in table_passages)
    assert all(p.page == 3 for p in passages)
    # every pair of neighbouring rows stands whole in some passage (the overlap)
    for a, b in zip(lines, lines[1:]):
        if a.end < b.start and a.text != b.text:
            assert any(p.start <= a.start and b.end <= p.end for p in passages), (a.text, b.text)


def test_two_lines_ending_in_figures_are_not_a_table():
    text = "The office counted filings in 2021\nand again in 2022\nbefore the deadline passed."
    doc = Document("t", "t.txt", text, (Block(0, len(text)),), "text")
    passages = chunk_document(doc)
    assert [s.kind for p in passages for s in p.sentences] == ["text"]
    assert passages[0].sentences[0].text == text


def test_table_detection_can_be_turned_off():
    doc = table_doc()
    passages = chunk_document(doc, ChunkConfig(table_min_lines=10**6))
    assert not any(s.kind == "line" for p in passages for s in p.sentences)


def test_markdown_table_bars_count_as_table_lines():
    from ncmec_qa.ingest.chunking import table_runs

    text = "| Country | Reports |\n| :-- | :-- |\n| Alpha | 1,132,270 |\n| Beta | 833,909 |\n| Gamma | 12 |\nAfter."
    runs = table_runs(text, 0, len(text), 3)
    assert [(text[a:b], t) for a, b, t in runs] == [
        ("| Country | Reports |\n| :-- | :-- |", False),
        ("| Alpha | 1,132,270 |", True),
        ("| Beta | 833,909 |", True),
        ("| Gamma | 12 |", True),
        ("After.", False),
    ]
