"""Retrieval pieces: years, two-part questions, interleaving, and the hand-set reranker's year, title and
how-many terms; the answer rules of earlier releases (`AnswerConfig(selection="rules")`)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import open_workspace, write_tiny_corpus

from ncmec_qa.answer.answering import AnswerConfig, answer_question
from ncmec_qa.models import Hit, Passage, Sentence, Source
from ncmec_qa.answer.answer_features import asked_kinds, asks_who, laws_only_cited, stated_kinds
from ncmec_qa.answer.units import Unit
from ncmec_qa.search.query import asks_quantity, has_figure, named_terms, question_parts, section_numbers, years_in
from ncmec_qa.search.retrieval import RetrievalConfig, Retriever, interleave


def test_years_in_names_each_year_once_in_order():
    assert years_in("From 2019 to 2023 (and 2019 again), not 1899 or 12023 or 2150.") == ["2019", "2023"]
    assert years_in("no years here, only 52,592 and § 2258A") == []


def test_section_numbers_are_the_citations_not_the_figures_or_years():
    assert section_numbers("18 U.S.C. 2258A(h)(1), § 3509(m) and Pub. L. 115-395") == {"2258A", "3509", "115", "395"}
    assert section_numbers("36,210,368 reports in 2023, $1.5 million, 12.345 and 20 states") == frozenset()


@pytest.mark.parametrize(
    "question, who",
    [
        ("Who compiled the dataset, and what version is it?", True),
        ("Which senator introduced the bill, and who were its cosponsors?", True),
        ("Is the list kept, and who may see it?", True),
        ("Under the rule, who counts as an attorney for the government?", True),
        ("What is the fine for a professional who fails to report?", False),  # a relative clause
        ("Can a user who was reported sue the platform?", False),  # a yes/no question
        ("An adult wrote to a child who never answered. Which incident type fits?", False),  # not the question
    ],
)
def test_a_question_asks_who_only_when_who_is_its_question_word(question, who):
    assert asks_who(question) is who
    assert ("entity" in asked_kinds(question)) is who


def test_a_prison_sentence_asks_a_period_and_a_name_an_entity():
    assert "duration" in asked_kinds("What prison sentence did the offender receive?")
    assert "duration" in asked_kinds("He was sentenced to what, after pleading guilty?")
    assert "duration" not in asked_kinds("What did the court decide in the sentencing appeal?")
    assert "entity" in asked_kinds("What is the name of the engineer that built the tool?")
    assert "duration" in stated_kinds("he was sentenced to 10 years in prison")


def test_a_sum_is_asked_and_stated_only_as_an_amount_of_money():
    asked = asked_kinds("What is the maximum dollar fine for a first offence?")
    assert {"money", "sum"} <= asked
    assert "sum" not in asked_kinds("What penalty applies to a first offence?")  # a penalty, not its amount
    # "fined under this title" states a penalty, not a sum; "$150,000" and "2.5 million dollars" state sums
    assert stated_kinds("shall be fined under this title or imprisoned not more than 1 year") & asked == {"money"}
    assert "sum" in stated_kinds("shall be fined not more than $150,000")
    assert "sum" in stated_kinds("a grant of 2.5 million dollars")
    assert "sum" not in stated_kinds("section 2258A(e), 36,210,368 reports in 2023")


def test_evidence_that_only_cites_the_law_asked_about_is_recognised():
    q = "How does 18 U.S.C. 1030 define 'computer'?"
    ref = Unit("(6) “computer” has the meaning given that term in section 1030 of this title;", "18 U.S.C. § 2256")
    assert laws_only_cited(q, ref) == {"1030"}
    # the law's own text (its number in the title or section) is not a mere reference
    assert laws_only_cited(q, replace(ref, context="18 U.S.C. § 1030 — Fraud and related activity")) == frozenset()
    assert laws_only_cited("How does the law define 'computer'?", ref) == frozenset()  # no law asked about
    assert laws_only_cited(q, None) == frozenset()


@pytest.mark.parametrize(
    "question, parts",
    [
        (
            "How long must records be kept, and can that period be extended?",
            ["How long must records be kept", "can that period be extended?"],
        ),
        ("What does the office file; when is it due?", ["What does the office file", "when is it due?"]),
        ("What fines apply for a first offence versus repeat offences?", None),
        ("Which registries, and which offices, file reports?", None),  # "and which" inside one question
        ("Does the law require scanning, or only reporting what is found?", None),
    ],
)
def test_question_parts(question, parts):
    assert question_parts(question) == (parts or [question])


def _hit(pid: str, score: float = 1.0) -> Hit:
    return Hit(Passage(pid, "s", "f", 0, 1, "x", sentences=(Sentence(0, 1, "x"),)), score)


def test_interleave_takes_turns_and_keeps_the_first_occurrence():
    a = [_hit("a1", 1.2), _hit("a2", 1.1), _hit("a3", 0.9)]
    b = [_hit("b1", 1.4), _hit("a1", 1.3), _hit("b3", 0.5)]
    c = [_hit("c1", 1.0)]
    got = interleave([a, b, c], 10)
    assert [h.passage.passage_id for h in got] == ["a1", "b1", "c1", "a2", "a3", "b3"]
    # scores fall with rank: each is capped by the one above it
    assert [h.score for h in got] == [1.2, 1.2, 1.0, 1.0, 0.9, 0.5]
    assert [h.passage.passage_id for h in interleave([a, b, c], 2)] == ["a1", "b1"]


YEARLY = {
    "filings-2021": (
        "filings-2021.md",
        "# Widget filings\n\nThe office received 4,100 widget filings from the north region in 2021.\n",
    ),
    "filings-2022": (
        "filings-2022.md",
        "# Widget filings\n\nThe office received 5,300 widget filings from the north region in 2022.\n",
    ),
}


def _built(tmp_path, docs: dict[str, tuple[str, str]]):
    """A workspace over the tiny corpus's notes and `docs` (id: (file, text)), built."""
    corpus = write_tiny_corpus(tmp_path, only=["tiny-notes"])
    for sid, (file, text) in docs.items():
        corpus.add(sid, file, text.encode(), "text" if file.endswith(".txt") else "markdown")
    ws = open_workspace(corpus, tmp_path / "index")
    assert not ws.build().failures
    return ws


