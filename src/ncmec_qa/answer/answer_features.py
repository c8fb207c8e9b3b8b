"""What the answer selector and the abstainer read (pure functions).

`unit_features`: one evidence unit (see `units`) against the question — does it state the very
thing asked: the question's words, its rarest words, its years, its names, an amount when it
asks how many. `question_features`: the question against the evidence chosen to answer it —
how likely the best unit answers, how much of the question the chosen evidence and the top
passages cover, what the question names that no chosen unit names. Both feed linear models
fitted on the training questions (`learn/params/selector.json`, `abstainer.json`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

from ..search.query import has_figure, section_numbers, stems, years_in
from ..search.rank_features import QueryTerms
from .units import Unit

# What a question asks for, and what a text states, by kind of answer: the selector reads each
# kind a question asks with whether the unit states that kind ("how long" and a duration).
ANSWER_KINDS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "duration": (
        re.compile(
            r"\bhow long\b|\bhow (?:many|much) (?:days|hours|weeks|months|years|time)\b|\bwithin what\b"
            r"|\bdeadline\b|\btime limit\b|\bhow soon\b|\bprison (?:sentences?|terms?)\b|\bsentenced to\b",
            re.I,
        ),
        re.compile(
            r"\b(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|twelve|thirty|sixty|ninety)"
            r"[-\s](?:business[-\s]|calendar[-\s])?(?:days?|hours?|weeks?|months?|years?)\b"
            r"|\bas soon as\b|\bwithin\b",
            re.I,
        ),
    ),
    "count": (
        re.compile(
            r"\bhow many\b|\bnumber of\b|\bhow much of\b|\bwhat (?:share|percentage|proportion|fraction)\b"
            r"|\bcount\b|\btotal\b",
            re.I,
        ),
        re.compile(
            r"(?<![\w.])\d{1,3}(?:,\d{3})+(?![\d,])|\b\d+(?:\.\d+)?\s?(?:%|percent|million|billion)"
            r"|(?<![\w.§(])\d+(?![\w.)])",
            re.I,
        ),
    ),
    "money": (
        re.compile(
            r"\bhow much (?:money|funding)\b|\bfine[ds]?\b|\bpenalt|\bcost|\bdollar|\bfund|\bpaid\b|\bpay\b", re.I
        ),
        re.compile(r"\$\s?\d|\bdollars?\b|\bfined?\b|\bimprison", re.I),
    ),
    # a sum of money itself: "fined under this title" states a penalty ("money" above), not its amount
    "sum": (
        re.compile(
            r"\bdollar|\bhow much (?:money|funding|was|is|did|does)\b|\bmaximum (?:dollar )?fine\b"
            r"|\b(?:amount|size) of\b.*\b(?:fine|fund|grant|penalt)",
            re.I,
        ),
        re.compile(r"\$\s?\d|\b\d[\d,.]*\s?(?:dollars|million|billion)\b", re.I),
    ),
    "date": (
        re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month)\b|\bin which year\b|\bsince when\b", re.I),
        re.compile(
            r"\b(?:19[5-9]\d|20\d\d)\b|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d", re.I
        ),
    ),
    "definition": (
        re.compile(r"\bdefin|\bmean(?:s|ing)?\b|\bwhat counts as\b|\btreated as\b|\bwhat is meant\b", re.I),
        re.compile(r"\bmeans\b|\bthe term\b|\bdefined\b|\brefers to\b|\bhas the meaning\b|\bincludes\b", re.I),
    ),
    "duty": (
        re.compile(
            r"^\s*(?:does|do|did|is|are|can|could|may|must|should|has|have)\b|\bhave to\b|\brequired?\b"
            r"|\ballowed\b|\boptional\b|\bpermitted\b|\bobliged\b|\bmust\b",
            re.I,
        ),
        re.compile(r"\bshall\b|\bmust\b|\bmay\b|\brequired?\b|\boptional\b|\bpermitted\b|\bnot\b", re.I),
    ),
    "element": (
        re.compile(r"\bfields?\b|\belements?\b|\btags?\b|\battributes?\b|\bendpoints?\b|<\w+>|\bXML\b", re.I),
        re.compile(r"<\w+>|/\w+\b|\btype\s+(?:string|int|long|boolean)", re.I),
    ),
    "entity": (  # and a question that asks who (`asks_who`)
        re.compile(r"\bwhich (?:agenc|organi[sz]|compan|senator|court|office|countr|platform)|\bthe name of\b", re.I),
        re.compile(r"(?<=[a-z,;] )[A-Z][a-zA-Z]+"),
    ),
}


# The kinds whose absence from the chosen evidence the abstainer reads one by one (`miss_<kind>`): an
# amount, a penalty or a period asked for and not stated. (The other kinds' "states" patterns are too
# loose for their absence to say much: any number is a count, any capitalised word an entity.)
MISS_KINDS = ("duration", "money", "sum")


def asked_kinds(question: str) -> set[str]:
    kinds = {k for k, (asks, _) in ANSWER_KINDS.items() if asks.search(question)}
    return kinds | {"entity"} if asks_who(question) else kinds


_WH = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b", re.I)
_AND_WHO = re.compile(r"\b(?:and|or|but)\s+(?:who|whom|whose)\b", re.I)
_YES_NO = re.compile(r"^\s*(?:does|do|did|is|are|was|were|can|could|may|must|should|will|would|has|have|had)\b", re.I)


def asks_who(question: str) -> bool:
    """Does the question ask who: "who" opens its question (the first question word of a sentence that is not
    a yes/no question) or a clause ("…, and who decides?"), not a relative clause ("a provider who fails")."""
    sentences = [s for s in re.split(r"(?<=[.?!])\s+", question.strip()) if s]
    for s in [s for s in sentences if s.endswith("?")] or sentences[-1:]:
        first = None if _YES_NO.match(s) else _WH.search(s)
        if (first and first.group(1).lower() in ("who", "whom", "whose")) or _AND_WHO.search(s):
            return True
    return False


def stated_kinds(text: str) -> set[str]:
    return {k for k, (_, states) in ANSWER_KINDS.items() if states.search(text)}


UNIT_FEATURES: tuple[str, ...] = (
    "cosine",
    "own_cosine",
    "coverage",
    "coverage_context",
    "missing_rare",
    "rare",
    "passage_score",
    "passage_rr",
    "years_named",
    "other_years",
    "asks_quantity",
    "figure",
    "amount_named",
    "names",
    "line",
    "row",
    "joined",
    "length",
    "secondary",
    "lead_in",
    "kind_match",
    "kind_miss",
    *(f"states_{k}" for k in ANSWER_KINDS),
)
QUESTION_FEATURES: tuple[str, ...] = (
    "best",
    "second",
    "top3",
    "ranker_top",
    "ranker_gap",
    "cosine_best",
    "coverage_best",
    "coverage_chosen",
    "coverage_top",
    "missing_rare_chosen",
    "missing_rare_top",
    "unseen_terms",
    "years_missing",
    "years_missing_top",
    "names_missing",
    "asks_quantity",
    "amount_missing",
    "terms",
    "yes_no",
    "asks_when",
    "asks_who",
    "asks_which",
    "kind_match_best",
    "kind_miss_chosen",
    "cites_asked_law",
    *(f"miss_{k}" for k in MISS_KINDS),
)
_LEAD_IN = re.compile(r"(?:[:—–-]|--)\s*$")
_WHEN = re.compile(r"\b(?:when|what (?:year|date|day|month))\b", re.I)
_WHICH_WHO = re.compile(r"\bwhich (?:senator|agency|agencies|company|companies|person|people|organi[sz]ation)\b", re.I)
_WHICH = re.compile(r"\b(?:which|what)\b", re.I)


@dataclass(frozen=True)
class UnitCandidate:
    """A unit with the passage it came from: the selector's input."""

    unit: Unit
    hit_rank: int  # 0-based rank of its passage among the hits
    passage_score: float  # the ranker's score of its passage
    own_cosine: float  # the cosine of its own sentences (a table line's own, not its passage's)
    secondary: bool = False


