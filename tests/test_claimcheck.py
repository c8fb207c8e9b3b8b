"""Tests for ncmec_qa.answer.quantities and ncmec_qa.verify.claimcheck: quantity extraction, years, negation and claim/evidence comparison."""

from __future__ import annotations

import dataclasses

import pytest

from ncmec_qa.answer.quantities import Quantity, extract_quantities, extract_years
from ncmec_qa.verify.claimcheck import (
    Comparison,
    compare,
    format_quantity,
    has_negation,
    negation_mismatch,
    quantities_agree,
    year_of_number,
)

TABLE = "CY2021 CY2022 CY2023\nInternational 27,479,912 93.5% 28,825,411 89.9% 33,220,027 91.7%"


def one(text: str) -> Quantity:
    qs = extract_quantities(text)
    assert len(qs) == 1, qs
    return qs[0]


def summary(text: str) -> list[tuple[float, str, str, str, str]]:
    return [(q.value, q.unit, q.raw, q.kind, q.qualifier) for q in extract_quantities(text)]


# --- extract_quantities -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value, unit, raw, kind",
    [
        ("84%", 84.0, "percent", "84%", "percent"),
        ("84 percent", 84.0, "percent", "84 percent", "percent"),
        ("91.7 per cent", 91.7, "percent", "91.7 per cent", "percent"),
        ("3 percentage points", 3.0, "percentage_point", "3 percentage points", "percent"),
        ("18.4 million", 18_400_000.0, "count", "18.4 million", "number"),
        ("18,400,000", 18_400_000.0, "count", "18,400,000", "number"),
        ("36.2M reports", 36_200_000.0, "count", "36.2M", "number"),
        ("1.3 million", 1_300_000.0, "count", "1.3 million", "number"),
        ("$150,000", 150_000.0, "usd", "$150,000", "money"),
        ("$300,000", 300_000.0, "usd", "$300,000", "money"),
        ("$1.5 billion", 1_500_000_000.0, "usd", "$1.5 billion", "money"),
        ("150,000 dollars", 150_000.0, "usd", "150,000 dollars", "money"),
        ("90 days", 90.0, "day", "90 days", "duration"),
        ("a 90-day period", 90.0, "day", "90-day", "duration"),
        ("180 days", 180.0, "day", "180 days", "duration"),
        ("10 business days", 10.0, "day", "10 business days", "duration"),
        ("one year", 1.0, "year_duration", "one year", "duration"),
        ("1 year", 1.0, "year_duration", "1 year", "duration"),
        ("a one-year period", 1.0, "year_duration", "one-year", "duration"),
        ("six months", 6.0, "month", "six months", "duration"),
        ("24 hours", 24.0, "hour", "24 hours", "duration"),
        ("twenty-four hours", 24.0, "hour", "twenty-four hours", "duration"),
        ("two hundred reports", 200.0, "count", "two hundred", "number"),
        ("a hundred reports", 100.0, "count", "hundred", "number"),
        ("twelve reports", 12.0, "count", "twelve", "number"),
        ("a 12-year-old child", 12.0, "age", "12-year-old", "number"),
        ("value 2.400", 2.4, "count", "2.400", "number"),
        ("In 2019,", 2019.0, "year", "2019", "year"),
        ("since 1998", 1998.0, "year", "1998", "year"),
        ("April 2024", 2024.0, "year", "2024", "year"),
        ("CY2023", 2023.0, "year", "CY2023", "year"),
        ("FY 2023", 2023.0, "year", "FY 2023", "year"),
    ],
)
def test_single_quantity(text: str, value: float, unit: str, raw: str, kind: str) -> None:
    q = one(text)
    assert (q.value, q.unit, q.raw, q.kind) == (value, unit, raw, kind)
    assert text[q.start : q.end] == raw