@pytest.fixture
def yearly_ws(tmp_path):
    ws = _built(tmp_path, YEARLY)
    yield ws
    ws.index.close()


def _scores(ws, cfg: RetrievalConfig, query: str) -> dict[str, float]:
    r = Retriever(ws.index, ws.embed_query, cfg)
    return {h.passage.source_id: h.score for h in r.search(query, k=10)}


def test_reranker_moves_the_passage_of_the_asked_year_up_and_other_years_down(yearly_ws):
    q = "How many widget filings did the office receive from the north region in 2022?"
    on = _scores(yearly_ws, RetrievalConfig(ranker="rules", w_year=0.1), q)
    off = _scores(yearly_ws, RetrievalConfig(ranker="rules", w_year=0.0), q)
    assert on["filings-2022"] == pytest.approx(off["filings-2022"] + 0.1)
    assert on["filings-2021"] == pytest.approx(off["filings-2021"] - 0.1)
    assert max(on, key=on.get) == "filings-2022"
    # a passage that names no year at all is left alone
    assert on["tiny-notes"] == pytest.approx(off["tiny-notes"])


def test_coverage_counts_the_words_of_the_title(yearly_ws):
    ws = yearly_ws
    m = ws.manifest
    titled = [replace(s, title="Quarterly zeppelin ledger") if s.id == "filings-2021" else s for s in m.sources]
    q = "zeppelin ledger"
    with_ctx = _scores(ws, RetrievalConfig(ranker="rules", coverage_context=True, w_year=0), q)
    without = _scores(ws, RetrievalConfig(ranker="rules", coverage_context=False, w_year=0), q)
    # the stored context is the title the index was built with ("filings-2021"), so build again with the new one
    from ncmec_qa.corpus.manifest import save_manifest

    save_manifest(m.with_sources(titled))
    ws.__dict__.pop("manifest", None)
    ws.build()
    with_ctx2 = _scores(ws, RetrievalConfig(ranker="rules", coverage_context=True, w_year=0), q)
    without2 = _scores(ws, RetrievalConfig(ranker="rules", coverage_context=False, w_year=0), q)
    assert with_ctx == pytest.approx(without)  # no passage's title has the words yet
    gain = with_ctx2["filings-2021"] - without2["filings-2021"]
    assert gain == pytest.approx(
        RetrievalConfig(ranker="rules").w_coverage
    )  # both query words are in the title: full coverage
    assert with_ctx2["filings-2022"] == pytest.approx(without2["filings-2022"])