def read_as(u) -> str:
    """A unit's text with what it is read with: a table line's caption and header, a CSV or JSON row's
    columns (its section), so that "2008,102029" is a count of reports."""
    sec = u.passage.section if u.passage and "(columns:" in u.passage.section else ""
    return " ".join(x for x in (u.text, u.reads_with, sec) if x)


def _missing_rare(q: QueryTerms, seen: frozenset[str]) -> float:
    """The rarest question word the text lacks, as a share of the question's rarest (0: none missing)."""
    top = max(q.idf.values(), default=0.0)
    missing = q.missing(seen)
    return q.idf[missing[0]] / top if missing and top > 0 else 0.0


def unit_features(q: QueryTerms, c: UnitCandidate) -> dict[str, float]:
    u = c.unit
    words = stems(u.text)
    seen = words | stems(u.context)
    named_years = set(years_in(f"{u.text}\n{u.reads_with}") or years_in(u.context))
    figure = has_figure(u.text)
    asked = q.asked
    wants = asked_kinds(q.text)
    states = stated_kinds(u.text)
    kinds = {f"states_{k}": float(k in wants and k in states) for k in ANSWER_KINDS}
    return {
        **kinds,
        "kind_match": len(wants & states) / len(wants) if wants else 0.0,
        "kind_miss": float(bool(wants) and not wants & states),
        "cosine": u.cosine,
        "own_cosine": c.own_cosine,
        "coverage": q.coverage(words),
        "coverage_context": q.coverage(seen),
        "missing_rare": _missing_rare(q, seen),
        "rare": sum(t in seen for t in q.rare) / len(q.rare) if q.rare else 0.0,
        "passage_score": c.passage_score,
        "passage_rr": 1.0 / (c.hit_rank + 1),
        "years_named": float(bool(q.years) and q.years <= named_years),
        "other_years": float(bool(q.years) and bool(named_years) and not (q.years & named_years)),
        "asks_quantity": float(q.quantity),
        "figure": float(figure),
        "amount_named": float(q.quantity and figure and bool(asked & stems(read_as(u)))),
        "names": len(q.names & seen) / len(q.names) if q.names else 1.0,
        "line": float(u.ref == "line"),
        "row": float(u.passage is not None and any(s.kind == "row" for s in u.passage.sentences) and u.ref != "line"),
        "joined": float(u.ref == "joined"),
        "length": math.log(len(u.text) + 1),
        "secondary": float(c.secondary),
        "lead_in": float(bool(_LEAD_IN.search(u.text))),
    }