@pytest.mark.parametrize(
    "text, qualifier",
    [
        ("more than 1.3 million", "more than"),
        ("over 91%", "over"),
        ("at least 5 days", "at least"),
        ("nearly 1.4 million", "nearly"),
        ("about 32 million", "about"),
        ("fewer than 100", "fewer than"),
        ("less than 1%", "less than"),
        ("under 18", "under"),
        ("fined not more than $150,000", "not more than"),
        ("for a period not to exceed ninety days", "not to exceed"),
        ("More  Than 5%", "more than"),
    ],
)
def test_qualifier_kept_and_not_in_raw(text: str, qualifier: str) -> None:
    q = one(text)
    assert q.qualifier == qualifier
    assert qualifier not in q.raw.lower()


def test_offsets_slice_the_text() -> None:
    text = "In 2023, NCMEC received more than 36.2 million reports, 84% of them from abroad."
    qs = extract_quantities(text)
    assert [q.raw for q in qs] == ["2023", "36.2 million", "84%"]
    assert all(text[q.start : q.end] == q.raw for q in qs)
    assert qs[1].qualifier == "more than"


def test_two_amounts_in_one_sentence() -> None:
    assert summary("fined not more than $150,000 ... not more than $300,000") == [
        (150_000.0, "usd", "$150,000", "money", "not more than"),
        (300_000.0, "usd", "$300,000", "money", "not more than"),
    ]


def test_quantity_is_frozen() -> None:
    q = one("84%")
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.value = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        "§ 2258A",
        "§2258A(h)(1)",
        "§§ 2251, 2252, and 2252A",
        "section 2258",
        "sections 2702, 2703, or 2704 of this title",
        "Section 2258A(h)(1) provides",
        "2258A(h)(1)",
        "2258B",
        "18 U.S.C. 2256",
        "18 U.S.C. § 2258A",
        "42 U.S.C. § 5773(b)",
        "28 C.F.R. 81.11",
        "Pub. L. 115-395",
        "Pub. L. 107–56, §212(a)(1)(C)",
        "L. 107–296, §225(d)(1)(C)",
        "132 Stat. 5342",
        "115 Stat. 283, 285, 291, 292",
        "831 F.3d 1292",
        "(b)(1)",
        "paragraph (1) or (2)",
        "Title 18",
        "chapter 110",
        "item 2710 as 2711",
        "1. First item\n2. Second item",
        "a) first\nb) second",
        "6.4. Finish the Report",
        "page text\n  8  \nmore text",
        "as shown[12] below",
        "[^29]: For discussion",
        "call 1-800-843-5678",
        "1-800-THE-LOST",
        "(703) 224-2150",
        "https://report.cybertip.org/2023/84",
        "at 3:00 p.m.",
        "no one knows",
        "one of the largest",
        "115th Congress",
        "the 1990s",
    ],
)
def test_citations_and_markers_are_not_quantities(text: str) -> None:
    assert extract_quantities(text) == []


def test_citation_next_to_real_quantity() -> None:
    text = "Under 18 U.S.C. § 2258A(h)(1), providers must preserve the report for 1 year."
    assert summary(text) == [(1.0, "year_duration", "1 year", "duration", "")]
    assert summary("Table 3 and 84% of reports") == [(84.0, "percent", "84%", "percent", "")]


def test_dates_give_years_only() -> None:
    assert summary("On April 12, 2024, the law took effect.") == [(2024.0, "year", "2024", "year", "")]
    assert summary("12 April 2024") == [(2024.0, "year", "2024", "year", "")]
    assert summary("on 12/31/2023") == [(2023.0, "year", "2023", "year", "")]
    assert summary("2023-12-31") == [(2023.0, "year", "2023", "year", "")]
    assert [q.raw for q in extract_quantities("CY2023 (1/1/23-12/31/23) 41,118,202")] == ["CY2023", "41,118,202"]


def test_year_rule() -> None:
    assert one("2,000 reports").kind == "number"  # comma-grouped: a count
    assert one("over 2000 reports").kind == "number"  # qualified: a count
    assert one("2000 hours").kind == "duration"
    assert one("$2019").kind == "money"
    assert one("2258 reports").kind == "number"  # outside 1900-2099
    assert one("1998").kind == "year"