def test_split_parts_searches_each_part_and_interleaves(yearly_ws):
    q = "How many widget filings came in 2021, and how many in 2022?"
    r = Retriever(
        yearly_ws.index,
        yearly_ws.embed_query,
        RetrievalConfig(ranker="rules", split_parts=True, part_min_score=float("-inf")),
    )
    whole = Retriever(yearly_ws.index, yearly_ws.embed_query, RetrievalConfig(ranker="rules"))._search(
        q, 10, None, None
    )
    part1 = Retriever(yearly_ws.index, yearly_ws.embed_query, RetrievalConfig(ranker="rules"))._search(
        question_parts(q)[0], 10, None, None
    )
    part2 = Retriever(yearly_ws.index, yearly_ws.embed_query, RetrievalConfig(ranker="rules"))._search(
        question_parts(q)[1], 10, None, None
    )
    got = r.search(q, k=10)
    assert [h.passage.passage_id for h in got] == [h.passage.passage_id for h in interleave([whole, part1, part2], 10)]
    assert got[0].passage.passage_id == whole[0].passage.passage_id


# -- answers to "how many" must state an amount -------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("CY 2021 CY 2022 CY 2023", False),
        ("See 18 U.S.C. § 2258A(b)(4).", False),
        ("The office received 5,300 filings in 2022.", True),
        ("within 90 days", True),
        ("North region  8,923,738", True),
        ("Filings by region", False),
    ],
)
def test_has_figure(text, expected):
    assert has_figure(text) is expected


def _answer(question: str, sentences: list[str], cfg: AnswerConfig = AnswerConfig(selection="rules")):
    text = " ".join(sentences)
    spans, pos = [], 0
    for s in sentences:
        spans.append(Sentence(pos, pos + len(s), s))
        pos += len(s) + 1
    p = Passage("doc:0-1", "doc", "doc.txt", 0, len(text), text, sentences=tuple(spans))
    src = Source("doc", "doc.txt", "A document", "A publisher", "2024", "text", "0" * 64)
    hit = Hit(p, 2.0, reranked=True)
    import numpy as np

    return answer_question(question, [hit], {"doc": src}, lambda _p: np.full(len(spans), 0.8), cfg)


FILED = "The office received 5,300 widget filings in 2022."
NO_FIGURE = "the question asks for a number and no retrieved sentence gives one"
OTHER_THING = "the question asks for a number and no sentence that gives one shares a word with it, years aside"


@pytest.mark.parametrize(
    "question, sentence, cfg, reason",
    [
        # years are not an amount
        (
            "How many widget filings were tagged as urgent in 2022?",
            "The chart below shows widget filings received in CY 2021 and CY 2022.",
            AnswerConfig(selection="rules"),
            NO_FIGURE,
        ),
        ("How many widget filings were received in 2022?", FILED, AnswerConfig(selection="rules"), None),
        # an amount of something else: the sentence shares no word with the question but its year
        ("How many gadget recalls were issued in 2022?", FILED, AnswerConfig(selection="rules"), OTHER_THING),
        (
            "How many gadget recalls and widget filings were there in 2022?",
            FILED,
            AnswerConfig(selection="rules"),
            None,
        ),  # one word will do
        (
            "How many gadget recalls were issued in 2022?",
            "Gadget recalls were listed in 2022.",
            AnswerConfig(selection="rules"),
            NO_FIGURE,
        ),
        # the word rule is an option of its own (the quality bench has a row without it)
        (
            "How many gadget recalls were issued in 2022?",
            FILED,
            AnswerConfig(selection="rules", quantity_words=False),
            None,
        ),
    ],
)
def test_a_how_many_question_needs_an_amount_of_what_it_asks_about(question, sentence, cfg, reason):
    a = _answer(question, [sentence], cfg)
    if reason is None:
        assert a.answered, a.reason
        assert [s.text for s in a.answer] == [sentence]
    else:
        assert not a.answered
        assert a.reason.endswith(f"({reason})"), a.reason


