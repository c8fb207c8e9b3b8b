"""Check claims against the corpus: verdicts with reasons, and the deciding sentences quoted verbatim.

API: `verify_claim(ws, claim, exclude=…, sources=…, k=…) -> Verdict`, `split_claims(text)`,
`verify_article(ws, text, …) -> ArticleReport`, and `assess(claim, units, stats)` for any
candidate sentences (the benchmarks use it on WiCE pages). A claim is checked in three steps:

1. Candidates. The passages hybrid retrieval ranks first, plus the best lexical matches of the
   claim, of its rarest words, and of each name it contains together with its years (an entity
   such as "Discord" sits in a table row that the dense ranking rarely puts first). Their
   sentences become *units*: verbatim spans that can be quoted. A multi-line table block becomes
   one unit per row; a statement pysbd cut in pieces ("Nothing in subsections (a) or" | "(b)
   requires …", a list and its lead-in) is joined again; a closed list ("One of:" Login, Upload …)
   is joined to the sentence that names what it lists.
2. Relevance. Each unit gets the cosine of its sentence to the claim (stored sentence vectors;
   table rows and joined statements that hold a rarer claim word are embedded on their own) plus
   the IDF-weighted share of the claim's content words it contains (words found only in its
   source's title, publisher, edition, section or table header count half).
3. Comparison. `claimcheck.compare` reads the best units against the claim, each prefixed with
   that context, so that a table figure knows its column's year and a list row its document's.
   A conflict (number, year, duration, negation, frequency, a value outside a closed list) in an
   on-topic unit makes the claim `contradicted`, unless an on-topic unit matches that very figure
   in the claim's year. The claim is `supported` when consistent on-topic units of one document
   match every figure it gives (in its year), contain every name it uses and enough of its
   words; otherwise it is `not_found`, the reason says what is missing (a year, a name, a
   figure, or the words no passage has), and the evidence shows the nearest units.

Thresholds were fitted on the 30 dev claims (eval/claims.jsonl); see docs/benchmarks-verify.md.
"""

from __future__ import annotations

import numpy as np

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Sequence

from .claimcheck import (
    Comparison,
    Quantity,
    closed_list,
    compare,
    extract_quantities,
    figure_distance,
    format_quantity,
    has_list_intro,
)
from .models import Citation, Passage, Sentence, Source, Verdict

SUPPORTED, CONTRADICTED, NOT_FOUND = "supported", "contradicted", "not_found"
VERDICTS = (SUPPORTED, CONTRADICTED, NOT_FOUND)


@dataclass(frozen=True)
class VerifyConfig:
    k: int = 10  # passages from hybrid retrieval
    lexical_k: int = 8  # extra passages from a lexical search of the claim, and of its rarest words
    rare_terms: int = 3
    compared: int = 14  # best units read by `compare`
    w_coverage: float = 0.6  # relevance = cosine + w_coverage * key-word coverage
    context_credit: float = 0.5  # a word found only in the title, section or table header counts this much
    # a conflict decides only in an on-topic unit
    conflict_cosine: float = 0.45
    conflict_coverage: float = 0.40
    close_cosine: float = 0.65  # … or this similar, with at least close_coverage of its words
    close_coverage: float = 0.30
    # support: the evidence covers the claim's key words and the best unit is close to the claim
    support_cosine: float = 0.55
    support_coverage: float = 0.70
    support_coverage_figures: float = 0.55
    key_idf: float = 3.0  # a name in the claim this rare (IDF) must appear in the evidence
    max_evidence: int = 3
    nearest: int = 2  # units shown with a not_found verdict: the nearest the corpus comes
    min_chars: int = 20
    year_bonus: float = 0.05
    max_join: int = 6  # sentences joined into one unit where pysbd cut a statement
    max_unit_chars: int = 700
    line_idf: float = 3.0  # table lines holding a claim word at least this rare get their own cosine
    max_line_embeddings: int = 48


# -- words ---------------------------------------------------------------------------------------

_STOP = frozenset(
    """
a an the of in on at to for from by with and or as is are was were be been being that this these those it its
than more less fewer over under about nearly approximately least most up per each every which who whom whose has
have had do does did not no into during through within after before since some all any such also only will would
shall may must can could should there their they them while when where what how why whether other another both
either neither nor so if then thus however because than very much many own same just even still yet via upon
percent million billion thousand hundred dollars total year years day days month months hour hours cy fy
one two three four five six seven eight nine ten first second third s t i we our us you your he she his her him
about around roughly among between including include includes included said says say according made make makes
new let lets go goes going went gone usually typically generally often along several certain various deem deems
deemed show shows shown tie tied use used uses using able way ways like well within without cannot therefore
moreover furthermore indeed""".split()
)

# The same thing written several ways in this corpus (and in claims about it).
_SYNONYMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\bU\.\s?S\.(?:\s?A\.)?(?:-based)?|\bUnited\s+States(?:\s+of\s+America)?\b|\bUSA?\b"),
        " unitedstates ",
    ),
    (re.compile(r"\belectronic\s+(?:communication\s+)?service\s+providers?\b|\bESPs?\b", re.I), " esp "),
    (re.compile(r"\bchild\s+sexual\s+abuse\s+material\b|\bCSAM\b|\bchild\s+pornography\b", re.I), " csam "),
    (re.compile(r"\bInternet\s+Protocol\b", re.I), " ip "),
    (re.compile(r"\bend[\s-]+to[\s-]+end\b", re.I), " endtoend "),
    (
        re.compile(r"\b(?:ICACs?|Internet\s+Crimes\s+Against\s+Children)\b(?:\s+(?:task\s+forces?|units?))?", re.I),
        " icac ",
    ),
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]{2,}")


def _stem(word: str) -> str:
    w = word.lower().replace("’", "'").removesuffix("'s").strip("'-")
    if w.endswith(("ission", "issions")) and len(w) > 8:
        w = w[: w.rindex("ission")] + "it"  # submission/submit, permission/permit
    for suf in ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s"):
        if w.endswith(suf) and len(w) - len(suf) >= 3 and not (suf == "s" and w.endswith(("ss", "us", "is"))):
            w = w[: -len(suf)] + ("y" if suf in ("ies", "ied") else "")
            break
    w = w[:-1] if w.endswith("e") and len(w) > 3 else w  # "fine"/"fined", "rate"/"rated"
    return w[:7]  # "government"/"governmental", "preserved"/"preservation"


def _normalize(text: str) -> str:
    for pat, rep in _SYNONYMS:
        text = pat.sub(rep, text)
    return text