def test_scale_letter_suffix_only_for_figures() -> None:
    assert one("$5B").value == 5e9
    assert one("500K").value == 500_000.0
    assert extract_quantities("§ 2258B and 2258C") == []


# --- extract_years ------------------------------------------------------------------------------


def test_extract_years() -> None:
    assert extract_years("In 2019 and 2023, and again in 2019, 1998 and CY2021; April 2024.") == [
        2019,
        2023,
        1998,
        2021,
        2024,
    ]
    assert extract_years("18 U.S.C. 2256; Pub. L. 115-395; 2,000 reports") == []
    assert extract_years("from 2019–2023") == [2019, 2023]


# --- format_quantity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$150,000", "$150,000"),
        ("90-day", "90 days"),
        ("one year", "1 year"),
        ("six months", "6 months"),
        ("84%", "84%"),
        ("91.7%", "91.7%"),
        ("1,372,696", "1,372,696"),
        ("18400000", "18,400,000"),
        ("1.3 million", "1.3 million"),
        ("36.2M", "36.2 million"),
        ("$1.5 billion", "$1.5 billion"),
        ("2.400", "2.400"),
        ("two hundred", "200"),
        ("3 percentage points", "3 percentage points"),
        ("12-year-old", "12 years old"),
        ("CY2023", "2023"),
    ],
)
def test_format_quantity(text: str, expected: str) -> None:
    assert format_quantity(one(text)) == expected


def test_format_quantity_with_qualifier() -> None:
    q = one("more than 1.3 million")
    assert format_quantity(q) == "1.3 million"
    assert format_quantity(q, with_qualifier=True) == "more than 1.3 million"


# --- quantities_agree ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b, agree",
    [
        ("more than 1.3 million", "1,372,696", True),
        ("1.3 million", "1,372,696", False),  # 1.25M-1.35M
        ("1.4 million", "1,372,696", True),
        ("nearly 1.4 million", "1,372,696", True),
        ("84%", "84.2%", True),
        ("84%", "84.6%", False),
        ("18.4 million", "18,400,000", True),
        ("36.2 million", "36,210,368", True),
        ("32 million", "36,210,368", False),
        ("more than 91%", "91.7%", True),
        ("more than 91%", "89.9%", False),
        ("fewer than 100", "300", False),
        ("fewer than 100", "85", True),
        ("about 32 million", "32,059,029", True),
        ("$150,000", "not more than $150,000", True),
        ("$250,000", "not more than $150,000", False),
        ("up to $150,000", "not more than $150,000", True),
        ("up to $250,000", "not more than $300,000", False),  # two caps: the maximum itself must agree
        ("$100,000", "not more than $150,000", True),  # a value under the cap is possible
        ("up to 1 year", "not to exceed one year", True),
        ("90 days", "90-day", True),
        ("180 days", "90 days", False),
        ("one year", "365 days", True),
        ("12 months", "1 year", True),
        ("84%", "84", False),  # different unit class
        ("$150,000", "150,000", False),
        ("24 hours", "1 day", True),
    ],
)
def test_quantities_agree(a: str, b: str, agree: bool) -> None:
    assert quantities_agree(one(a), one(b)) is agree
    assert quantities_agree(one(b), one(a)) is agree


# --- year_of_number -----------------------------------------------------------------------------


def test_year_of_number_table_columns() -> None:
    qs = {q.raw: q for q in extract_quantities(TABLE)}
    assert {raw: year_of_number(TABLE, q) for raw, q in qs.items() if q.kind != "year"} == {
        "27,479,912": 2021,
        "93.5%": 2021,
        "28,825,411": 2022,
        "89.9%": 2022,
        "33,220,027": 2023,
        "91.7%": 2023,
    }


def test_year_of_number_table_on_one_line() -> None:
    text = TABLE.replace("\n", " ")
    assert year_of_number(text, one("89.9%")) == 2022  # located in `text` by value