def laws_only_cited(question: str, unit: Unit | None) -> frozenset[str]:
    """The laws the question asks about that the unit names only as a reference: section numbers of the
    question that the unit cites but its document and section are not ("has the meaning given that term
    in section 1030" for "How does 18 U.S.C. 1030 define ..."). Such evidence points elsewhere."""
    if unit is None:
        return frozenset()
    return section_numbers(question) & section_numbers(unit.text) - section_numbers(unit.context)


def question_features(
    q: QueryTerms,
    probs: Sequence[float],
    chosen: Sequence[UnitCandidate],
    ranker_scores: Sequence[float],
    top_texts: Sequence[str],
) -> dict[str, float]:
    """`probs`: the selector's probabilities of every candidate unit, best first; `chosen`: the units the
    answer would quote; `ranker_scores`: the hits' scores; `top_texts`: the top passages with their contexts."""
    chosen_text = "\n".join(f"{c.unit.context}\n{c.unit.text}" for c in chosen)
    chosen_words = stems(chosen_text)
    best_words = stems(f"{chosen[0].unit.context}\n{chosen[0].unit.text}") if chosen else frozenset()
    top_text = "\n".join(top_texts)
    top_words = stems(top_text)
    chosen_years = (
        set().union(*(years_in(f"{c.unit.text}\n{c.unit.reads_with}") or years_in(c.unit.context) for c in chosen))
        if chosen
        else set()
    )
    amount_ok = any(has_figure(c.unit.text) and q.asked & stems(read_as(c.unit)) for c in chosen)
    text = q.text
    wants = asked_kinds(text)
    best_states = stated_kinds(chosen[0].unit.text) if chosen else set()
    chosen_states = set().union(*(stated_kinds(c.unit.text) for c in chosen)) if chosen else set()
    return {
        "kind_match_best": len(wants & best_states) / len(wants) if wants else 1.0,
        "kind_miss_chosen": float(bool(wants) and not wants <= chosen_states),
        "cites_asked_law": float(bool(laws_only_cited(text, chosen[0].unit if chosen else None))),
        **{f"miss_{k}": float(k in wants and k not in chosen_states) for k in MISS_KINDS},
        "best": probs[0] if probs else 0.0,
        "second": probs[1] if len(probs) > 1 else 0.0,
        "top3": sum(probs[:3]) / 3,
        "ranker_top": ranker_scores[0] if ranker_scores else 0.0,
        "ranker_gap": ranker_scores[0] - ranker_scores[1] if len(ranker_scores) > 1 else 0.0,
        "cosine_best": chosen[0].own_cosine if chosen else 0.0,
        "coverage_best": q.coverage(best_words),
        "coverage_chosen": q.coverage(chosen_words),
        "coverage_top": q.coverage(top_words),
        "missing_rare_chosen": _missing_rare(q, chosen_words),
        "missing_rare_top": _missing_rare(q, top_words),
        "unseen_terms": float(len(q.unseen)),
        "years_missing": float(bool(q.years - chosen_years)),
        "years_missing_top": float(bool(q.years - set(years_in(top_text)))),
        "names_missing": len(q.names - chosen_words) / len(q.names) if q.names else 0.0,
        "asks_quantity": float(q.quantity),
        "amount_missing": float(q.quantity and not amount_ok),
        "terms": float(len(q.idf)),
        "yes_no": float(bool(_YES_NO.match(text))),
        "asks_when": float(bool(_WHEN.search(text))),
        "asks_who": float(asks_who(text) or bool(_WHICH_WHO.search(text))),
        "asks_which": float(bool(_WHICH.search(text))),
    }