def term_forms(text: str) -> dict[str, str]:
    """Content-word stems of `text`, each with the first form it was written in."""
    out: dict[str, str] = {}
    for w in _WORD.findall(_normalize(text)):
        lw = w.lower()
        if re.fullmatch(r"[A-Z]{2,}s", w):
            lw = lw[:-1]  # "IPs", "ESPs": acronyms in the plural
        if lw in _STOP or len(lw) < 3 and lw not in ("ip",):
            continue
        for part in lw.split("-"):
            if len(part) >= 3 and part not in _STOP:
                out.setdefault(_stem(part), w)
    return out


def terms(text: str) -> set[str]:
    return set(term_forms(text))


_FORMS_CACHE: dict[str, frozenset[str]] = {}


def _terms_cached(text: str) -> frozenset[str]:
    t = _FORMS_CACHE.get(text)
    if t is None:
        if len(_FORMS_CACHE) > 50_000:
            _FORMS_CACHE.clear()
        t = _FORMS_CACHE[text] = frozenset(terms(text))
    return t


@dataclass
class TermStats:
    """Document frequencies of content-word stems over a set of texts (passages, or a page's sentences)."""

    n: int
    df: dict[str, int]
    capitalised: dict[str, int] = field(default_factory=dict)  # mid-sentence occurrences written with a capital
    lower: dict[str, int] = field(default_factory=dict)  # … and written in lower case

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "TermStats":
        df: dict[str, int] = {}
        cap: dict[str, int] = {}
        low: dict[str, int] = {}
        n = 0
        for t in texts:
            n += 1
            for w in terms(t):
                df[w] = df.get(w, 0) + 1
            for m in _MID_WORD.finditer(t):
                w = m.group(1)
                st = _stem(w.lower())
                d = cap if w[0].isupper() else low
                d[st] = d.get(st, 0) + 1
        return cls(n, df, cap, low)

    def is_name(self, stem: str) -> bool:
        """Does the corpus write this word with a capital in mid-sentence (Discord, Europol), not "Moreover"?"""
        c, lo = self.capitalised.get(stem, 0), self.lower.get(stem, 0)
        return c > 0 and c >= lo

    def idf(self, term: str) -> float:
        d = self.df.get(term, 0)
        return math.log(1 + (self.n - d + 0.5) / (d + 0.5))


_W_COV = VerifyConfig.w_coverage
_MID_WORD = re.compile(r"(?<=[a-z,;]\s)([A-Za-z][a-z]{2,})\b")
_STATS: dict[str, TermStats] = {}


def index_stats(ws) -> TermStats:
    """Term statistics of an index's passages (computed once per index generation)."""
    key = str(ws.index.path)
    if key not in _STATS:
        rows = ws.index.db.execute("SELECT text, section FROM passages").fetchall()
        _STATS[key] = TermStats.from_texts(f"{t} {s or ''}" for t, s in rows)
    return _STATS[key]


# -- units ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A verbatim span that can be quoted, with what is known about it."""

    text: str  # the quote, verbatim
    context: str = ""  # read with it but not quoted: source title, section, table header
    cosine: float = 0.0
    source_id: str = ""
    start: int = 0  # offsets in the document's extracted text
    end: int = 0
    passage: Passage | None = None
    rank: int = 0  # rank of its passage among the candidates
    ref: Any = None  # caller's handle (a sentence index in benchmarks)
    label: str = ""  # a short pinpoint for reasons: "§ 2258A(h)", "CY 2023 Report…, p. 4"
    doc_year: int | None = None  # the year the document reports on (its title's, else its date's)

    @property
    def key(self) -> tuple:
        return (self.source_id, self.start, self.end) if self.source_id else ("", repr(self.ref), self.start)


@dataclass(frozen=True)
class Scored:
    unit: Unit
    coverage: float  # IDF-weighted share of the claim's words in the unit (context at half credit)
    score: float
    found: frozenset[str]  # claim terms in the unit's text
    found_ctx: frozenset[str]  # claim terms in its context only
    comparison: Comparison | None = None


@dataclass(frozen=True)
class Assessment:
    verdict: str
    reason: str
    evidence: tuple[Scored, ...]
    coverage: float = 0.0  # coverage of the claim's key words by the evidence (or the best unit)
    best_cosine: float = 0.0
    candidates: tuple[Scored, ...] = ()

    @property
    def relevance(self) -> float:
        """The best single unit's cosine plus its share of the claim's words (the ranking score): how
        close the corpus comes to the claim, whatever the verdict."""
        return max((s.unit.cosine + s.coverage * _W_COV for s in self.candidates), default=0.0)


# -- the claim -----------------------------------------------------------------------------------

_CITE_MARK = re.compile(r"\s*\[(?:\d{1,3}|\^\d{1,3})\](?:\s*\[(?:\d{1,3}|\^\d{1,3})\])*")


def clean_claim(text: str) -> str:
    """A claim as it will be checked: one line, citation markers ([1], [^2]) and Markdown emphasis removed."""
    t = _CITE_MARK.sub("", text)
    t = re.sub(r"(\*\*|__|`)", "", t)
    t = re.sub(r"^\s*(?:[-*+]|\d{1,2}[.)])\s+", "", t)
    return " ".join(t.split())


def _names(text: str, stats: TermStats | None = None, min_idf: float = 3.0) -> set[str]:
    """Stems of the words written with a capital or in quotes (Europol, 'Download'). The first word
    counts only when the corpus itself writes it with a capital mid-sentence ("Discord …", not
    "Moreover …"); with `stats`, only names at least `min_idf` rare are kept."""
    out = set()
    norm = _normalize(text)
    for i, m in enumerate(_WORD.finditer(norm)):
        w = m.group()
        quoted = m.start() > 0 and norm[m.start() - 1] in "'‘\"“`"
        lw = w.lower()
        if lw in _STOP or len(lw) < 3:
            continue
        st = _stem(lw)
        inner = any(ch.isupper() for ch in w[1:])
        if i == 0 and not quoted and not inner:
            if stats is None or not stats.is_name(st):
                continue  # "Discord submitted …" is a name; "Moreover, …" is not
        elif not (w[0].isupper() or quoted or inner):
            continue
        if stats is None or stats.idf(st) >= min_idf:
            out.add(st)
    return out


def _figures(text: str) -> list[Quantity]:
    return [q for q in extract_quantities(text) if q.kind != "year"]


def _years(text: str) -> list[int]:
    return list(dict.fromkeys(int(q.value) for q in extract_quantities(text) if q.kind == "year"))