def test_year_of_number_prose() -> None:
    text = "NCMEC received 32 million reports in 2022 and 36.2 million in 2023."
    assert year_of_number(text, one("32 million")) == 2022
    assert year_of_number(text, one("36.2 million")) == 2023
    text = "In 2022, NCMEC received 32 million reports, and in 2023, 36.2 million."
    assert year_of_number(text, one("32 million")) == 2022
    assert year_of_number(text, one("36.2 million")) == 2023
    text = "CY2023 (1/1/23-12/31/23) 41,118,202\nCY2022 (1/1/22-12/31/22) 27,345,610"
    assert year_of_number(text, one("27,345,610")) == 2022
    assert year_of_number("The total was 169,800 (2022).", one("169,800")) == 2022


def test_year_of_number_none() -> None:
    assert year_of_number("NCMEC received 169,800 reports.", one("169,800")) is None
    assert year_of_number("In 2022, NCMEC received 5 reports.", one("169,800")) is None


# --- negation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, negated",
    [
        ("Providers are not required to search.", True),
        ("NCMEC does not investigate reports.", True),
        ("NCMEC doesn't investigate.", True),
        ("The CyberTipline isn't a law enforcement agency.", True),
        ("A provider cannot be compelled.", True),
        ("A provider may not disclose", True),
        ("Nothing in this section shall be construed to require monitoring.", True),
        ("without a warrant", True),
        ("neither the provider nor NCMEC", True),
        ("There is no requirement to search.", True),
        ("NCMEC never shares reports.", True),
        ("Providers must report apparent CSAM.", False),
        ("fined not more than $150,000", False),
        ("no later than 24 hours", False),
        ("not less than 1 year", False),
        ("not only images but also videos", False),
        ("a period not to exceed 90 days", False),
        ("whether or not the provider knew", False),
        ("Pub. L. No. 115-395", False),
        ("Another note on knowledge", False),
    ],
)
def test_has_negation(text: str, negated: bool) -> None:
    assert has_negation(text) is negated


def test_negation_mismatch_claim_negated() -> None:
    assert negation_mismatch(
        "NCMEC does not forward reports to law enforcement.", "NCMEC forwards reports to law enforcement agencies."
    )
    assert negation_mismatch(
        "Providers are not required to search for CSAM.", "Providers are required to search for CSAM."
    )


def test_negation_mismatch_evidence_negated() -> None:
    assert negation_mismatch(
        "Providers are required to search for CSAM.", "Providers are not required to search for CSAM."
    )


def test_negation_mismatch_is_conservative() -> None:
    # different subject
    assert not negation_mismatch("NCMEC does not investigate reports.", "Law enforcement agencies investigate reports.")
    # different object
    assert not negation_mismatch(
        "Providers are not required to search for CSAM.", "Providers are required to report apparent CSAM."
    )
    # both sides negated somewhere
    assert not negation_mismatch(
        "Providers are not required to search.",
        "Nothing in this section shall be construed to require a provider to search.",
    )
    # both affirmative, both negative
    assert not negation_mismatch("NCMEC forwards reports.", "NCMEC forwards reports.")
    assert not negation_mismatch("NCMEC does not forward reports.", "NCMEC does not forward reports.")
    # comparators are not negation
    assert not negation_mismatch("The fine is not more than $150,000.", "The fine is $150,000.")


# --- compare ------------------------------------------------------------------------------------


def check(claim: str, evidence: str, status: str, reason: str) -> Comparison:
    result = compare(claim, evidence)
    assert (result.status, result.reason) == (status, reason)
    return result