def test_a_table_row_that_names_what_the_question_names_is_the_answer():
    """Rows of a chunked table count as much as their passage when they share a word with the
    question; the caption above the rows is context, never an answer sentence."""
    import numpy as np

    rows = ["Filings by Office", "Northfield Office 52,592", "Redmont Office 470", "Southgate Office 1,299"]
    text = "\n".join(rows)
    spans, pos = [], 0
    for r in rows:
        spans.append(Sentence(pos, pos + len(r), r, "text" if r == rows[0] else "line"))
        pos += len(r) + 1
    p = Passage("doc:0-1", "doc", "doc.pdf", 0, len(text), text, page=4, sentences=tuple(spans))
    src = Source("doc", "doc.pdf", "Widget filings by office, 2022", "A publisher", "2024", "pdf", "0" * 64)
    own = np.array([0.70, 0.20, 0.25, 0.22])  # the caption alone reads closest to the question
    hit = Hit(p, 2.0, cosine=0.65, reranked=True)
    a = answer_question(
        "How many widget filings came from the Northfield office?",
        [hit],
        {"doc": src},
        lambda _p: own,
        AnswerConfig(selection="rules"),
    )
    assert a.answered, a.reason
    assert [s.text for s in a.answer] == ["Northfield Office 52,592"]
    c = a.sources[0]
    assert (c.start, c.end) == (text.index("Northfield"), text.index("52,592") + 6)
    # without a passage cosine the row keeps its own (low) cosine and the answer is withheld
    b = answer_question(
        "How many widget filings came from the Northfield office?",
        [replace(hit, cosine=None)],
        {"doc": src},
        lambda _p: own,
        AnswerConfig(selection="rules"),
    )
    assert not b.answered


