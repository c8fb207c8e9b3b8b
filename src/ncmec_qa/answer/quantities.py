"""Figures as a text writes them: numbers with their unit and qualifier, years, and closed lists of values.

`extract_quantities` reads numbers with their unit, qualifier ("more than 1.3 million") and
offsets while skipping legal citations (`§ 2258A(h)(1)`, `18 U.S.C. 2256`, `Pub. L. 115-395`,
`(b)(1)`, list markers, phone numbers, URLs, day-of-month). Evidence units (`units`) and the
claim checks (`verify.claimcheck`) both read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Quantity", "closed_list", "extract_quantities", "extract_years", "has_list_intro"]


@dataclass(frozen=True)
class Quantity:
    """A figure as written. `unit`: percent, percentage_point, usd, eur, gbp, day, week, month,
    year_duration, hour, minute, age, count or year; `kind`: number, percent, money, duration or
    year; `qualifier`: the comparator as written, lower-cased ("more than", "nearly", "" ...)."""

    value: float
    unit: str
    raw: str
    start: int
    end: int
    kind: str
    qualifier: str = ""


_QUALIFIERS = {
    ">": "more than|over|greater than|in excess of|exceeding|above|upwards of|just over",
    ">=": "at least|no fewer than|no less than|not less than|not fewer than|a minimum of",
    "<": "fewer than|less than|under|below|just under",
    "<=": "up to|at most|no more than|not more than|not to exceed|a maximum of",
    "~": "about|approximately|approx.|around|roughly|some|an estimated|estimated|circa",
    "<~": "nearly|almost|close to",
}
_QUAL_OP = {q: op for op, alts in _QUALIFIERS.items() for q in alts.split("|")}
_QUAL_RX = "|".join(re.escape(q).replace(r"\ ", r"\s+") for q in sorted(_QUAL_OP, key=len, reverse=True))
_SMALL = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORDNUM = {w: i + 1 for i, w in enumerate(_SMALL)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
_WORDNUM["hundred"] = 100
_SPELLED = (
    rf"(?:(?:{'|'.join(_TENS)})(?:[-\s](?:{'|'.join(_SMALL[:9])})\b)?"
    rf"|{'|'.join(sorted(_SMALL, key=len, reverse=True))}|hundred)\b"
)
_SCALES = {
    "hundred": 1e2,
    "thousand": 1e3,
    "million": 1e6,
    "billion": 1e9,
    "trillion": 1e12,
    "k": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "b": 1e9,
    "bn": 1e9,
}
_QTY_RE = re.compile(
    rf"""
    (?:\b(?P<qual>{_QUAL_RX})\s+)?
    (?P<cur>US\$|\$|€|£)?\s?
    (?:(?<![\w.])(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)(?!\d)|\b(?P<word>{_SPELLED}))
    (?:\s?(?P<scale>hundred|thousand|million|billion|trillion)\b|(?P<sfx>bn|mn|[mbk])\b)?
    (?:(?P<pp>\s(?:percentage[-\s]points?))\b|(?P<pct>\s?%|\s(?:percent|per\s?cent)\b))?
    (?P<dol>\s(?:dollars|USD)\b)?
    (?:[-\s](?:(?:business|calendar|working)[-\s])?
       (?P<dur>days?|weeks?|months?|years?|hours?|minutes?)\b(?P<old>[-\s]olds?\b)?)?
    (?![A-Za-z0-9])""",
    re.I | re.X,
)
_PREFIXED_YEAR_RE = re.compile(r"\b(?:CY|FY|FFY)\s?(?P<y>(?:19|20)\d{2})\b")
_DUR_HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0, "week": 168.0, "month": 720.0, "year_duration": 8760.0}
_CURRENCY = {"$": "usd", "us$": "usd", "€": "eur", "£": "gbp"}

_CITE = (
    r"(?:\d+(?!\d)(?![,.]\d)(?!\s?(?:%|percent|million|billion|(?:day|month|year|hour)s?\b))[A-Za-z]?|"
    r"\([A-Za-z0-9]{1,4}\))(?:\([A-Za-z0-9]{1,4}\))*"
)
_CITES = rf"{_CITE}(?:(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|through|to|as)\s+|\s*[-–]\s*){_CITE})*"
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_EXCLUDE = [  # (pattern, group whose span is not a quantity)
    (re.compile(rf"§§?\s*{_CITES}"), 0),
    (
        re.compile(
            r"\b(?:sections?|secs?\.|subsections?|(?:sub)?paragraphs?|clauses?|(?:sub)?chapters?"
            r"|titles?|parts?|articles?|rules?|tables?|figures?|figs?\.|pages?|pp?\.|footnotes?"
            r"|notes?|appendix|exhibits?|vols?\.|volumes?|nos?\.|h\.\s?r\.|s\.\s?res\.|items?|(?:sub)?pars?\."
            r"|subsecs?\.|divs?\.|cls?\.|chs?\.)\s*" + _CITES,
            re.I,
        ),
        0,
    ),
    (re.compile(rf"\b\d+\s*U\.?\s?S\.?\s?C\.?\s*(?:A\.?\s*)?(?:§§?\s*)?{_CITES}"), 0),
    (re.compile(r"\b\d+\s*C\.?\s?F\.?\s?R\.?\s*(?:§§?\s*)?\d+(?:\.\d+)*"), 0),
    (re.compile(r"\b(?:Pub(?:lic)?\.?\s*L(?:aw)?\.?|L\.)\s*(?:No\.\s*)?\d+\s*[-–]\s*\d+", re.I), 0),
    (re.compile(r"\b\d+\s+(?:Stat\.|Fed\.\s?Reg\.)(?:\s+\d+(?:,\d{3})*(?:,\s\d+)*)?"), 0),
    (
        re.compile(
            r"(?<![\d,.])\b\d{1,3}[ \t]+(?:F\.\s?(?:2d|3d|4th)|F\.\s?Supp\.(?:\s?[23]d)?|U\.S\."
            r"|S\.\s?Ct\.|L\.\s?Ed\.(?:\s?2d)?)\s+\d[\d,]*(?:,\s*\d+)?"
        ),
        0,
    ),
    (re.compile(r"(?<![\w.])\(\d{1,3}\)"), 0),
    (
        re.compile(
            r"^[ \t#]*(?:\d{1,3}(?:\.\d{1,3})*|[A-Za-z]|[ivxlcIVXLC]+)[.)](?=\s)"  # list markers
            r"|^[ \t#]*\d{1,3}(?:\.\d{1,3})+(?=[ \t]+[A-Z])"  # headings
            r"|(?<=\n)[ \t]*\d{1,3}[ \t]*$|\A[ \t]*\d{1,3}[ \t]*(?=\n)"  # page numbers alone on a line
            r'|\[\^\d+\]|(?<=[\w.,;:)\'"’”])\[\d{1,3}\]',
            re.M,
        ),
        0,
    ),  # footnote markers
    (re.compile(r"(?:\b1[-.\s])?(?:\(\d{3}\)\s?|\b\d{3}[-.])\d{3}[-.]\d{4}\b|\b1-800-[A-Z][A-Z-]*"), 0),
    (re.compile(r"https?://\S+|\bwww\.\S+"), 0),
    (re.compile(r"(?<![\w.,])\d{1,3}(?:[-–]\d{1,3}){2,}(?![\w.,])"), 0),  # a record or score: "15-8-0"
    (
        re.compile(
            r"\b\d{1,2}:\d{2}\b|\b24/7\b"  # times
            r"|\b\d{1,2}/\d{1,2}/(?:\d{2}\b|(?=\d{4}\b))|(?<=\d{4})-\d{1,2}-\d{1,2}\b"
        ),
        0,
    ),  # dates keep the year
    (re.compile(rf"\b{_MONTH}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b"), 1),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\b"), 1),
]


def extract_quantities(text: str) -> list[Quantity]:
    """All figures in `text`, in order of appearance; citations and list markers are skipped."""
    spans = [m.span(g) for rx, g in _EXCLUDE for m in rx.finditer(text)]
    out = [
        Quantity(float(m["y"]), "year", m.group(), m.start(), m.end(), "year") for m in _PREFIXED_YEAR_RE.finditer(text)
    ]
    for m in _QTY_RE.finditer(text):
        g = "num" if m["num"] else "word"
        ns, ne = m.span(g)
        if any(s < ne and ns < e for s, e in spans) or any(q.start < ne and ns < q.end for q in out):
            continue
        numeral, qual = m[g], " ".join((m["qual"] or "").lower().split())
        sfx, scale_w = (m["sfx"] or "").lower(), (m["scale"] or "").lower()
        if m["num"]:
            base = float(numeral.replace(",", ""))
        else:
            base = float(sum(_WORDNUM[p] for p in re.split(r"[-\s]+", numeral.lower())))
        if sfx and not ("." in numeral or m["cur"] or base < 1000):
            continue  # "2258B" is a section, not 2258 billion
        unitless = not (scale_w or sfx or m["pct"] or m["pp"] or m["dur"] or m["dol"] or m["cur"])
        if m["word"] and unitless and base == 1:
            continue  # "no one", "one of the": not a figure
        value = base * _SCALES.get(scale_w or sfx, 1.0)
        if m["pct"] or m["pp"]:
            unit, kind = ("percentage_point" if m["pp"] else "percent"), "percent"
        elif m["cur"] or m["dol"]:
            unit, kind = _CURRENCY.get((m["cur"] or "$").lower(), "usd"), "money"
        elif m["dur"]:
            unit = {"year": "year_duration"}.get(m["dur"].lower().rstrip("s"), m["dur"].lower().rstrip("s"))
            unit, kind = ("age", "number") if m["old"] else (unit, "duration")
        elif unitless and not qual and re.fullmatch(r"\d{4}", numeral) and 1900 <= base <= 2099:
            unit, kind = "year", "year"
            edge = re.search(r"\b(pre|post)-$", text[max(0, ns - 5) : ns], re.I)
            qual = edge.group(1).lower() if edge else ""  # "the pre-2024 text": a boundary, not a year of data
        else:
            unit, kind = "count", "number"
        start = m.start("cur") if m["cur"] else ns
        out.append(Quantity(value, unit, text[start : m.end()], start, m.end(), kind, qual))
    return sorted(out, key=lambda q: q.start)


def extract_years(text: str) -> list[int]:
    """Calendar years named in `text` (1900-2099, "CY2023", "April 2024"), first mention order."""
    return list(dict.fromkeys(int(q.value) for q in extract_quantities(text) if q.kind == "year"))


_LIST_INTRO = re.compile(
    r"\b(?:(?:must\s+be\s+)?one\s+of(?:\s+the\s+following)?|(?:possible|valid|allowed|permitted)"
    r"\s+values(?:\s+are)?)\s*:",
    re.I,
)
_VALUE = re.compile(r"[A-Z][\w-]*")


def closed_list(evidence: str) -> list[str]:
    """The values of a closed list in `evidence` ("One of: Login Registration Purchase Upload Other",
    one value a line or all on one line), or []."""
    m = _LIST_INTRO.search(evidence)
    if not m:
        return []
    vals: list[str] = []
    for line in evidence[m.end() : m.end() + 400].split("\n"):
        parts = [v for v in re.split(r"[\s,|/]+|\bor\b|\band\b", line) if v]
        if not parts:
            continue
        if not all(_VALUE.fullmatch(v) for v in parts):
            break
        vals += parts
    return vals if len(vals) >= 2 else []


def has_list_intro(text: str) -> bool:
    """Does `text` open a closed list ("One of:", "Possible values:")?"""
    return bool(_LIST_INTRO.search(text))