@dataclass(frozen=True)
class Claim:
    text: str
    forms: dict[str, str]
    weights: dict[str, float]
    figures: tuple[Quantity, ...]
    years: tuple[int, ...]

    names: frozenset[str] = frozenset()  # capitalised or quoted words: names the evidence must contain

    @classmethod
    def parse(cls, text: str, stats: TermStats, cap: float = 4.5, min_idf: float = 3.0) -> "Claim":
        forms = term_forms(text)
        weights = {t: min(stats.idf(t), cap) for t in forms}
        return cls(
            text, forms, weights, tuple(_figures(text)), tuple(_years(text)), frozenset(_names(text, stats, min_idf))
        )

    @property
    def total(self) -> float:
        return sum(self.weights.values()) or 1.0

    def coverage(self, found: Iterable[str], half: Iterable[str] = (), credit: float = 0.5) -> float:
        found = set(found)
        got = sum(self.weights[t] for t in found) + credit * sum(self.weights[t] for t in set(half) - found)
        return got / self.total

    def key_terms(self, cfg: VerifyConfig, stats: TermStats) -> list[str]:
        """Words the evidence must contain, rarest first: names (capitalised or quoted, and not
        common in the corpus) and words the corpus never uses."""
        keys = [t for t in self.weights if t in self.names or stats.df.get(t, 0) == 0]
        return sorted(keys, key=lambda t: -stats.idf(t))


# -- assessment (works on any units: the corpus's or a benchmark's) --------------------------------


def score_units(claim: Claim, units: Sequence[Unit], cfg: VerifyConfig) -> list[Scored]:
    out = []
    cw = set(claim.weights)
    for u in units:
        found = cw & _terms_cached(u.text)
        ctx = (cw & _terms_cached(u.context)) - found if u.context else frozenset()
        cov = claim.coverage(found, ctx, cfg.context_credit)
        score = u.cosine + cfg.w_coverage * cov
        if claim.years and any(str(y) in u.context for y in claim.years):
            score += cfg.year_bonus  # the claim's year in the title or the text: "NCMEC's 2023 report"
        out.append(Scored(u, cov, score, frozenset(found), frozenset(ctx)))
    return sorted(out, key=lambda s: (-s.score, s.unit.rank, s.unit.start))


def _comparison_text(u: Unit) -> tuple[str, int]:
    """What `compare` reads for a unit (its context, then the unit) and where the unit starts in it."""
    if not u.context:
        return u.text, 0
    head = u.context.rstrip() + "\n"
    return head + u.text, len(head)


def _in_unit(c: Comparison, offset: int) -> bool:
    """Is the evidence figure of a comparison inside the quoted unit (not in its title or header)?"""
    q = c.evidence_quantity
    return q is None or q.start >= offset


def _matched(claim: Claim, text: str) -> set[int]:
    """Indices of the claim's figures that `text` matches (each figure compared on its own)."""
    out = set()
    for i, q in enumerate(claim.figures):
        sub = _single_figure_claim(claim.text, q)
        c = compare(sub, text)
        if (
            c.status == "consistent"
            and c.claim_quantity is not None
            and c.evidence_quantity is not None
            and figure_distance(c.claim_quantity, c.evidence_quantity) <= math.log(1.5)
        ):
            out.add(i)  # "more than 10,000" is consistent with 36.2 million, but it is not what was said
    return out


def _without_years(text: str) -> str:
    out = list(text)
    for q in extract_quantities(text):
        if q.kind == "year":
            for i in range(q.start, q.end):
                out[i] = "x" if text[i].isalnum() else text[i]
    return "".join(out)


def _doc_year(source: Source) -> int | None:
    ys = _years(source.title)
    if ys:
        return max(ys)
    m = re.match(r"(19|20)\d\d", source.date or "")
    return int(m.group()) if m else None


def _single_figure_claim(text: str, q: Quantity) -> str:
    """The claim with its other figures blanked out, so that `compare` judges one figure."""
    out = list(text)
    for other in _figures(text):
        if (other.start, other.end) != (q.start, q.end):
            for i in range(other.start, other.end):
                out[i] = " " if not text[i].isalpha() else "x"
    return "".join(out)


def _on_topic(s: Scored, cfg: VerifyConfig) -> bool:
    """Is a unit about what the claim is about? Similar enough and sharing enough of its words
    (a very similar sentence may word things differently)."""
    if s.unit.cosine < cfg.conflict_cosine:
        return False
    return s.coverage >= cfg.conflict_coverage or (
        s.unit.cosine >= cfg.close_cosine and s.coverage >= cfg.close_coverage
    )


def _says(reason: str, s: Scored) -> str:
    return reason.replace("evidence says", f"{s.unit.label} says") if s.unit.label else reason