def test_compare_consistent_examples() -> None:
    r = check(
        "NCMEC received more than 1.3 million reports.",
        "NCMEC received 1,372,696 reports.",
        "consistent",
        "matches: claim says more than 1.3 million, evidence says 1,372,696",
    )
    assert r.claim_quantity is not None and r.claim_quantity.value == 1_300_000.0
    assert r.evidence_quantity is not None and r.evidence_quantity.raw == "1,372,696"
    check(
        "84% of reports came from abroad.",
        "84.2% of reports came from abroad.",
        "consistent",
        "matches: claim says 84%, evidence says 84.2%",
    )
    check(
        "NCMEC received 18.4 million reports.",
        "NCMEC received 18,400,000 reports.",
        "consistent",
        "matches: claim says 18.4 million, evidence says 18,400,000",
    )
    check(
        "NCMEC received 36.2 million reports.",
        "In total 36,210,368 reports were received.",
        "consistent",
        "matches: claim says 36.2 million, evidence says 36,210,368",
    )
    check(
        "More than 91% of reports were international.",
        "91.7% of reports were international.",
        "consistent",
        "matches: claim says more than 91%, evidence says 91.7%",
    )
    check(
        "Providers must preserve the report for one year.",
        "the provider shall preserve the contents for 1 year",
        "consistent",
        "matches: claim says 1 year, evidence says 1 year",
    )


def test_compare_number_conflicts() -> None:
    r = check(
        "Fewer than 100 companies submitted reports.",
        "300 companies submitted reports.",
        "conflict",
        "number differs: claim says fewer than 100, evidence says 300",
    )
    assert r.evidence_quantity is not None and r.evidence_quantity.value == 300.0
    check(
        "Providers must preserve content for 180 days.",
        "the provider shall preserve the contents for 90 days",
        "conflict",
        "number differs: claim says 180 days, evidence says 90 days",
    )
    check(
        "Providers must preserve content for 90 days.",
        "Under 18 U.S.C. § 2258A(h)(1), providers shall preserve the contents for 1 year.",
        "conflict",
        "number differs: claim says 90 days, evidence says 1 year",
    )
    check(
        "The maximum fine is $250,000 for a first violation.",
        "A provider shall be fined $150,000 in the case of an initial violation.",
        "conflict",
        "amount differs: claim says $250,000, evidence says $150,000",
    )
    check(
        "84% of reports were international.",
        "91.7% of reports were international.",
        "conflict",
        "percent differs: claim says 84%, evidence says 91.7%",
    )


def test_compare_table_picks_claim_year_column() -> None:
    check(
        "In 2023, 84% of reports were international.",
        TABLE,
        "conflict",
        "percent differs: claim says 84%, evidence says 91.7%",
    )
    check(
        "In 2023, 91.7% of reports were international.",
        TABLE,
        "consistent",
        "matches: claim says 91.7%, evidence says 91.7%",
    )


def test_compare_year_conflicts() -> None:
    check(
        "In 2023, NCMEC received 169,800 reports of online enticement.",
        "In 2022, NCMEC received 169,800 reports of online enticement.",
        "conflict",
        "year differs: 169,800 is the 2022 figure, claim says 2023",
    )
    check(
        "In 2023, 89.9% of reports were international.",
        TABLE,
        "conflict",
        "year differs: 89.9% is the 2022 figure, claim says 2023",
    )
    check(
        "In 2022, NCMEC received 36.2 million reports.",
        "NCMEC received 32 million reports in 2022 and 36.2 million in 2023.",
        "conflict",
        "year differs: 36.2 million is the 2023 figure, claim says 2022",
    )
    check(
        "In 2023, NCMEC received 36.2 million reports.",
        "NCMEC received 32 million reports in 2022 and 36.2 million in 2023.",
        "consistent",
        "matches: claim says 36.2 million, evidence says 36.2 million",
    )
    # no year in the claim: no year check
    check(
        "NCMEC received 169,800 reports of online enticement.",
        "In 2022, NCMEC received 169,800 reports of online enticement.",
        "consistent",
        "matches: claim says 169,800, evidence says 169,800",
    )


def test_compare_negation_conflict() -> None:
    r = check(
        "NCMEC does not forward reports to law enforcement.",
        "NCMEC forwards reports to law enforcement agencies.",
        "conflict",
        'negation differs: claim says "not forward", evidence says "forwards"',
    )
    assert r.claim_quantity is None and r.evidence_quantity is None
    check(
        "Providers are required to search for CSAM.",
        "Providers are not required to search for CSAM.",
        "conflict",
        'negation differs: claim says "required", evidence says "not required"',
    )


