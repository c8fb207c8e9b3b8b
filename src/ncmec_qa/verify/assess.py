"""Deciding a claim against candidate units by rules: figures, years, durations and negation compared
(`claimcheck`), support by coverage of the claim's words and figures (see the `verify` package docstring)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from ..answer.quantities import Quantity, extract_quantities
from ..answer.units import Unit, UnitConfig
from .claimcheck import Comparison, compare, figure_distance, format_quantity
from .terms import TermStats, _figures, _names, _terms_cached, _years, term_forms

SUPPORTED, CONTRADICTED, NOT_FOUND = "supported", "contradicted", "not_found"
VERDICTS = (SUPPORTED, CONTRADICTED, NOT_FOUND)


@dataclass(frozen=True)
class VerifyConfig:
    verdict: str = "learned"  # "learned": the verdict model over the rules' assessment; "rules": the rules alone
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

    @property
    def units(self) -> UnitConfig:
        # claims are judged by the units of earlier releases: the answers' element and list-item units cost
        # verdict accuracy on the training folds (0.438 → 0.403)
        return UnitConfig(self.min_chars, self.max_join, self.max_unit_chars, api_elements=False, list_items=False)


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
        return max((s.unit.cosine + s.coverage * VerifyConfig.w_coverage for s in self.candidates), default=0.0)


# -- the claim -----------------------------------------------------------------------------------

_CITE_MARK = re.compile(r"\s*\[(?:\d{1,3}|\^\d{1,3})\](?:\s*\[(?:\d{1,3}|\^\d{1,3})\])*")


def clean_claim(text: str) -> str:
    """A claim as it will be checked: one line, citation markers ([1], [^2]) and Markdown emphasis removed."""
    t = _CITE_MARK.sub("", text)
    t = re.sub(r"(\*\*|__|`)", "", t)
    t = re.sub(r"^\s*(?:[-*+]|\d{1,2}[.)])\s+", "", t)
    return " ".join(t.split())


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