def assess(claim_text: str, units: Sequence[Unit], stats: TermStats, cfg: VerifyConfig = VerifyConfig()) -> Assessment:
    """Decide a claim against candidate units; see the module docstring."""
    claim = Claim.parse(claim_text, stats, min_idf=cfg.key_idf)
    scored = score_units(claim, units, cfg)
    if not scored:
        return Assessment(NOT_FOUND, "no passage was retrieved", ())
    best_cos = max(s.unit.cosine for s in scored)
    top = []
    for s in scored[: cfg.compared]:
        text, off = _comparison_text(s.unit)
        c = compare(claim.text, text)
        if (
            c.status == "unrelated"
            and claim.years
            and s.unit.doc_year
            and any(y > s.unit.doc_year for y in _years(s.unit.text))
        ):
            # "NCMEC's 2023 report warned …" against the 2023 report's "will begin in CY 2024 and could
            # cost up to 80%": a year after the document's own is a forecast's date, not a figure's year
            c2 = compare(_without_years(claim.text), s.unit.text)
            if c2.status == "conflict":
                c, off = c2, 0
        if c.status == "conflict" and not _in_unit(c, off):
            c = Comparison("unrelated", c.reason)
        top.append(replace(s, comparison=c))

    # figures the on-topic units match, each in the claim's year (compare checks the year)
    support_units = [s for s in top if s.comparison.status == "consistent" and s.unit.cosine >= cfg.conflict_cosine]
    unit_figs: dict[tuple, set[int]] = {}
    matched: dict[int, Scored] = {}
    for s in support_units:
        if claim.figures and s.coverage >= cfg.conflict_coverage * 0.75:
            unit_figs[s.unit.key] = _matched(claim, _comparison_text(s.unit)[0])
            for i in unit_figs[s.unit.key]:
                matched.setdefault(i, s)

    # contradiction: an on-topic conflict about a figure no on-topic unit matches, or about negation,
    # frequency or a closed list
    conflicts = []
    for s in top:
        c = s.comparison
        if c.status != "conflict" or not _on_topic(s, cfg):
            continue
        if c.claim_quantity is not None:
            idx = [
                i
                for i, q in enumerate(claim.figures)
                if (q.start, q.end) == (c.claim_quantity.start, c.claim_quantity.end)
            ]
            if idx and idx[0] in matched:
                continue
        conflicts.append(s)
    if conflicts:
        first = conflicts[0]
        evidence = [first]
        for s in conflicts[1:]:  # a second source saying the same thing differently ("the 2022 figure")
            if (
                len(evidence) < cfg.max_evidence
                and s.comparison.reason != first.comparison.reason
                and s.unit.key != first.unit.key
                and s.unit.text.strip() != first.unit.text.strip()
            ):
                evidence.append(s)
                break
        reason = _says(first.comparison.reason, first)
        if len(evidence) > 1 and evidence[1].comparison.reason.startswith("year differs"):
            reason += "; " + _says(evidence[1].comparison.reason.split(", claim says")[0], evidence[1])
        return Assessment(CONTRADICTED, reason, tuple(evidence), first.coverage, best_cos, tuple(top))

    # support: the claim's words and figures covered by consistent on-topic units of one document
    pool = [
        s for s in top if s.comparison.status in ("consistent", "unrelated") and s.unit.cosine >= cfg.conflict_cosine
    ]
    best_cover: tuple | None = None
    for sid in dict.fromkeys(s.unit.source_id for s in pool):
        cover = _cover(claim, [s for s in pool if s.unit.source_id == sid], unit_figs, cfg)
        text = " ".join(f"{s.unit.text} {s.unit.context}" for s in cover[0])
        years = sum(str(y) in text for y in claim.years)
        rank = (len(cover[3]), years, cover[4], cover[0][0].score if cover[0] else 0.0)
        if cover[0] and (best_cover is None or rank > best_cover[0]):
            best_cover = (rank, cover)
    chosen, covered, covered_ctx, figs = best_cover[1][:4] if best_cover else ([], set(), set(), set())
    coverage = claim.coverage(covered, covered_ctx, cfg.context_credit)
    seen_text = " ".join(f"{s.unit.text} {s.unit.context}" for s in chosen)
    missing_years = [y for y in claim.years if str(y) not in seen_text]
    missing_figs = [q for i, q in enumerate(claim.figures) if i not in figs]
    best = chosen[0] if chosen else scored[0]
    weak = not chosen or best.unit.cosine < cfg.support_cosine and coverage < 0.9
    # a claim whose figures are all matched in its year needs fewer of its words in the evidence
    low = coverage < (cfg.support_coverage_figures if claim.figures else cfg.support_coverage)
    # the reason is explained against the chosen evidence, or (none chosen) the best candidates
    ref = chosen or list(top[:3])
    ref_terms = set().union(*(s.found | s.found_ctx for s in ref)) if ref else set()
    missing_keys = [t for t in claim.key_terms(cfg, stats) if t not in ref_terms]
    if not (weak or low or missing_years or missing_figs or missing_keys):
        why = None
    elif missing_years and (
        chosen or any(str(y) not in " ".join(f"{s.unit.text} {s.unit.context}" for s in ref) for y in missing_years)
    ):
        anywhere = " ".join(f"{s.unit.text} {s.unit.context}" for s in top)
        absent = [str(y) for y in missing_years if str(y) not in anywhere]
        why = (
            f"no retrieved passage mentions {' or '.join(absent)}"
            if absent
            else f"no passage that matches the claim mentions {' or '.join(str(y) for y in missing_years)}"
        )
    elif missing_keys:
        why = _mention_reason([claim.forms[t] for t in missing_keys[:2]], stats, stems=missing_keys[:2])
    elif missing_figs:
        q = missing_figs[0]
        yr = f" for {claim.years[0]}" if claim.years else ""
        why = f"no passage gives {format_quantity(q, True)}{yr}"
    elif weak:
        why = f"no passage states this (closest sentence similarity {best_cos:.2f})"
    else:
        absent = sorted(
            (t for t in claim.weights if t not in covered and t not in covered_ctx), key=lambda t: -claim.weights[t]
        )
        why = (
            _mention_reason([claim.forms[t] for t in absent[:2]], stats, stems=absent[:2])
            if absent
            else f"the evidence covers too little of the claim ({coverage:.0%} of its key words)"
        )
    if why:
        return Assessment(NOT_FOUND, why, tuple(ref[: cfg.nearest]), coverage, best_cos, tuple(top))
    first = chosen[0]
    if claim.figures and figs:
        i0 = min(figs)
        m = next(s for s in chosen if i0 in unit_figs.get(s.unit.key, set()))
        text, off = _comparison_text(m.unit)
        c = compare(_single_figure_claim(claim.text, claim.figures[min(figs)]), text)
        reason = _says(c.reason, m)
    else:
        reason = (
            f"stated in {first.unit.label or 'the evidence'} (similarity {first.unit.cosine:.2f}, "
            f"{coverage:.0%} of the claim's key words)"
        )
    return Assessment(SUPPORTED, reason, tuple(chosen), coverage, best_cos, tuple(top))


def _cover(claim: Claim, pool: Sequence[Scored], unit_figs: dict[tuple, set[int]], cfg: VerifyConfig):
    """Greedy cover of the claim's words and figures by up to `max_evidence` units (best first):
    (chosen, words found, words found in context only, figures matched, coverage)."""
    chosen: list[Scored] = []
    covered: set[str] = set()
    covered_ctx: set[str] = set()
    figs: set[int] = set()
    for s in pool:
        if len(chosen) >= cfg.max_evidence:
            break
        new_terms = (s.found | s.found_ctx) - covered - covered_ctx
        new_figs = unit_figs.get(s.unit.key, set()) - figs
        gain = claim.coverage(new_terms & s.found, new_terms & s.found_ctx, cfg.context_credit)
        if chosen and not new_figs and gain < 0.08:
            continue
        if not chosen and s.comparison.status != "consistent" and claim.figures:
            continue
        chosen.append(s)
        covered |= s.found
        covered_ctx |= s.found_ctx - covered
        figs |= new_figs
    return chosen, covered, covered_ctx, figs, claim.coverage(covered, covered_ctx, cfg.context_credit)