def test_compare_no_quantities() -> None:
    check(
        "The CyberTipline is operated by NCMEC.",
        "NCMEC operates the CyberTipline.",
        "consistent",
        "no quantities to compare and no negation conflict",
    )
    check(
        "NCMEC does not investigate reports.",
        "Law enforcement agencies investigate reports.",
        "consistent",
        "no quantities to compare and no negation conflict",
    )


def test_compare_unrelated() -> None:
    check(
        "84% of reports were international.",
        "The CyberTipline has received reports since 1998.",
        "unrelated",
        "no comparable percentage in evidence for claim's 84%",
    )
    check(
        "NCMEC received 36.2 million reports in 2023.",
        "In 2023, 245 electronic service providers submitted reports.",
        "unrelated",
        "no comparable count in evidence for claim's 36.2 million",
    )
    check(
        "The fine is $150,000.",
        "Providers must report within 24 hours.",
        "unrelated",
        "no comparable dollar amount in evidence for claim's $150,000",
    )
    # statute numbers in the evidence are not figures to compare with
    check(
        "Providers file about 2,258 reports.",
        "See 18 U.S.C. § 2258A(h)(1) and Pub. L. 115-395.",
        "unrelated",
        "no comparable count in evidence for claim's about 2,258",
    )


def test_compare_year_only_claims() -> None:
    check(
        "The CyberTipline was established in 1998.",
        "In 1998, Congress funded the CyberTipline.",
        "consistent",
        "matches: claim says 1998, evidence says 1998",
    )
    check(
        "The CyberTipline was established in 1998.",
        "In 2008, Congress passed the PROTECT Our Children Act.",
        "unrelated",
        "no comparable year in evidence for claim's 1998",
    )


def test_compare_partial_match_notes_missing() -> None:
    check(
        "NCMEC received 36.2 million reports, and 84% were international.",
        "NCMEC received 36,210,368 reports.",
        "consistent",
        "matches: claim says 36.2 million, evidence says 36,210,368; not in evidence: 84%",
    )


def test_compare_conflict_wins_over_match() -> None:
    check(
        "NCMEC received 36.2 million reports, and 84% were international.",
        "NCMEC received 36,210,368 reports, and 91.7% were international.",
        "conflict",
        "percent differs: claim says 84%, evidence says 91.7%",
    )


def test_compare_year_check_ignores_small_chance_matches() -> None:
    check(
        "In 2024, NCMEC ran 6 programs.",
        "In 2022 the ESP list had 6 entries.",
        "unrelated",
        "no comparable count in evidence for claim's 6",
    )
    check(
        "In 2024, NCMEC ran 6 programs.",
        "In 2022, NCMEC ran 6 programs.",
        "conflict",
        "year differs: 6 is the 2022 figure, claim says 2024",
    )


def test_compare_tables_need_context_for_counts() -> None:
    # several bare counts and no shared words: no verdict rather than a guessed conflict
    check(
        "Amazon sent 25,497 reports.",
        "Scratch Foundation 20 | Scruff App 19 | sendvid 703",
        "unrelated",
        "no comparable count in evidence for claim's 25,497",
    )


def test_compare_statutory_caps() -> None:
    evidence = (
        "A provider that knowingly and willfully fails to make a report shall be fined (1) in the case of "
        "an initial knowing and willful failure to make a report, not more than $150,000; and (2) in the "
        "case of any second or subsequent knowing and willful failure to make a report, not more than "
        "$300,000."
    )
    check(
        "A provider can be fined up to $150,000 for a first failure.",
        evidence,
        "consistent",
        "matches: claim says up to $150,000, evidence says not more than $150,000",
    )
    # both caps share the context words, so the reason names the closer value (not "initial" = "first")
    check(
        "A provider can be fined up to $250,000 for a first failure.",
        evidence,
        "conflict",
        "amount differs: claim says up to $250,000, evidence says not more than $300,000",
    )
