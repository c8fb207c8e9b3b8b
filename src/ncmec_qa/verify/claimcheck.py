"""Compare what a claim says with what one evidence sentence says: quantities, years, negation.

Runs after retrieval has picked candidate evidence sentences; it never decides retrieval.
The figures come from `answer.quantities.extract_quantities`. `compare` reports whether the
evidence agrees with the claim's figures ("consistent"), contradicts them ("conflict", with a
one-line reason) or says nothing comparable ("unrelated"). Everything is heuristic and
conservative: a conflict needs a same-class figure in a comparable context.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from dataclasses import dataclass

from ..answer.quantities import _DUR_HOURS, _QUAL_OP, _SCALES, _WORDNUM, Quantity, closed_list, extract_quantities

_QUOTED_TERM = re.compile(r"(?:^|[\s(])['‘\"“`](?P<t>[A-Z][\w-]{1,40})['’\"”`](?=[\s,.;:)]|$)")


@dataclass(frozen=True)
class Comparison:
    """Verdict on one claim/evidence pair: status is "consistent", "conflict" or "unrelated"."""

    status: str
    reason: str
    claim_quantity: Quantity | None = None
    evidence_quantity: Quantity | None = None


def _scale(raw: str) -> float:
    m = re.search(r"(?i)(?:\s|\d)(hundred|thousand|million|billion|trillion|bn|mn|[mbk])\b", raw)
    return _SCALES[m.group(1).lower()] if m else 1.0


def _half_unit(q: Quantity) -> float:
    """Half the rounding step implied by how the figure is written ("1.3 million" -> 50,000)."""
    m, scale = re.search(r"\d[\d,]*(?:\.(\d+))?", q.raw), _scale(q.raw)
    if m is None:  # spelled out
        return 0.5 * (scale if scale >= 1000 else 1.0)
    if m.group(1):
        return 0.5 * 10.0 ** -len(m.group(1)) * scale
    if scale > 1:
        return 0.5 * scale
    digits = m.group().replace(",", "")
    zeros = len(digits) - len(digits.rstrip("0"))
    if q.unit == "count" and zeros and digits.strip("0"):  # "18,400,000" is rounded, at most 5%
        return min(0.5 * 10.0**zeros, max(0.5, 0.05 * q.value))
    return 0.0 if q.kind in ("duration", "year") else 0.5


def _cls(q: Quantity) -> str:
    return "duration" if q.kind == "duration" else q.unit


figure_class = _cls  # what a figure can be compared with: durations with durations, counts with counts …


def _interval(q: Quantity, as_point: bool = False) -> tuple[float, float]:
    f = _DUR_HOURS.get(q.unit, 1.0)
    v, t = q.value * f, _half_unit(q) * f
    slack = max(t, 0.1 * abs(v))
    op = "=" if as_point else _QUAL_OP.get(q.qualifier, "=")
    return {
        ">": (v, math.inf),
        ">=": (v, math.inf),
        "<": (-math.inf, v),
        "<=": (-math.inf, v),
        "~": (v - slack, v + slack),
        "<~": (v - slack, v + t),
    }.get(op, (v - t, v + t))


def quantities_agree(a: Quantity, b: Quantity) -> bool:
    """Same unit class and the ranges implied by rounding and qualifiers overlap. Two upper bounds
    ("up to $250,000" vs "not more than $150,000") are caps and must name the same value."""
    if _cls(a) != _cls(b):
        return False
    caps = {_QUAL_OP.get(a.qualifier), _QUAL_OP.get(b.qualifier)} <= {"<", "<="}
    (alo, ahi), (blo, bhi) = _interval(a, caps), _interval(b, caps)
    eps = 1e-9 * max(abs(a.value), abs(b.value), 1.0)
    if a.kind == "duration" and a.unit != b.unit:  # 12 months vs 1 year vs 365 days
        eps += 0.02 * max(abs(a.value) * _DUR_HOURS[a.unit], abs(b.value) * _DUR_HOURS[b.unit])
    return alo <= bhi + eps and blo <= ahi + eps


def _tight(a: Quantity, b: Quantity) -> bool:
    """The same figure, qualifiers aside ("about 6%" and "6%"; not "more than 10,000" and "29.3 million")."""
    return quantities_agree(dataclasses.replace(a, qualifier=""), dataclasses.replace(b, qualifier=""))


def _distance(a: Quantity, b: Quantity) -> float:
    x, y = abs(a.value * _DUR_HOURS.get(a.unit, 1.0)), abs(b.value * _DUR_HOURS.get(b.unit, 1.0))
    return abs(math.log(x / y)) if x and y else (0.0 if x == y else math.inf)


def format_quantity(q: Quantity, with_qualifier: bool = False) -> str:
    """Render a figure for reasons: "$150,000", "90 days", "84%", "1,372,696", "1.3 million"."""
    if q.kind == "year":
        return str(int(q.value))
    scale = _scale(q.raw) if _scale(q.raw) >= 1000 else 1.0  # "two hundred" -> "200"
    m, n = re.search(r"\d[\d,]*\.\d+", q.raw), q.value / scale
    num = m.group().replace(",", "") if m else f"{round(n):,}" if abs(n - round(n)) < 1e-9 else f"{n:g}"
    if scale > 1:
        num += " " + {1e3: "thousand", 1e6: "million", 1e9: "billion", 1e12: "trillion"}[scale]
    s = {
        "percent": f"{num}%",
        "percentage_point": f"{num} percentage points",
        "usd": f"${num}",
        "eur": f"€{num}",
        "gbp": f"£{num}",
        "age": f"{num} years old",
    }.get(q.unit, num)
    if q.kind == "duration":
        s = f"{num} {q.unit.removesuffix('_duration')}" + ("" if q.value == 1 else "s")
    return f"{q.qualifier} {s}" if with_qualifier and q.qualifier else s


_FOLLOW_YEAR_RE = re.compile(
    r"(?:\s+[A-Za-z][\w'-]*){0,6}?(?:\s+(?:in|during|for|through|by|as\s+of)\s+"
    r"(?:(?:the\s+)?(?:calendar|fiscal)\s+year\s+|CY\s?|FY\s?)?|\s*\(\s*(?:CY|FY)?\s?)"
    r"(?P<y>(?:19|20)\d{2})\b",
    re.I,
)


def _locate(qs: list[Quantity], q: Quantity) -> Quantity | None:
    for cond in (
        lambda x: (x.start, x.end, x.raw) == (q.start, q.end, q.raw),
        lambda x: _cls(x) == _cls(q) and x.value == q.value,
        lambda x: quantities_agree(x, q),
    ):
        found = [x for x in qs if cond(x)]
        if found:
            return found[0]
    return None


def _line(text: str, q: Quantity) -> tuple[int, int]:
    """Start and end offsets of the line holding `q`."""
    end = text.find("\n", q.end)
    return text.rfind("\n", 0, q.start) + 1, len(text) if end < 0 else end


def _column_year(text: str, qs: list[Quantity], years: list[Quantity], target: Quantity) -> int | None:
    """Year of `target`'s column when a header run of years ("CY2021 CY2022 CY2023") precedes its row."""
    runs, cur = [], [years[0]]
    for a, b in itertools.pairwise(years):
        if re.fullmatch(r"[\s|,;/]*", text[a.end : b.start]):
            cur.append(b)
        else:
            runs.append(cur)
            cur = [b]
    runs.append(cur)

    def ordered(r: list[Quantity]) -> bool:  # strictly rising or falling, as in "CY2021 CY2022 CY2023"
        v = [y.value for y in r]
        return v in (sorted(set(v)), sorted(set(v), reverse=True))

    runs = [r for r in runs if len(r) >= 2 and r[-1].end <= target.start and ordered(r)]
    if not runs:
        return None
    run = runs[-1]
    ls, le = _line(text, target)
    row = [q for q in qs if q.kind != "year" and max(ls, run[-1].end) <= q.start and q.end <= le]
    if not row or len(row) % len(run):
        return None
    return int(run[row.index(target) // (len(row) // len(run))].value)


def year_of_number(evidence: str, quantity: Quantity) -> int | None:
    """Best-effort year a figure in `evidence` belongs to: its table column under a header of
    years, else a year right after it ("36.2 million reports in 2023"), else the nearest
    preceding year, else the first following one. None when `evidence` names no year or the
    figure is not found in it (`quantity` may come from another text; it is matched by value)."""
    qs = extract_quantities(evidence)
    years = [q for q in qs if q.kind == "year" and q.qualifier not in ("pre", "post")]
    target = _locate(qs, quantity)
    if not years or target is None:
        return None
    if target.kind == "year":
        return int(target.value)
    col = _column_year(evidence, qs, years, target)
    if col is not None:
        return col
    m = _FOLLOW_YEAR_RE.match(evidence, target.end)
    if m and any(y.start <= m.start("y") < y.end for y in years):
        return int(m["y"])
    before = [y for y in years if y.end <= target.start]
    return int((before[-1] if before else years[0]).value)


_STOP = frozenset(
    (
        "a an the of in on at to for from by with and or as is are was were be been being that "
        "this these those it its than more less fewer over under about nearly approximately "
        "least most up per each every which who has have had do does did not no into during "
        "through within after before since percent million billion thousand hundred dollars "
        "some all any such also only will would shall may must can could should there their "
        "they them while when where what total year years day days month months hour hours "
        "cy fy"
    ).split()
) | set(_WORDNUM)
_Ctx = tuple[set[str], set[str], set[str]]
_BREAK = re.compile(r"[.;:!?](?:\s|$)|\n")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*|[.;:!?](?=\s|$)|\n")


def _stem(word: str) -> str:
    w = word.lower().replace("’", "'").removesuffix("'s")
    for suf in ("ings", "ing", "ies", "ied", "es", "ed", "s"):
        if w.endswith(suf) and len(w) - len(suf) >= 3 and not (suf == "s" and w.endswith("ss")):
            w = w[: -len(suf)] + ("y" if suf in ("ies", "ied") else "")
            break
    return w[:-1] if w.endswith("e") and len(w) > 4 else w


def _content(text: str) -> list[str]:
    return [_stem(w) for w in re.findall(r"[A-Za-z][A-Za-z'’-]*", text) if len(w) >= 3 and w.lower() not in _STOP]


def _context(text: str, qs: list[Quantity], q: Quantity) -> _Ctx:
    """Content words before and after `q` (bounded by neighbouring figures and sentence ends),
    and the row label of a table-like line."""
    i = qs.index(q)
    before = _BREAK.split(text[qs[i - 1].end if i else 0 : q.start])[-1]
    after = _BREAK.split(text[q.end : qs[i + 1].start if i + 1 < len(qs) else len(text)])[0]
    ls, le = _line(text, q)
    cells = [x for x in qs if ls <= x.start and x.end <= le and x.kind != "year"]
    label = set(_content(text[ls : cells[0].start])) if len(cells) >= 3 else set()  # "International ..."
    return set(_content(before)[-3:]), set(_content(after)[:2]), label


def _comparable(c: Quantity, e: Quantity, cx: _Ctx, ex: _Ctx, single: bool) -> bool:
    if c.kind == "year":  # a different year alone is no contradiction
        return False
    cb, ca, cl = cx
    eb, ea, el = ex
    call, eall = cb | ca | cl, eb | ea | el
    if _cls(c) in ("count", "age"):  # counts: the same head noun or row label, or close in magnitude
        if ca and ea and not ca & ea:
            return False  # they count different things: "five trades" and "three decades", "355 feet" and "120 metres"
        near = _distance(c, e) <= math.log(10)
        return bool(ca & ea or (cl | el) & call & eall or ((cb & eb or single) and near))
    return bool(call & eall) or single


_LABEL = {"percent": "percent", "percentage_point": "percent", "usd": "amount", "eur": "amount", "gbp": "amount"}
_CLASS_NAME = {
    "percent": "percentage",
    "percentage_point": "percentage-point figure",
    "usd": "dollar amount",
    "eur": "euro amount",
    "gbp": "pound amount",
}


def compare(claim: str, evidence: str) -> Comparison:
    """Check the claim's figures and negation against one evidence text.

    Each claim figure (years only when the claim has no other figure) is matched against the
    evidence's figures of the same class: agreement within rounding and qualifiers is a match,
    unless the matching evidence figure belongs to another year than the claim's ("year
    differs"); no agreement but a same-class figure in a comparable context is a conflict.
    The first conflict wins, then a negation mismatch; else any match makes the pair
    "consistent", a claim without figures is "consistent", and the rest is "unrelated".
    """
    call_q, eall_q = extract_quantities(claim), extract_quantities(evidence)
    targets = [q for q in call_q if q.kind != "year"] or call_q
    has_years = any(q.kind == "year" for q in eall_q)
    conflicts: list[Comparison] = []
    matches: list[tuple[Quantity, Quantity]] = []
    missing: list[Quantity] = []
    for c in targets:
        same = [e for e in eall_q if _cls(e) == _cls(c)]
        cx = _context(claim, call_q, c)
        ex = {e: _context(evidence, eall_q, e) for e in same}
        cwords = cx[0] | cx[1] | cx[2]
        cy = year_of_number(claim, c)
        ey = {e: year_of_number(evidence, e) for e in same} if has_years else {}
        score = {
            e: (cy is not None and ey.get(e) == cy, len(cwords & set().union(*ex[e])), -_distance(c, e)) for e in same
        }  # prefer the claim's year, then shared context words, then the closest value
        hits = [e for e in same if quantities_agree(c, e)]
        if cy is not None:
            # a figure of another year says something about the claim only when it is the claim's very
            # figure ("169,800 is the 2022 figure"); a loose match through a qualifier ("more than 10,000"
            # vs "29.3 million in 2021") or a different value from another year is no evidence either way
            hits = [e for e in hits if ey.get(e) in (None, cy) or _tight(c, e)]
            other_year = {e for e in same if ey.get(e) not in (None, cy)}
        else:
            other_year = set()
        # one figure of this class on each side (the evidence may repeat it: "90 days … another 90-day period")
        single = sum(_cls(x) == _cls(c) for x in targets) == 1 and len({(e.value, e.unit) for e in same}) == 1
        comparable = [e for e in same if e not in other_year and _comparable(c, e, cx, ex[e], single)]
        best = max(hits or comparable, key=score.__getitem__, default=None)
        y = ey.get(best) if best else None
        year_clash = bool(hits) and best is not None and cy is not None and y is not None and y != cy
        if year_clash and best is not None and c.kind == "number" and abs(c.value) < 1000 and not score[best][1]:
            best = None  # a small bare count ("6") matching by chance says nothing about years
        if best is None:
            missing.append(c)
        elif year_clash:
            conflicts.append(
                Comparison(
                    "conflict", f"year differs: {format_quantity(best)} is the {y} figure, claim says {cy}", c, best
                )
            )
        elif hits:
            matches.append((c, best))
        else:
            conflicts.append(
                Comparison(
                    "conflict",
                    f"{_LABEL.get(_cls(c), 'number')} differs: claim says "
                    f"{format_quantity(c, True)}, evidence says {format_quantity(best, True)}",
                    c,
                    best,
                )
            )
    if conflicts:
        return conflicts[0]
    neg = (
        _negation_reason(claim, evidence) or _frequency_reason(claim, evidence) or _closed_list_reason(claim, evidence)
    )
    if neg:
        return Comparison("conflict", neg)
    if matches:
        c, e = matches[0]
        reason = f"matches: claim says {format_quantity(c, True)}, evidence says {format_quantity(e, True)}"
        if missing:
            reason += "; not in evidence: " + ", ".join(format_quantity(m, True) for m in missing)
        return Comparison("consistent", reason, c, e)
    if not targets:
        return Comparison("consistent", "no quantities to compare and no negation conflict")
    c = missing[0]
    return Comparison(
        "unrelated",
        f"no comparable {_CLASS_NAME.get(_cls(c), _cls(c))} in evidence for claim's {format_quantity(c, True)}",
        c,
    )


_NEG_ALL = re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot|\w+n['’]t)\b", re.I)
_NEG_VERBAL = re.compile(r"\b(?:not|never|cannot|\w+n['’]t)\b", re.I)
_NEG_EXEMPT = re.compile(
    r"\bnot\s+only\b|\b(?:no|not)\s+(?:later|earlier|sooner|more|less|fewer|greater)\s+than\b"
    r"|\bnot\s+to\s+exceed\b|\bwhether\s+or\s+not\b|\bno\.\s*\d",
    re.I,
)
_AUX = frozenset(
    (
        "be been being a an the to any always necessarily also currently legally generally directly "
        "explicitly actually yet even all ever have has had do does did is are was were so just "
        "automatically shall may must will would should can could"
    ).split()
)


def _cues(text: str, rx: re.Pattern[str]) -> list[re.Match[str]]:
    exempt = [m.span() for m in _NEG_EXEMPT.finditer(text)]
    return [m for m in rx.finditer(text) if not any(s <= m.start() < e for s, e in exempt)]


def has_negation(text: str) -> bool:
    """True when `text` contains a negation cue ("not", "no", "never", "without", "nor", "isn't",
    "cannot" ...); comparators such as "no more than", "not less than" and "not only" do not count."""
    return bool(_cues(text, _NEG_ALL))


def _window(toks: list[re.Match[str]], i: int, step: int, limit: int) -> list[str]:
    out, j = [], i + step
    while 0 <= j < len(toks) and abs(j - i) <= limit and toks[j].group()[0].isalpha():
        w = toks[j].group()
        if len(w) >= 3 and w.lower() not in _STOP and w.lower() not in _AUX:
            out.append(_stem(w))
        j += step
    return out


def _negations(text: str) -> list[tuple[str, str, set[str], list[str]]]:
    """(predicate stem, phrase, subject stems, object stems) for each verbal negation."""
    toks, out = list(_TOKEN.finditer(text)), []
    for cue in _cues(text, _NEG_VERBAL):
        i = next((k for k, t in enumerate(toks) if t.start() >= cue.end()), len(toks))
        for k in range(i, min(i + 4, len(toks))):
            w = toks[k].group()
            if not w[0].isalpha():
                break
            if w.lower() not in _AUX and len(w) >= 3:
                subj = set(_window(toks, i - 1, -1, 4)[:3]) if i else set()
                out.append((_stem(w), text[cue.start() : toks[k].end()], subj, _window(toks, k, 1, 5)[:2]))
                break
    return out + _nothing_negations(text)


# "Nothing in this section shall be construed to require …", "Nothing in subsections (a) or (b) requires …":
# a negated duty or permission whose cue stands far from its verb.
_NOTHING_RE = re.compile(
    r"\b(?:Nothing|No\s+provision)\b[^.;:?!]{0,120}?\b(?:(?:shall|may|will|should)\s+)?"
    r"(?:be\s+(?:construed|interpreted|read)\s+(?:to|as)\s+(?:an?\s+)?)?"
    r"(?P<v>(?:requir|authoriz|prohibit|permit|allow|mandat|obligat|compel|forbid)\w*)\b",
    re.I,
)
_TO_VERB = re.compile(r"\bto\s+([A-Za-z][\w'-]*)")


def _nothing_negations(text: str) -> list[tuple[str, str, set[str], list[str]]]:
    out: list[tuple[str, str, set[str], list[str]]] = []
    for m in _NOTHING_RE.finditer(text):
        verb = m["v"]
        obj = [
            _stem(w)
            for w in (t.group(1) for t in _TO_VERB.finditer(text, m.end(), min(len(text), m.end() + 160)))
            if len(w) >= 3 and w.lower() not in _STOP and w.lower() not in _AUX
        ][:1]
        head = m.group().split()[0]
        phrase = m.group() if len(m.group()) <= 40 else f"{head} … {verb}"
        out.append((_stem(verb), phrase, set(), obj))
    return out


def _affirmed(text: str, stem: str, subj: set[str], obj: list[str]) -> str | None:
    if has_negation(text):
        return None
    toks = list(_TOKEN.finditer(text))
    for k, t in enumerate(toks):
        if t.group()[0].isalpha() and _stem(t.group()) == stem:
            before, after = set(_window(toks, k, -1, 8)), set(_window(toks, k, 1, 8))
            if (not subj or subj & before) and all(o in after for o in obj):
                return t.group()
    return None


def _negation_reason(claim: str, evidence: str) -> str | None:
    for stem, phrase, subj, obj in _negations(claim):
        word = _affirmed(evidence, stem, subj, obj)
        if word:
            return f'negation differs: claim says "{phrase}", evidence says "{word}"'
    for stem, phrase, subj, obj in _negations(evidence):
        word = _affirmed(claim, stem, subj, obj)
        if word:
            return f'negation differs: claim says "{word}", evidence says "{phrase}"'
    return None


def negation_mismatch(claim: str, evidence: str) -> bool:
    """True when one side negates a predicate ("are not required to search") that the other
    states without any negation, with a shared subject and the same object words nearby."""
    return _negation_reason(claim, evidence) is not None


# -- how often, and closed lists of values --------------------------------------------------------

_MANY_TIMES = re.compile(
    r"\b(?:several|multiple|many|numerous|repeated|any\s+number\s+of)\s+times\b"
    r"|\bmore\s+than\s+once\b|\brepeatedly\b|\bas\s+(?:many|often)\s+as\b",
    re.I,
)
_ONCE = re.compile(
    r"\b(?:only|exactly|just)\s+once\b|\bonce\s+(?:per|for\s+(?:each|every)|each)\b"
    r"|\bonce\s+only\b|\bno\s+more\s+than\s+once\b|\b(?:a|one)\s+single\s+time\b",
    re.I,
)


def _frequency_reason(claim: str, evidence: str) -> str | None:
    """ "several times" on one side, "once per …"/"only once" on the other."""
    for a, b, swap in ((claim, evidence, False), (evidence, claim, True)):
        many, once = _MANY_TIMES.search(a), _ONCE.search(b)
        if many and once and not _MANY_TIMES.search(b) and not _ONCE.search(a):
            c, e = (once.group(), many.group()) if swap else (many.group(), once.group())
            return f'frequency differs: claim says "{c}", evidence says "{e}"'
    return None


def figure_distance(a: Quantity, b: Quantity) -> float:
    """|log(a/b)| of two figures (durations in hours): 0 for the same value, log 2 for double."""
    return _distance(a, b)


def _closed_list_reason(claim: str, evidence: str) -> str | None:
    """The claim quotes a value ('Download') that a closed list in the evidence does not allow."""
    vals = closed_list(evidence)
    if not vals:
        return None
    allowed = {v.lower() for v in vals}
    for m in _QUOTED_TERM.finditer(claim):
        if m["t"].lower() not in allowed:
            return f'value not allowed: claim says "{m["t"]}", evidence allows one of {", ".join(vals)}'
    return None