def _mention_reason(words: Sequence[str], stats: TermStats, stems: Sequence[str]) -> str:
    shown = " or ".join(f"“{w}”" for w in words)
    if all(stats.df.get(t, 0) == 0 for t in stems):
        return f"no passage mentions {shown}"
    return f"no passage that matches the claim mentions {shown}"


# -- units from the index ------------------------------------------------------------------------

_TERMINAL = re.compile(r"[.!?:;”\"')\]]\s*$")
_HEADER_YEARS = re.compile(
    r"^[^\n\d]{0,40}(?:(?:CY|FY)\s?)?(?:19|20)\d{2}(?:[\s|,;/]+(?:(?:CY|FY)\s?)?(?:19|20)\d{2})+[^\n\d]{0,10}$", re.M
)


def short_label(source: Source, passage: Passage) -> str:
    """A short label for reasons: "§ 2258A(h)", "API docs > 6.2 …", "CY 2023 Report …, p. 4"."""
    sec = passage.section or ""
    if sec.startswith("§"):
        segs = [x.strip() for x in sec.split(" > ")]
        m = re.match(r"§\s*(\d+[A-Z]?)", segs[0])
        if m:
            marks = "".join(
                re.match(r"\([A-Za-z0-9]+\)", x).group() for x in segs[1:] if re.match(r"\([A-Za-z0-9]+\)", x)
            )
            return f"§{m.group(1)}{marks}"
    title = source.title if len(source.title) <= 40 else source.title[:38].rstrip() + "…"
    if passage.page:
        return f"{title}, p. {passage.page}"
    if sec and not sec.startswith("row "):
        last = sec.split(" > ")[-1].strip()
        return f"{title}, {last[:40]}" if last != source.title else title
    return title


_ALPHA = re.compile(r"[A-Za-z][A-Za-z.'’&-]*")


def _is_row(line: str) -> bool:
    """A table row: a label of a few words and figures ("Discord Inc. 339,412", "U.S. 724,503 2.5% …")."""
    figs = _figures(line)
    if not figs:
        return False
    rest = line
    for q in reversed(figs):
        rest = rest[: q.start] + " " + rest[q.end :]
    words = _ALPHA.findall(rest)
    if not words or len(words) > 7:
        return False
    return len(figs) >= 2 or line.rstrip().endswith(figs[-1].raw)


def _segments(block: str, start: int) -> list[tuple[int, int, bool]]:
    """A multi-line block cut into table rows (one each) and runs of other lines (joined):
    (start, end, is_row), as absolute offsets."""
    out: list[tuple[int, int, bool]] = []
    run: tuple[int, int] | None = None
    pos = 0
    for line in block.split("\n"):
        a = pos + (len(line) - len(line.lstrip()))
        b = pos + len(line.rstrip())
        pos += len(line) + 1
        if b <= a:
            continue
        if _is_row(block[a:b]):
            if run:
                out.append((start + run[0], start + run[1], False))
                run = None
            out.append((start + a, start + b, True))
        else:
            run = (run[0], b) if run else (a, b)
    if run:
        out.append((start + run[0], start + run[1], False))
    return out


def _header_before(doc: str, at: int, reach: int = 1500) -> str:
    """The nearest line of years ("CY 2021 CY 2022 CY 2023") before offset `at` in the document."""
    lo = max(0, at - reach)
    found = None
    for m in _HEADER_YEARS.finditer(doc, lo, at):
        found = m
    return " ".join(found.group().split()) if found else ""


def _caption(block: str, upto: int) -> str:
    """Lines without figures above offset `upto` in a table block: its caption and column names."""
    lines = [ln.strip() for ln in block[:upto].split("\n")]
    return " ".join(ln for ln in lines if ln and not _figures(ln) and not _HEADER_YEARS.fullmatch(ln))


def _caption_above(text: str, max_lines: int = 4) -> str:
    """The lines without figures just above the table that ends `text` (its caption), skipping
    the table's own rows and its line of years; "" when a blank line or prose comes first."""
    lines = text.rstrip().split("\n")
    while lines and (_is_row(lines[-1].strip()) or _HEADER_YEARS.fullmatch(lines[-1].strip())):
        lines.pop()
    out: list[str] = []
    while lines and len(out) < max_lines:
        ln = lines.pop().strip()
        if not ln or _figures(ln) or _TERMINAL.search(ln):
            break
        out.insert(0, ln)
    return " ".join(out)


def _joins_previous(prev: Sentence, cur_text: str) -> bool:
    """Did pysbd cut a statement in two here ("Nothing in subsections (a) or" | "(b) requires …")?"""
    if prev.kind in ("heading", "table_header", "row", "line"):
        return False
    if closed_list(cur_text) and re.match(r"(?:must\s+be\s+)?one\s+of|(?:possible|valid|allowed)", cur_text, re.I):
        return True  # "The type of event …" + "One of: Login Registration …"
    prev_text = prev.text.strip()
    if _LIST_ITEM.match(cur_text) and re.search(r"(?:[;:,—]|--|;\s*(?:or|and))\s*$", prev_text):
        return True  # "(1) monitor any user …;" + "(2) monitor the content …"
    return not _TERMINAL.search(prev_text) and bool(re.match(r"[a-z0-9(]", cur_text))


_LIST_ITEM = re.compile(r"\(\w{1,4}\)\s")