def test_a_part_whose_passages_score_below_the_floor_adds_nothing(yearly_ws):
    q = "How many widget filings came in 2021, and how many in 2022?"
    parts = question_parts(q)
    base = RetrievalConfig(ranker="rules")
    whole = Retriever(yearly_ws.index, yearly_ws.embed_query, base)._search(q, 10, None, None)
    part1 = Retriever(yearly_ws.index, yearly_ws.embed_query, base)._search(parts[0], 10, None, None)
    part2 = Retriever(yearly_ws.index, yearly_ws.embed_query, base)._search(parts[1], 10, None, None)
    floor = sorted(h.score for h in part1 + part2)[len(part1 + part2) // 2]  # keeps some, drops some
    r = Retriever(yearly_ws.index, yearly_ws.embed_query, replace(base, part_min_score=floor))
    kept = [[h for h in part if h.score >= floor] for part in (part1, part2)]
    assert 0 < sum(map(len, kept)) < len(part1) + len(part2)
    got = r.search(q, k=10)
    assert [h.passage.passage_id for h in got] == [h.passage.passage_id for h in interleave([whole, *kept], 10)]
    never = Retriever(yearly_ws.index, yearly_ws.embed_query, replace(base, part_min_score=float("inf")))
    assert [h.passage.passage_id for h in never.search(q, k=10)] == [h.passage.passage_id for h in whole]


# -- how-many questions: tables first, and the row that names the question's name -----------------


@pytest.mark.parametrize(
    "question, names",
    [
        (
            "According to NCMEC's company-by-company figures, how many reports came from Reddit in 2022?",
            {"ncmec", "reddit"},
        ),
        ("How many reports were associated with India? Which Region led?", {"india", "region"}),  # not "which"
        ("how many widget filings came in 2022?", set()),
    ],
)
def test_named_terms_are_the_words_capitalised_mid_sentence(question, names):
    assert named_terms(question) == names


@pytest.mark.parametrize(
    "question, expected",
    [
        ("How many widget filings came in 2022?", True),
        ("In 2022, how many filings were flagged?", True),
        ("What share of all reports does one office file?", True),
        ("Which office files the most reports?", False),
        ("Filings rose from 4,100 in 2021 to 5,300 in 2022.", False),  # a claim, not a question for an amount
    ],
)
def test_asks_quantity(question, expected):
    assert asks_quantity(question) is expected


TABLES = {
    # a table printed as text: three lines that end in figures become "line" units
    "by-office": (
        "by-office.txt",
        "Widget filings by office\nNorthfield Office 52,592\nRedmont Office 470\nSouthgate Office 1,299\n",
    ),
    "prose-count": ("prose-count.md", "# Widget filings\n\nThe offices together received 54,361 widget filings.\n"),
    "prose-only": (
        "prose-only.md",
        "# Widget filings\n\nWidget filings are counted by the office that received them.\n",
    ),
}


@pytest.fixture
def tables_ws(tmp_path):
    ws = _built(tmp_path, TABLES)
    kinds = {p.source_id: {s.kind for s in p.sentences} for p in ws.index.all_passages()}
    assert "line" in kinds["by-office"] and "line" not in kinds["prose-count"]
    yield ws
    ws.index.close()


def test_a_how_many_question_moves_tables_up_and_the_row_it_names_most(tables_ws):
    off = RetrievalConfig(ranker="rules", w_amount=0.0, w_named=0.0, w_year=0.0)
    on = replace(off, w_amount=0.25, w_named=0.1)
    named = "How many widget filings came from the Northfield office?"
    a, b = _scores(tables_ws, on, named), _scores(tables_ws, off, named)
    assert a["by-office"] == pytest.approx(b["by-office"] + 0.25 + 0.1)  # a line names "Northfield"
    assert a["prose-count"] == pytest.approx(b["prose-count"] + 0.125)  # an amount, but not in a table
    assert a["prose-only"] == pytest.approx(b["prose-only"])
    assert a["tiny-notes"] == pytest.approx(b["tiny-notes"])
    unnamed = "How many widget filings did the offices receive?"
    a, b = _scores(tables_ws, on, unnamed), _scores(tables_ws, off, unnamed)
    assert a["by-office"] == pytest.approx(b["by-office"] + 0.25)
    # a question that does not ask for an amount is left alone
    which = "Which office received the Northfield widget filings?"
    assert _scores(tables_ws, on, which) == pytest.approx(_scores(tables_ws, off, which))


def test_contexts_of_given_rows_come_in_the_order_given(yearly_ws):
    ix = yearly_ws.index
    every = ix.contexts()
    assert len(every) == ix.size >= 3
    assert ix.contexts([3, 1]) == [every[2], every[0]]
    assert ix.contexts([ix.size + 7]) == [""]  # no such row
    assert ix.contexts([2] * 1201) == [every[1]] * 1201  # more ids than one query takes


def test_every_reranked_hit_carries_its_passage_cosine(yearly_ws, monkeypatch):
    """Also a passage that only the lexical retriever found: the answerer weighs table lines by it."""
    ws = yearly_ws
    notes = ws.index.rowid_of(next(p.passage_id for p in ws.index.all_passages() if p.source_id == "tiny-notes"))
    monkeypatch.setattr(ws.index, "dense_search", lambda qv, k: [(notes, 0.5)])  # the dense side finds the notes alone
    q = "widget filings north region 2021"
    qv = ws.embed_query(q)
    hits = Retriever(ws.index, ws.embed_query, RetrievalConfig(ranker="rules", split_parts=False)).search(
        q, k=10, qv=qv
    )
    assert {h.passage.source_id for h in hits} == {"tiny-notes", "filings-2021", "filings-2022"}
    assert all(h.reranked for h in hits)
    for h in hits:
        rid = ws.index.rowid_of(h.passage.passage_id)
        assert (h.dense_rank == 1) if rid == notes else (h.dense_rank is None)
        assert h.cosine == pytest.approx(float(ws.index.vectors[rid - 1] @ qv))  # its own, whoever found it
