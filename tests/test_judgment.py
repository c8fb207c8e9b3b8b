"""The learned judgment on the real index (slow): the issue's examples with their expected behaviour, each
learned decision depending on its model (inverted, the decision changes; removed, a clear error), and
`ncmec-qa train --check` reproducing the committed models from ../shared/train."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from conftest import REFERENCE_CORPUS, REPO, REPO_MANIFEST, SHARED, norm_ws, run_cli

from ncmec_qa.learn.shipped import ModelMissing
from ncmec_qa.verify import CONTRADICTED, NOT_FOUND, SUPPORTED, verify_claim
from ncmec_qa.workspace import Workspace

pytestmark = pytest.mark.slow

FINE = "What is the fine for a provider that knowingly and willfully fails to report?"
TIKTOK_2018 = "How many CyberTipline reports did TikTok submit in 2018?"
FLAGSHIP = "Do NCMEC referrals catch downloaders, or only uploaders?"
FUNDING = "How much federal funding did NCMEC receive to operate the CyberTipline in 2023?"
FINE_CLAIM = (
    "A provider that knowingly and willfully fails to report shall be fined not more than $150,000 for an "
    "initial failure."
)


def _with(ws: Workspace, **models) -> Workspace:
    """The same index and encoder, other models."""
    w = Workspace(ws.paths, judgment=replace(ws.models, **models))
    w.__dict__.update(index=ws.index, query_embedder=ws.query_embedder)
    return w


def _inverted(model):
    return replace(model, coef=-model.coef, intercept=-model.intercept)


# -- the examples -----------------------------------------------------------------------------


def test_the_fine_is_quoted_with_its_amounts(reference_ws):
    a = reference_ws.ask(FINE)
    assert a.answered, a.reason
    texts = [s.text for s in a.answer]
    unit = next((t for t in texts if "shall be fined" in t), None)
    assert unit is not None, texts
    # the statute's lead-in and the list items that carry the amounts, as one quote
    assert "$150,000" in unit and "$300,000" in unit, unit
    c = a.sources[a.answer[texts.index(unit)].citations[0] - 1]
    assert c.source.id == "usc-18-2258a" and reference_ws.index.document_text(c.source.id)[c.start : c.end] == c.quote


def test_the_readme_s_opening_example_is_answered_as_it_shows(reference_ws):
    block = (REPO / "README.md").read_text(encoding="utf-8").split("```console\n", 1)[1].split("```", 1)[0]
    question = re.match(r'\$ ncmec-qa ask "([^"]+)"\n', block)
    assert question, block
    a = reference_ws.ask(question.group(1))
    assert a.answered, a.reason
    c = a.sources[0]
    shown = block.split("\n[1] ", 1)[1].split("\n", 1)[0]
    assert f"{c.source.title}." in shown and f"chars {c.start}-{c.end}." in shown, (shown, c)
    assert f"{c.passage.section.rstrip('.')}. chars" in shown, (shown, c.passage.section)
    assert "note: usc-18-2258a may be superseded" in block and any("usc-18-2258a" in w for w in a.warnings)


def test_a_year_no_table_covers_is_not_answered_with_other_years(reference_ws):
    a = reference_ws.ask(TIKTOK_2018)
    assert not a.answered and a.answer == () and a.sources == ()
    assert "2018" in a.reason, a.reason
    assert a.passages  # the nearest passages are still shown


def test_a_year_no_table_covers_is_explained_with_the_years_the_corpus_has(reference_ws):
    reason = reference_ws.ask(TIKTOK_2018).reason
    assert (
        "no passage found gives a figure for" in reason
        and "TikTok" in reason
        and "in 2018; the nearest evidence is for" in reason
    ), reason
    has = reason.split("the nearest evidence is for", 1)[1]
    assert "2022" in has and "2023" in has and "2018" not in has, reason


def test_csv_and_json_citations_slice_the_file_itself(reference_ws):
    """The derived tables' passages quote the file's own bytes: no header spliced onto a row."""
    raw = {
        s.id: (REFERENCE_CORPUS / s.file).read_bytes()
        for s in reference_ws.manifest.sources
        if s.format in ("csv", "json")
    }
    assert len(raw) >= 3
    a = reference_ws.ask("How many reports did the CyberTipline receive in 2008?")
    hits = [h.passage for h in reference_ws.search("CyberTipline reports 2008 year", k=40, sources=set(raw))]
    assert hits and [p for p in hits if p.text == "2008,102029"]
    for p in [*hits, *(h.passage for h in a.passages if h.passage.source_id in raw)]:
        assert raw[p.source_id].decode("utf-8-sig")[p.start : p.end] == p.text, p.passage_id
        assert "(columns:" in p.section or p.section, p.passage_id
    (row,) = [p for p in hits if p.text == "2008,102029"]
    assert row.section.endswith("(columns: year, reports)") and row.end <= len(raw[row.source_id])


def _quoting(ws: Workspace, question: str):
    """What the answer quotes when the abstainer lets everything through (what is quoted, not whether)."""
    from ncmec_qa.answer.answering import AnswerConfig

    w = _with(ws)
    w.answering = AnswerConfig(threshold=0.0)
    a = w.ask(question)
    for c in a.sources:
        assert ws.index.document_text(c.source.id)[c.start : c.end] == c.quote
    return a


def test_a_definition_is_its_own_list_item_quoted_once(reference_ws):
    a = reference_ws.ask("What does the term provider mean?")
    assert a.answered, a.reason
    first = a.answer[0]
    assert first.text == (
        "(6) the term “provider” means an electronic communication service provider or remote computing service;"
    )
    assert a.sources[first.citations[0] - 1].source.id == "usc-18-2258e"
    texts = [" ".join(s.text.split()).lower() for s in a.answer]
    assert len(texts) == len(set(texts))  # no footnote repeated from two editions


def test_api_fields_are_quoted_as_whole_elements(reference_ws):
    a = _quoting(
        reference_ws,
        "Which fields does the CyberTipline Reporting API provide for the intended recipient of the content?",
    )
    assert a.answered and a.answer
    for s in a.answer:
        c = a.sources[s.citations[0] - 1]
        assert c.source.id == "ncmec-api-docs-2025" and c.passage.section.endswith("B.6. Intended Recipient")
        assert c.quote.startswith("<") and "intended recipient" in c.quote and "\n\ntype " in c.quote, c.quote


def test_a_platform_s_count_is_for_the_year_asked_with_no_other_year_beside_it(reference_ws):
    a = _quoting(reference_ws, "How many reports did Snapchat submit in 2021?")
    assert [s.text for s in a.answer] == ["Snapchat 512,522"]
    (c,) = a.sources
    assert c.source.id == "ncmec-esp-2021" and c.source.title.startswith("2021 ") and not a.conflicts


def test_two_reports_that_disagree_on_1998_are_shown_side_by_side(reference_ws):
    a = _quoting(reference_ws, "How many reports did the CyberTipline receive in 1998?")
    by_doc = {c.source.id: c.quote for c in a.sources}
    assert "2,772 reports" in by_doc["ncmec-ojjdp-2023"] and "4,560 reports" in by_doc["ncmec-ojjdp-2022"]
    (x,) = a.conflicts
    assert sorted(x.figures) == ["2,772", "4,560"]
    assert {a.sources[n - 1].source.id for n in x.citations} == {"ncmec-ojjdp-2022", "ncmec-ojjdp-2023"}


def test_the_flagship_answer_says_when_it_rests_on_secondary_sources_only(reference_ws):
    from ncmec_qa.answer.answering import SECONDARY_ONLY

    # no primary document answers it in words the selector and abstainer accept (the API's intended-recipient
    # fields are about recipients, not "downloaders"): the answer says so before anything else
    a = reference_ws.ask(FLAGSHIP)
    assert a.answered and {c.source.id for c in a.sources} == {"seed-factually-2026"}
    assert a.warnings[0] == SECONDARY_ONLY


def test_the_flagship_answer_lists_primary_passages_to_check_it_against(reference_ws):
    from ncmec_qa.answer.answering import AnswerConfig

    a = reference_ws.ask(FLAGSHIP)
    listed = a.check_against
    assert len(listed) == 5 and len({h.passage.passage_id for h in listed}) == 5
    kinds = {s.id: s.kind for s in reference_ws.manifest.sources}
    assert all(kinds[h.passage.source_id] == "primary" for h in listed)
    for h in listed:  # verbatim: each passage is the slice of its document its offsets name
        p = h.passage
        assert reference_ws.document_text(p.source_id)[p.start : p.end] == p.text
    # among them, found by the quote that speaks of IP addresses: the API's IP capture event for an upload
    api = [norm_ws(h.passage.text) for h in listed if h.passage.source_id == "ncmec-api-docs-2025"]
    assert any("the IP address of the computer a user used to upload" in t for t in api), api
    # the answer itself is unchanged: still the seed article's quotes, not these passages
    assert {c.source.id for c in a.sources} == {"seed-factually-2026"}
    assert a.to_dict()["check_against"] == [h.to_dict() for h in listed]
    # a primary source excluded is never listed; with only secondary sources allowed nothing is
    out = reference_ws.ask(FLAGSHIP, exclude={"ncmec-api-docs-2025"})
    assert out.check_against and all(h.passage.source_id != "ncmec-api-docs-2025" for h in out.check_against)
    only = reference_ws.ask(FLAGSHIP, sources={"seed-factually-2026", "grimm-2024"})
    assert only.answered and only.check_against == ()
    # an answer that quotes a primary source lists nothing, and check_against=0 turns the list off
    assert reference_ws.ask(FINE).check_against == ()
    off = Workspace(reference_ws.paths, answering=AnswerConfig(check_against=0))
    off.__dict__.update(index=reference_ws.index, query_embedder=reference_ws.query_embedder)
    assert off.ask(FLAGSHIP).check_against == ()


def test_the_primary_passages_to_check_are_printed_under_their_own_heading(reference_ws):
    import json

    from ncmec_qa.render.render import CHECK_AGAINST

    args = ["--corpus", str(REPO_MANIFEST), "--index", str(reference_ws.paths.index), "--docs", str(REFERENCE_CORPUS)]
    listed = [h.passage.passage_id for h in reference_ws.ask(FLAGSHIP).check_against]
    r = run_cli([*args, "-q", "ask", FLAGSHIP])
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    at = lines.index(CHECK_AGAINST)  # after the sources and the note, never among the quotes
    assert lines.index("Sources") < at and lines[at - 2].startswith("note: every quote above is from a secondary")
    numbered = [ln.split()[1] for ln in lines[at + 1 :] if ln[:1].isdigit()]
    assert numbered == listed
    md = run_cli([*args, "-q", "ask", "--markdown", FLAGSHIP]).stdout.splitlines()
    at = md.index(f"{CHECK_AGAINST}:")
    assert [ln.split("`")[1] for ln in md[at:] if ln.startswith("- `")] == listed
    d = json.loads(run_cli([*args, "-q", "ask", "--json", FLAGSHIP]).stdout)
    assert [p["passage_id"] for p in d["check_against"]] == listed
    from ncmec_qa import schemas

    assert not schemas.errors(d)  # a listed passage has the shape of any passage
    assert schemas.errors({**d, "check_against": [{"passage_id": listed[0]}]})  # and the schema checks it
    fine = json.loads(run_cli([*args, "-q", "ask", "--json", FINE]).stdout)
    assert fine["check_against"] == [] and CHECK_AGAINST not in run_cli([*args, "-q", "ask", FINE]).stdout


def test_a_figure_nobody_published_is_not_answered_with_report_counts(reference_ws):
    a = reference_ws.ask(FUNDING)
    assert not a.answered, [s.text for s in a.answer]


def test_a_law_the_corpus_only_cites_is_not_answered_with_the_citation(reference_ws):
    # 18 U.S.C. § 2256 adopts section 1030's definition of "computer" by reference; the corpus lacks § 1030
    a = reference_ws.ask("How does section 1030 of title 18 define a computer?")
    assert not a.answered, [s.text for s in a.answer]
    assert "only cites section 1030" in a.reason, a.reason
    assert any("1030" in h.passage.text for h in a.passages)  # the citing passage is shown as the nearest
    # the abstainer reads it: without the signal the same evidence is answered
    plain = replace(reference_ws.models.abstainer, coef=reference_ws.models.abstainer.coef.copy())
    plain.coef[list(plain.features).index("cites_asked_law")] = 0.0
    assert _with(reference_ws, abstainer=plain).ask("How does section 1030 of title 18 define a computer?").answered


def test_a_dollar_amount_the_statute_leaves_to_the_general_fines_is_not_answered(reference_ws):
    # 18 U.S.C. § 2258 says only "shall be fined under this title": a penalty, not a sum
    q = "What is the maximum dollar fine for a professional who fails to report child abuse on federal land?"
    a = reference_ws.ask(q)
    assert not a.answered, [s.text for s in a.answer]
    assert "states no sum of money" in a.reason, a.reason
    assert any("fined under this title" in h.passage.text for h in a.passages)
    # the abstainer reads it: without the amount signals the same evidence is answered
    plain = replace(reference_ws.models.abstainer, coef=reference_ws.models.abstainer.coef.copy())
    for f in ("miss_sum", "miss_money"):
        plain.coef[list(plain.features).index(f)] = 0.0
    assert _with(reference_ws, abstainer=plain).ask(q).answered
    # and the fine of § 2258A(e), which states its sums, is still answered (test_the_fine_is_quoted_with_its_amounts)


def test_a_division_of_the_fbi_is_not_supported(reference_ws):
    v = verify_claim(reference_ws, "NCMEC is a division of the FBI.")
    assert v.verdict != SUPPORTED, v.reason


def test_a_number_of_analysts_nobody_published_is_not_contradicted(reference_ws):
    v = verify_claim(reference_ws, "NCMEC employs 400 analysts to review CyberTipline reports.")
    assert v.verdict != CONTRADICTED, v.reason


@pytest.mark.parametrize(
    "claim, verdict, where",
    [
        (FINE_CLAIM, SUPPORTED, "usc-18-2258a"),
        (
            "NCMEC must notify the provider when it is unable to forward a report to a foreign agency.",
            SUPPORTED,
            "usc-18-2258a",
        ),
        ("The law requires every provider to monitor all of its users.", CONTRADICTED, "usc-18-2258a"),
    ],
)
def test_claims_the_statute_settles(reference_ws, claim, verdict, where):
    v = verify_claim(reference_ws, claim, exclude={"seed-factually-2026"})
    assert v.verdict == verdict, v.reason
    assert v.evidence and v.evidence[0].source.id == where
    for c in v.evidence:
        assert reference_ws.index.document_text(c.source.id)[c.start : c.end] == c.quote


def test_the_seed_article_is_not_all_not_found(reference_ws):
    import json

    args = ["--corpus", str(REPO_MANIFEST), "--index", str(reference_ws.paths.index), "--docs", str(REFERENCE_CORPUS)]
    r = run_cli(
        [
            *args,
            "-q",
            "verify",
            "--file",
            str(REFERENCE_CORPUS / "seed" / "000_55185e94c4a0bdcf.txt"),
            "--exclude-source",
            "seed-factually-2026",
            "--json",
        ]
    )
    *items, summary = [
        d for d in map(json.loads, r.stdout.splitlines()) if d["type"] != "skipped"
    ]  # JSON Lines, the summary last
    assert summary["type"] == "summary" and summary["checked"] == len(items)
    assert len(items) >= 10
    decided = [d for d in items if d["verdict"] != NOT_FOUND]
    assert decided, [d["reason"] for d in items]
    for d in decided:
        assert d["evidence"] and all(
            norm_ws(e["quote"]) and e["source_id"] != "seed-factually-2026" for e in d["evidence"]
        )


# -- every learned decision depends on its model ------------------------------------------------------------


def test_the_ranker_decides_the_order(reference_ws):
    top = reference_ws.search(FINE, k=3)[0]
    assert "shall be fined" in top.passage.text
    inverted = _with(reference_ws, ranker=_inverted(reference_ws.models.ranker)).search(FINE, k=3)[0]
    assert "shall be fined" not in inverted.passage.text


def test_the_selector_decides_what_is_quoted(reference_ws):
    from ncmec_qa.answer.answering import AnswerConfig

    def quoted(ws):
        ws.answering = AnswerConfig(threshold=0.0)
        return [s.text for s in ws.ask(FINE).answer]

    assert any("$150,000" in t for t in quoted(_with(reference_ws)))
    assert not any(
        "$150,000" in t for t in quoted(_with(reference_ws, selector=_inverted(reference_ws.models.selector)))
    )


def test_the_abstainer_decides_whether_to_answer(reference_ws):
    # (TikTok in 2018 is withheld before the abstainer: no evidence found is for 2018; 2023 counts are found here)
    a = reference_ws.ask(FUNDING)
    assert not a.answered and "the evidence is unlikely to answer it" in a.reason, a.reason
    flipped = _with(reference_ws, abstainer=_inverted(reference_ws.models.abstainer))
    assert flipped.ask(FUNDING).answered


def test_the_verdict_model_decides_the_verdict(reference_ws):
    assert verify_claim(reference_ws, FINE_CLAIM).verdict == SUPPORTED
    flipped = _with(reference_ws, verdict=_inverted(reference_ws.models.verdict))
    assert verify_claim(flipped, FINE_CLAIM).verdict != SUPPORTED


@pytest.mark.parametrize("name", ["ranker", "selector", "abstainer", "verdict"])
def test_without_a_model_nothing_is_decided_silently(reference_ws, tmp_path, monkeypatch, name):
    from ncmec_qa.learn.shipped import MODEL_NAMES, PARAMS

    for n in MODEL_NAMES:
        if n != name:
            (tmp_path / f"{n}.json").write_text((PARAMS / f"{n}.json").read_text())
    monkeypatch.setenv("NCMEC_QA_MODELS", str(tmp_path))
    w = Workspace.open(corpus=REPO_MANIFEST, index=reference_ws.paths.index, docs=REFERENCE_CORPUS)
    w.__dict__["index"] = reference_ws.index
    w.__dict__["query_embedder"] = reference_ws.query_embedder
    with pytest.raises(ModelMissing, match=f"the learned {name} model is missing"):
        verify_claim(w, FINE_CLAIM) if name == "verdict" else w.ask(FINE)


# -- the committed models are what the trainer makes -----------------------------------------------------


def test_training_on_the_training_sets_reproduces_the_committed_models(reference_ws):
    args = ["--corpus", str(REPO_MANIFEST), "--index", str(reference_ws.paths.index), "--docs", str(REFERENCE_CORPUS)]
    r = run_cli([*args, "train", "--data", str(SHARED / "train"), "--check"])
    assert r.exit_code == 0, r.stderr[-2000:]
    assert "the refitted models match" in r.stderr