def passage_units(
    p: Passage,
    cosines: Sequence[float],
    source: Source,
    doc_text: Callable[[], str | None],
    rank: int,
    cfg: VerifyConfig,
    passage_cosine: float = 0.0,
) -> list[Unit]:
    """The quotable units of one passage (see the module docstring). Table lines carry
    `ref="line"` so that the caller may give them a cosine of their own; a line that the
    chunker cut out of a table page starts from the cosine of its passage (the table with its
    title), as a line inside a multi-line block starts from the block's."""
    label = short_label(source, p)
    doc_year = _doc_year(source)
    sec = p.section if p.section and not p.section.startswith("row ") else ""
    base_ctx = ". ".join(x for x in (source.title, source.publisher, source.edition or "", sec) if x)
    sents = list(p.sentences)
    cos_of = [float(cosines[i]) if i < len(cosines) else 0.0 for i in range(len(sents))]
    out: list[Unit] = []

    def span(a: int, b: int) -> str:
        return p.text[a - p.start : b - p.start]

    def unit(a: int, b: int, cos: float, extra: str = "", ref: Any = None) -> Unit:
        ctx = base_ctx + ("\n" + extra if extra else "")
        return Unit(span(a, b), ctx, cos, p.source_id, a, b, p, rank, ref, label, doc_year)

    for i, s in enumerate(sents):
        if s.kind in ("heading", "table_header"):
            continue
        text = s.text.strip()
        if text.endswith("?"):
            continue
        if i == 0 and p.start > 0 and re.match(r"[a-z]", text) and "\n" not in text:
            continue  # the tail of a statement cut by the passage boundary: an overlapping passage has it whole
        a, b, cos = s.start, s.end, cos_of[i]
        if s.kind == "line" and _HEADER_YEARS.fullmatch(text):
            continue  # a table's line of years: context of the rows below, not a statement
        if s.kind == "line" and _is_row(text):  # a line of a table printed as text (see chunking)
            header = _header_before(span(p.start, a), a - p.start)
            caption = _caption_above(span(p.start, a))
            if not (header and caption):
                doc = doc_text() or ""
                header = header or _header_before(doc, a)
                caption = caption or _caption_above(doc[max(0, a - 1500) : a])
            out.append(unit(a, b, max(cos, passage_cosine), " ".join(x for x in (caption, header) if x), ref="line"))
            continue
        j = f = i
        if s.kind not in ("row", "line"):
            # join what pysbd cut: back to the start of the statement (a list's lead-in included) …
            while (
                j > 0
                and i - j < cfg.max_join
                and b - sents[j - 1].start <= cfg.max_unit_chars
                and _joins_previous(sents[j - 1], sents[j].text.strip())
            ):
                j -= 1
                a, cos = sents[j].start, max(cos, cos_of[j])
            # … and forward to its end ("… described in sections" + "(a) and" + "(b).")
            while (
                f + 1 < len(sents)
                and f - i < cfg.max_join
                and sents[f + 1].end - a <= cfg.max_unit_chars
                and not _TERMINAL.search(sents[f].text.strip())
                and sents[f + 1].kind == s.kind
                and not _LIST_ITEM.match(sents[f + 1].text.strip())
                and re.match(r"[a-z(]", sents[f + 1].text.strip())
            ):
                f += 1
                b = sents[f].end
        if has_list_intro(text) and len(text) < 40:
            # "The type of event …" / "One of:" / "Login" / "Registration" …: one unit
            k = i
            while k + 1 < len(sents) and re.fullmatch(r"[A-Z][\w-]*", sents[k + 1].text.strip()):
                k += 1
            if i > 0 and k > i:
                out.append(unit(sents[i - 1].start, sents[k].end, max(cos_of[i - 1], cos)))
            continue
        if j == i == f and s.kind != "row" and len(text) < cfg.min_chars:
            continue
        block = span(s.start, s.end)
        segs = _segments(block, s.start) if "\n" in text and s.kind != "row" else []
        if sum(r for _, _, r in segs) >= 2:
            doc = None
            for la, lb, row in segs:
                if not row:
                    if la == segs[0][0] and j < i:
                        la = a  # keep the fragment joined above
                    if lb - la >= cfg.min_chars and len(_ALPHA.findall(span(la, lb))) >= 4:
                        out.append(unit(la, lb, cos))
                    continue
                header = _header_before(span(p.start, la), la - p.start)
                if not header:
                    doc = doc if doc is not None else (doc_text() or "")
                    header = _header_before(doc, la) if doc else ""
                extra = " ".join(x for x in (_caption(block, la - s.start), header) if x)
                out.append(unit(la, lb, cos, extra, ref="line"))
            continue
        if s.kind == "row":  # a CSV/JSON row: its column names are in the passage's header line
            hdr = next((x.text for x in sents if x.kind == "table_header"), "")
            out.append(unit(a, b, cos, hdr))
            continue
        out.append(unit(a, b, cos, ref="joined" if (j, f) != (i, i) else None))
    # A table the chunker cut into lines is also one unit, with the caption above it in the passage,
    # so that a claim with two figures of one table ("36,210,368 reports, 35,944,826 of them from …")
    # finds both in one place.
    i = 0
    while i < len(sents):
        if sents[i].kind != "line":
            i += 1
            continue
        j = i
        while j + 1 < len(sents) and sents[j + 1].kind == "line":
            j += 1
        first = i - 1 if i > 0 and sents[i - 1].kind == "text" and not _figures(sents[i - 1].text) else i
        if j > i:
            out.append(unit(sents[first].start, sents[j].end, max([passage_cosine, *cos_of[first : j + 1]]), ref="joined"))
        i = j + 1
    return out


def _rare_query(claim: str, stats: TermStats, n: int) -> str:
    """The claim's rarest words (that the corpus has), its years and its figures as written."""
    forms = term_forms(claim)
    present = [(stats.idf(t), f) for t, f in forms.items() if stats.df.get(t, 0) > 0]
    present.sort(reverse=True)
    extra = [str(y) for y in _years(claim)] + [q.raw for q in _figures(claim)]
    return " ".join([f for _, f in present[:n]] + extra)


def _fts_and(ws, name: str, years: str, k: int) -> list[int]:
    """Passages holding `name` (and one of `years`, when given), best BM25 first."""
    import sqlite3

    words = re.findall(r"\w+", name.lower())
    if not words:
        return []
    q = " ".join(f'"{w}"' for w in words) + (f" AND ({years})" if years else "")
    try:
        rows = ws.index.db.execute(
            "SELECT rowid FROM passages_fts WHERE passages_fts MATCH ? ORDER BY bm25(passages_fts, 1.0, 0.4) LIMIT ?",
            (q, k),
        ).fetchall()
    except sqlite3.Error:
        return [rid for rid, _ in ws.index.lexical_search(f"{name} {years}", k)]
    return [int(r[0]) for r in rows]


def collect_units(
    ws,
    claim: str,
    *,
    sources: set[str] | None = None,
    exclude: set[str] | None = None,
    cfg: VerifyConfig = VerifyConfig(),
) -> list[Unit]:
    """Candidate units for a claim from the workspace's index."""
    from .query import expand_query

    stats = index_stats(ws)
    qv = ws.embed_query(claim)
    hits = ws.retriever.search(claim, k=cfg.k, sources=sources, exclude=exclude, qv=qv)
    passages: dict[int, Passage] = {}
    order: list[int] = []
    for h in hits:
        rid = ws.index.rowid_of(h.passage.passage_id)
        if rid is not None and rid not in passages:
            passages[rid] = h.passage
            order.append(rid)
    extra: list[int] = []
    found: list[list[int]] = []
    for q in (expand_query(claim), _rare_query(claim, stats, cfg.rare_terms)):
        if q.strip():
            found.append(
                [rid for rid, _ in ws.index.lexical_search(q, cfg.lexical_k * (4 if sources or exclude else 1))]
            )
    wanted = _names(claim, stats, cfg.key_idf)
    years = " OR ".join(f'"{y}"' for y in _years(claim))
    for name in dict.fromkeys(f for t, f in term_forms(claim).items() if t in wanted):
        # each name with the claim's years (in the text or the title): "Discord" AND "2023"
        found.append(_fts_and(ws, name, years, cfg.lexical_k * (4 if sources or exclude else 1)))
    for rids in found:
        for rid in rids:
            if rid not in passages and rid not in extra:
                extra.append(rid)
    if extra:
        got = ws.index.passages(extra)
        kept = 0
        for rid in extra:
            p = got.get(rid)
            if p is None or (sources and p.source_id not in sources) or (exclude and p.source_id in exclude):
                continue
            passages[rid] = p
            order.append(rid)
            kept += 1
            if kept >= 4 * cfg.lexical_k:
                break
    srcs = ws.sources()
    docs: dict[str, str | None] = {}

    def doc_text(sid: str) -> Callable[[], str | None]:
        def get() -> str | None:
            if sid not in docs:
                docs[sid] = ws.index.document_text(sid)
            return docs[sid]

        return get

    units: dict[tuple[str, int, int], Unit] = {}
    for rank, rid in enumerate(order):
        p = passages[rid]
        src = srcs.get(p.source_id) or Source(p.source_id, p.file, p.source_id, "", "", "", "")
        cos = ws.retriever.sentence_cosines(qv, p)
        pc = float(np.asarray(ws.index.vectors[rid - 1]) @ qv)
        for u in passage_units(p, list(cos), src, doc_text(p.source_id), rank, cfg, pc):
            old = units.get(u.key)
            if old is None or u.cosine > old.cosine:
                units[u.key] = u if old is None else replace(u, rank=min(u.rank, old.rank))
    return embed_lines(list(units.values()), claim, stats, lambda texts: ws.embed(texts) @ qv, cfg)


def embed_lines(
    units: list[Unit], claim: str, stats: TermStats, cosines: Callable[[list[str]], Any], cfg: VerifyConfig
) -> list[Unit]:
    """A table line's block cosine says little about the line ("Discord Inc. 339,412" in a page of
    companies), and a statement joined from pieces is more than its best piece: those that contain
    one of the claim's rarer words get the cosine of their own text (a line read with its title)."""
    rare = {t for t in terms(claim) if stats.idf(t) >= cfg.line_idf}
    todo = [i for i, u in enumerate(units) if u.ref in ("line", "joined") and rare & _terms_cached(u.text)]
    if not todo:
        return units
    todo = sorted(todo, key=lambda i: -len(rare & _terms_cached(units[i].text)))[: cfg.max_line_embeddings]
    texts = [
        (f"{units[i].context.splitlines()[0]}: " if units[i].ref == "line" else "") + " ".join(units[i].text.split())
        for i in todo
    ]
    got = cosines(texts)
    out = list(units)
    for i, c in zip(todo, got):
        out[i] = replace(units[i], cosine=max(units[i].cosine, float(c)))
    return out


def _citations(evidence: Sequence[Scored], sources: dict[str, Source]) -> tuple[Citation, ...]:
    out = []
    for s in evidence:
        u = s.unit
        if u.passage is None:
            continue
        out.append(Citation(len(out) + 1, sources[u.source_id], u.passage, u.start, u.end, u.text))
    return tuple(out)


def verify_claim(
    ws,
    claim: str,
    *,
    exclude: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    k: int | None = None,
    cfg: VerifyConfig | None = None,
) -> Verdict:
    """Check one claim against the workspace's corpus; the evidence quotes are verbatim spans."""
    v, _ = verify_claim_detailed(ws, claim, exclude=exclude, sources=sources, k=k, cfg=cfg)
    return v


def verify_claim_detailed(
    ws,
    claim: str,
    *,
    exclude: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    k: int | None = None,
    cfg: VerifyConfig | None = None,
) -> tuple[Verdict, Assessment]:
    cfg = cfg or VerifyConfig()
    if k is not None:
        cfg = replace(cfg, k=k)
    text = clean_claim(claim)
    if not text:
        raise ValueError("the claim is empty")
    units = collect_units(ws, text, sources=set(sources or ()) or None, exclude=set(exclude or ()) or None, cfg=cfg)
    a = assess(text, units, index_stats(ws), cfg)
    evidence = _citations(a.evidence, ws.sources())
    reason = a.reason
    if a.verdict != NOT_FOUND:
        old = {c.source.id: c.source.superseded_by for c in evidence if c.source.superseded_by}
        if old:  # a researcher citing a superseded text should know
            reason += "; " + "; ".join(f"{sid} may be superseded: {note}" for sid, note in old.items())
    return Verdict(text, a.verdict, reason, evidence), a


# -- articles ------------------------------------------------------------------------------------

_HEADING_MD = re.compile(r"^\s{0,3}(?:#{1,6}\s|[-=]{3,}\s*$)")
_BOILERPLATE = re.compile(
    r"^(?:checked on\b|disclaimer\b|want to dive deeper|learn more\b|share\b|updated\b|"
    r"published\b|please\b|subscribe\b|sign up\b|click\b|read more\b)",
    re.I,
)


def _is_heading_line(line: str) -> bool:
    s = line.strip()
    return bool(s) and (bool(_HEADING_MD.match(line)) or bool(re.match(r"^\*\*[^*]+\*\*:?$", s)))


def _is_title(paragraph: str) -> bool:
    """A paragraph of one short line with no closing punctuation: a title or heading."""
    s = paragraph.strip()
    return "\n" not in s and not re.search(r"[.!?:;\"”)\]]$", s) and len(s.split()) <= 25


def split_claims(text: str, min_terms: int = 4) -> list[str]:
    """The checkable sentences of an article (plain text or Markdown).

    Headings and titles (Markdown headings, one-line paragraphs without closing punctuation),
    questions, boilerplate paragraphs ("Checked on …", "Disclaimer: …") and sentences with too
    little to check are skipped; citation markers ([1]) and emphasis are removed.
    """
    from .chunking import split_sentences

    paragraphs: list[str] = []
    cur: list[str] = []
    in_code = False

    def flush() -> None:
        if cur:
            paragraphs.append("\n".join(cur))
            cur.clear()

    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            flush()
            continue
        if in_code:
            continue
        if not line.strip() or _is_heading_line(line):
            flush()
            continue
        if re.match(r"^\s*(?:[-*+]|\d{1,2}[.)])\s+", line):
            flush()
        cur.append(line.strip())
    flush()
    claims: list[str] = []
    for para in paragraphs:
        if _is_title(para) or _BOILERPLATE.match(para.strip()):
            continue
        para = re.sub(r"^\s*>\s?", "", para).replace("\n", " ")
        for a, b in split_sentences(para, 0, len(para), limit=2000):
            s = clean_claim(para[a:b])
            if not s or s.endswith("?") or _BOILERPLATE.match(s):
                continue
            for part in _clauses(s, min_terms):
                if len(terms(part)) + 2 * len(extract_quantities(part)) >= min_terms:
                    claims.append(part)  # else too little to check: a figure counts as two words
    return claims


def _clauses(sentence: str, min_terms: int) -> list[str]:
    """A sentence cut at "; " into clauses that are claims of their own (each checkable), else whole."""
    parts = [p.strip() for p in sentence.split("; ")]
    if len(parts) < 2 or any(len(terms(p)) < min_terms for p in parts):
        return [sentence]
    return [p[0].upper() + p[1:] + ("" if re.search(r"[.!?]$", p) else ".") for p in parts]


@dataclass(frozen=True)
class ArticleReport:
    verdicts: tuple[Verdict, ...]
    source: str = ""

    def counts(self) -> dict[str, int]:
        c = {v: 0 for v in VERDICTS}
        for v in self.verdicts:
            c[v.verdict] += 1
        return c

    @property
    def ok(self) -> bool:
        return not any(v.verdict == CONTRADICTED for v in self.verdicts)

    def summary(self) -> str:
        c = self.counts()
        return (
            f"{len(self.verdicts)} claims checked: {c[SUPPORTED]} supported, {c[CONTRADICTED]} contradicted, "
            f"{c[NOT_FOUND]} not found"
        )

    def to_list(self) -> list[dict[str, Any]]:
        return [v.to_dict() for v in self.verdicts]


def verify_article(
    ws,
    text: str,
    *,
    exclude: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    k: int | None = None,
    cfg: VerifyConfig | None = None,
    source: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> ArticleReport:
    """Split an article into claims and check each one."""
    claims = split_claims(text)
    out = []
    for i, c in enumerate(claims):
        out.append(verify_claim(ws, c, exclude=exclude, sources=sources, k=k, cfg=cfg))
        if progress:
            progress(i + 1, len(claims))
    return ArticleReport(tuple(out), source)


# -- Markdown ------------------------------------------------------------------------------------

_MARK = {SUPPORTED: "supported", CONTRADICTED: "**contradicted**", NOT_FOUND: "not found"}


def short_quote(quote: str, limit: int = 240) -> str:
    q = " ".join(quote.split())
    return q if len(q) <= limit else q[: limit - 1].rstrip() + "…"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def verdict_markdown(v: Verdict, quote_limit: int = 240) -> str:
    from .render import citation_line

    lines = [f"**Claim:** {v.claim}", "", f"**Verdict:** {_MARK[v.verdict]} — {v.reason}", ""]
    if v.verdict == NOT_FOUND and v.evidence:
        lines += ["Nearest passages:", ""]
    for c in v.evidence:
        lines.append(f"> “{short_quote(c.quote, quote_limit)}” [{c.n}]")
        lines.append("")
    for c in v.evidence:
        lines.append(f"- {citation_line(c)}")
    return "\n".join(lines).rstrip() + "\n"


def _claim_spans(article: str, claims: Sequence[str]) -> list[str]:
    """Where each claim stands in the article, as "chars a-b" (claims are verbatim sentences of it)."""
    def words(ws: list[str]) -> re.Pattern[str]:
        return re.compile(r"\s+".join(map(re.escape, ws)))

    out, pos = [], 0
    for c in claims:  # a claim may have lost citation markers: match its first and last words
        w = c.split()
        w[-1] = w[-1].rstrip(".;:!?") or w[-1]
        head = words(w[:8]).search(article, pos) or words(w[:8]).search(article)
        tail = words(w[-5:]).search(article, head.start()) if head else None
        out.append(f"chars {head.start()}-{tail.end()}" if head and tail else "(not located)")
        pos = tail.end() if head and tail else pos
    return out


def report_markdown(report: ArticleReport, command: str = "", quote_limit: int = 160,
                    article: str | None = None, pinpoints_only: bool = False) -> str:
    """A verdict table, then each claim's evidence as short verbatim quotes with citations.

    pinpoints_only: name claims by their place in `article` and evidence by passage and offsets,
    quoting no text (for reports published about documents whose text may not be copied)."""
    from .render import location

    out = [f"# Claim check: {report.source}" if report.source else "# Claim check", ""]
    if command:
        out += [f"Produced by: `{command}`", ""]
    out += [
        "Each checkable sentence of the article, checked against the corpus by `ncmec-qa verify` (a heuristic "
        "checker: it compares figures, years, durations and negation, and never infers). "
        + ("Claims are named by their character offsets in the article and evidence by passage id and offsets "
           "in the cited document's extracted text (`ncmec-qa cite ID` prints a quote); no text is reproduced."
           if pinpoints_only else
           "Quotes are verbatim from the cited documents, shortened with …; a `not found` claim lists the "
           "nearest passages."),
        "",
        f"**{report.summary()}**",
        "",
        "| # | verdict | claim | reason |",
        "|---|---|---|---|",
    ]
    spans = _claim_spans(article or "", [v.claim for v in report.verdicts]) if pinpoints_only else []
    for i, v in enumerate(report.verdicts, start=1):
        claim = spans[i - 1] if pinpoints_only else _md_escape(short_quote(v.claim, quote_limit))
        out.append(f"| {i} | {_MARK[v.verdict]} | {claim} | {_md_escape(v.reason)} |")
    out.append("")
    for i, v in enumerate(report.verdicts, start=1):
        if not v.evidence:
            continue
        out += [f"**{i}.** {_MARK[v.verdict]}" + (" (nearest passages)" if v.verdict == NOT_FOUND else ""), ""]
        for c in v.evidence:
            loc = location(c.passage.section, c.passage.page)
            where = (
                f"{c.source.title}"
                + (f", {loc}" if loc else "")
                + f" (`{c.passage.passage_id}`, chars {c.start}-{c.end})"
            )
            out.append(f"- {where}" if pinpoints_only else f"- “{short_quote(c.quote, quote_limit)}” — {where}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
