"""What the verdict model reads about a claim and the units retrieved for it (pure functions).

`claim_features(claim_text, assessment, stats)` reads the claim and the rules' assessment (its
verdict, its reason, the top candidate units with their comparisons), never a label. The names
are prefixed by family:

  base_   the rules' decision (one-hot) and the kind of reason it gave
  ret_    retrieval strength: cosine, key-word coverage, how many units are on topic
  cmp_    what `claimcheck.compare` found: conflicts by kind, figures matched, near misses
  neg_    negation on one side only (the claim against the best on-topic unit)
  modal_  duty (must/shall/required) against permission (may/can/optional)
  excl_   scope words (only/all/every/any/solely/never/always) in the claim but not the evidence
  dir_    comparison and direction words (more/less/rose/fell/before/after/most) that disagree, and the
          trend of a table line against the claim's direction
  actor_  actors and names of the claim missing from the evidence while another of the same kind is there
  gap_    key-term gaps: the rarest claim words the evidence lacks

Nothing here reads the claim alone (its wording says how a data set was written, not whether the
corpus supports it).
"""

from __future__ import annotations

import math
import re

from ..answer.quantities import extract_quantities
from . import claimcheck
from .assess import (
    CONTRADICTED,
    NOT_FOUND,
    SUPPORTED,
    Assessment,
    Claim,
    Scored,
    VerifyConfig,
    _comparison_text,
    _matched,
    _on_topic,
    clean_claim,
)
from .terms import TermStats

VERDICT_FEATURES: tuple[str, ...] = (
    "base_supported",
    "base_contradicted",
    "base_not_found",
    "base_r_year",
    "base_r_name",
    "base_r_figure",
    "base_r_weak",
    "ret_best_cos",
    "ret_coverage",
    "ret_relevance",
    "ret_top1_cos",
    "ret_top1_cov",
    "ret_max_cov",
    "ret_n_ontopic",
    "ret_ref_cos",
    "ret_ref_cov",
    "ret_top3_cov",
    "ret_n_sources_top",
    "cmp_conflict_on_figure",
    "cmp_conflict_on_year",
    "cmp_conflict_on_other",
    "cmp_conflict_any",
    "cmp_n_conflict",
    "cmp_n_match",
    "cmp_claim_has_fig",
    "cmp_claim_has_year",
    "cmp_fig_matched_frac",
    "cmp_fig_unmatched",
    "cmp_year_absent_all",
    "cmp_fig_dist",
    "cmp_fig_near_miss",
    "cmp_fig_no_sameclass",
    "neg_xor_ref",
    "neg_claim_only",
    "neg_unit_only",
    "neg_mismatch_top",
    "neg_mismatch_on",
    "modal_perm_vs_duty",
    "modal_duty_vs_perm",
    "modal_duty_vs_none",
    "modal_perm_vs_prohib",
    "modal_prohib_vs_perm",
    "excl_claim_not_ref",
    "excl_claim_not_top",
    "excl_ref_not_claim",
    "excl_only_claim",
    "excl_universal_claim",
    "dir_claim_dir",
    "dir_opposite",
    "dir_claim_not_top",
    "dir_trend_conflict",
    "dir_trend_agree",
    "dir_order_claim_not_top",
    "dir_freq_mismatch",
    "actor_missing",
    "actor_swap",
    "actor_names_missing",
    "actor_names_missing_frac",
    "actor_names_apart",
    "gap_max_idf_top",
    "gap_max_idf_ref",
    "gap_n_missing_top",
    "gap_missing_share_top",
    "gap_unseen_terms",
    "gap_n_rare_missing",
)
# What each feature can only say, for the sign constraints of the verdict models: evidence that conflicts
# with the claim, how strongly the evidence matches the claim, what the claim says that the evidence does
# not (absence is never a contradiction), and figures or trends the evidence confirms.
CONFLICT = tuple(f for f in VERDICT_FEATURES if f.startswith(("cmp_conflict", "neg_", "dir_freq"))) + (
    "cmp_fig_near_miss",
    "modal_perm_vs_duty",
    "modal_duty_vs_perm",
    "modal_perm_vs_prohib",
    "modal_prohib_vs_perm",
    "excl_only_claim",
    "excl_universal_claim",
    "excl_claim_not_ref",
    "excl_claim_not_top",
    "dir_opposite",
    "dir_trend_conflict",
    "actor_swap",
)
# the claim's words gathered from several units (its union coverage) support nothing by themselves
SCATTERED = ("ret_coverage", "ret_top3_cov", "ret_n_sources_top")
STRENGTH = tuple(f for f in VERDICT_FEATURES if f.startswith("ret_") and f not in SCATTERED)
ABSENCE = tuple(f for f in VERDICT_FEATURES if f.startswith("gap_")) + (
    "actor_names_missing",
    "actor_names_missing_frac",
    "actor_names_apart",
    "actor_missing",
    "cmp_year_absent_all",
    "modal_duty_vs_none",
    "cmp_fig_unmatched",
    "cmp_fig_no_sameclass",
    "dir_claim_not_top",
    "dir_order_claim_not_top",
)
MATCH = ("cmp_fig_matched_frac", "cmp_n_match", "dir_trend_agree")
VERDICT_SIGNS = {
    "contradicted": {**{f: 1 for f in CONFLICT + STRENGTH}, **{f: -1 for f in ABSENCE + MATCH}},
    "supported": {**{f: 1 for f in STRENGTH + MATCH}, **{f: -1 for f in CONFLICT + ABSENCE + SCATTERED}},
}
CFG = VerifyConfig()
TOPK = 3  # "the best units": the top candidates by the ranking score

# -- word lists -------------------------------------------------------------------------------

_PERM = re.compile(
    r"\b(?:may(?!\s+not)|can(?!not)|could|optional(?:ly)?|voluntar(?:y|ily)|permit(?:s|ted)?|allow(?:s|ed)?|"
    r"lets?|free\s+to|at\s+(?:its|their)\s+discretion|discretion(?:ary)?|authori[sz](?:e|es|ed))\b",
    re.I,
)
_DUTY = re.compile(
    r"\b(?:must(?!\s+not)|shall(?!\s+not)|required|requires?|requirement|mandatory|obligat(?:ed|ion|ory)|"
    r"ha(?:s|ve)\s+to|duty|compel(?:s|led)?|need(?:s)?\s+to)\b",
    re.I,
)
_PROHIB = re.compile(r"\b(?:must\s+not|shall\s+not|may\s+not|cannot|can't|prohibit(?:s|ed)?|forbid(?:s|den)?)\b", re.I)
_EXCL = {
    "only": r"\bonly\b",
    "all": r"\ball\b",
    "every": r"\bevery(?:one|thing)?\b",
    "any": r"\bany\b",
    "solely": r"\bsole(?:ly)?\b",
    "exclusive": r"\bexclusive(?:ly)?\b",
    "never": r"\bnever\b",
    "always": r"\balways\b",
    "each": r"\beach\b",
    "none": r"\bnone\b|\bno\s+one\b",
}
_EXCL_RX = {k: re.compile(v, re.I) for k, v in _EXCL.items()}
_UP = re.compile(
    r"\b(?:more|higher|greater|larger|increas\w*|rose|rise[sn]?|rising|grew|grow[sn]?|growth|up\s+from|exceed\w*|"
    r"above|doubl\w*|tripl\w*|surg\w*|jump\w*|climb\w*|most|majority|largest|biggest)\b",
    re.I,
)
_DOWN = re.compile(
    r"\b(?:less|fewer|lower|smaller|decreas\w*|declin\w*|fell|fall[sn]?|falling|dropp?\w*|shr[aiu]nk\w*|down\s+from|"
    r"below|reduc\w*|least|minority|smallest|halv\w*)\b",
    re.I,
)
_ORDER = re.compile(r"\b(?:before|after|prior\s+to|earlier|later|first|then|until|since)\b", re.I)
_FREQ = re.compile(
    r"\b(?:daily|weekly|monthly|quarterly|annual(?:ly)?|yearly|semiannual(?:ly)?|every\s+(?:day|week|month|quarter|year)|"
    r"each\s+(?:day|week|month|quarter|year)|per\s+(?:day|week|month|year))\b",
    re.I,
)

# actors of the corpus, each a class and a pattern; a claim naming one the evidence lacks while the
# evidence names another of the same class looks like a swapped actor
_ACTORS: dict[str, tuple[str, str]] = {
    "ncmec": ("org", r"\bNCMEC\b|National\s+Center\s+for\s+Missing"),
    "provider": (
        "party",
        r"\bproviders?\b|\bESPs?\b|\bcompan(?:y|ies)\b|\bplatforms?\b|\breporters?\b|service\s+providers?",
    ),
    "law_enforcement": ("party", r"\blaw\s+enforcement\b|\bpolice\b|\bofficers?\b|\bICACs?\b|\btask\s+forces?\b"),
    "government": ("party", r"\bgovernment(?:al)?\b|\bagenc(?:y|ies)\b"),
    "subscriber": ("party", r"\bsubscribers?\b|\bcustomers?\b|\busers?\b|\baccount\s+holders?\b"),
    "court": ("party", r"\bcourts?\b|\bjudges?\b|\bjury\b|\bmagistrate\b"),
    "fbi": ("fed", r"\bFBI\b|Federal\s+Bureau\s+of\s+Investigation"),
    "ag": ("fed", r"\bAttorney\s+General\b"),
    "doj": ("fed", r"\bDepartment\s+of\s+Justice\b|\bDOJ\b|\bJustice\s+Department\b"),
    "ice": ("fed", r"\bICE\b|Immigration\s+and\s+Customs|\bHSI\b|Homeland\s+Security"),
    "secret_service": ("fed", r"Secret\s+Service"),
    "postal": ("fed", r"Postal\s+Inspection|\bUSPIS\b"),
    "congress": ("fed", r"\bCongress\b|\bCommittees?\b|\bSenate\b|\bHouse\b"),
    "interpol": ("intl", r"\bINTERPOL\b|\bEuropol\b"),
    "foreign": ("intl", r"\bforeign\b|\binternational\b"),
    "state_local": ("level", r"\bstate\b|\blocal\b|\btribal\b"),
    "federal": ("level", r"\bfederal\b"),
    "microsoft": ("company", r"\bMicrosoft\b"),
    "google": ("company", r"\bGoogle\b"),
    "meta": ("company", r"\bMeta\b|\bFacebook\b|\bInstagram\b|\bWhatsApp\b"),
    "snap": ("company", r"\bSnap(?:chat)?\b"),
    "discord": ("company", r"\bDiscord\b"),
    "pinterest": ("company", r"\bPinterest\b"),
    "x_twitter": ("company", r"\bTwitter\b|\bX\s+Corp"),
    "tiktok": ("company", r"\bTikTok\b|\bByteDance\b"),
    "apple": ("company", r"\bApple\b"),
    "child": ("person", r"\bchild(?:ren)?\b|\bminors?\b|\bvictims?\b"),
    "offender": ("person", r"\boffenders?\b|\bsuspects?\b|\bperpetrators?\b"),
    "parent": ("person", r"\bparents?\b|\bmother\b|\bfather\b|\bguardians?\b|\bfamily\b"),
}
_ACTOR_RX = {
    k: (cls, re.compile(p, re.I if k not in ("ice", "meta", "snap", "apple") else 0)) for k, (cls, p) in _ACTORS.items()
}


def _actors(text: str) -> dict[str, str]:
    return {k: cls for k, (cls, rx) in _ACTOR_RX.items() if rx.search(text)}


def _excl(text: str) -> set[str]:
    text = re.sub(r"\bnot\s+only\b", " ", text, flags=re.I)
    return {k for k, rx in _EXCL_RX.items() if rx.search(text)}


def _perm(text: str) -> bool:
    return bool(_PERM.search(text))


def _duty(text: str) -> bool:
    return bool(_DUTY.search(text))


def _prohib(text: str) -> bool:
    return bool(_PROHIB.search(text))


def _full(s: Scored) -> str:
    return f"{s.unit.context}\n{s.unit.text}" if s.unit.context else s.unit.text


# -- the trend of a table line ------------------------------------------------------------------


def _trend(text: str) -> int:
    """+1 if the last same-class figure of the best numeric line exceeds its first, -1 if below, 0 if
    no line has two or more same-class figures (tables here list years in ascending order)."""
    best = 0
    for line in text.splitlines():
        qs = [q for q in extract_quantities(line) if q.kind in ("number", "percent", "money")]
        if len(qs) >= 2 and len({q.unit for q in qs}) == 1:
            a, b = qs[0].value, qs[-1].value
            best = (b > a) - (b < a)
    return best


# -- main -----------------------------------------------------------------------------------------


def claim_features(claim_text: str, assessment: Assessment, stats: TermStats) -> dict[str, float]:
    text = clean_claim(claim_text)
    a = assessment
    claim = Claim.parse(text, stats, min_idf=CFG.key_idf)
    cands = list(a.candidates)
    f: dict[str, float] = {}

    # base: today's decision and the kind of reason
    f["base_supported"] = float(a.verdict == SUPPORTED)
    f["base_contradicted"] = float(a.verdict == CONTRADICTED)
    f["base_not_found"] = float(a.verdict == NOT_FOUND)
    r = a.reason
    f["base_r_year"] = float(a.verdict == NOT_FOUND and bool(re.search(r"mentions (?:19|20)\d\d", r)))
    f["base_r_name"] = float(a.verdict == NOT_FOUND and "mentions “" in r)
    f["base_r_figure"] = float(a.verdict == NOT_FOUND and "gives" in r)
    f["base_r_weak"] = float(a.verdict == NOT_FOUND and "states this" in r)

    # retrieval
    top = cands[:TOPK]
    on = [s for s in cands if _on_topic(s, CFG)]
    ref = on[0] if on else (cands[0] if cands else None)
    f["ret_best_cos"] = a.best_cosine
    f["ret_coverage"] = a.coverage
    f["ret_relevance"] = a.relevance
    f["ret_top1_cos"] = cands[0].unit.cosine if cands else 0.0
    f["ret_top1_cov"] = cands[0].coverage if cands else 0.0
    f["ret_max_cov"] = max((s.coverage for s in cands), default=0.0)
    f["ret_n_ontopic"] = float(len(on))
    f["ret_ref_cos"] = ref.unit.cosine if ref else 0.0
    f["ret_ref_cov"] = ref.coverage if ref else 0.0
    # union coverage of the claim's words by the top units (text and context)
    found = set().union(*(s.found for s in top)) if top else set()
    found_ctx = set().union(*(s.found_ctx for s in top)) if top else set()
    f["ret_top3_cov"] = claim.coverage(found, found_ctx, CFG.context_credit)
    f["ret_n_sources_top"] = float(len({s.unit.source_id for s in top}))

    # comparisons
    def kind(c: claimcheck.Comparison) -> str:
        rs = c.reason
        if rs.startswith("year differs"):
            return "year"
        if rs.startswith("negation"):
            return "neg"
        if rs.startswith(("frequency", "value not allowed")):
            return "other"
        return "figure"

    confl_on = [s.comparison for s in on if s.comparison and s.comparison.status == "conflict"]
    confl_any = [s for s in cands if s.comparison and s.comparison.status == "conflict"]
    f["cmp_conflict_on_figure"] = float(any(kind(c) == "figure" for c in confl_on))
    f["cmp_conflict_on_year"] = float(any(kind(c) == "year" for c in confl_on))
    f["cmp_conflict_on_other"] = float(any(kind(c) in ("neg", "other") for c in confl_on))
    f["cmp_conflict_any"] = float(bool(confl_any))
    f["cmp_n_conflict"] = float(len(confl_any))
    f["cmp_n_match"] = float(sum(1 for s in cands if s.comparison and s.comparison.reason.startswith("matches")))
    f["cmp_claim_has_fig"] = float(bool(claim.figures))
    f["cmp_claim_has_year"] = float(bool(claim.years))
    figs_matched = set()
    for s in on[:6]:
        if claim.figures:
            figs_matched |= _matched(claim, _comparison_text(s.unit)[0])
    f["cmp_fig_matched_frac"] = len(figs_matched) / len(claim.figures) if claim.figures else 0.0
    f["cmp_fig_unmatched"] = float(bool(claim.figures) and len(figs_matched) < len(claim.figures))
    alltext = " ".join(_full(s) for s in cands)
    f["cmp_year_absent_all"] = float(any(str(y) not in alltext for y in claim.years))
    # nearest same-class figure among the on-topic top units that speak of the claim's year (when it names
    # one: another year's figure is not a near miss); log ratio, 0 = the same value; a near miss is a
    # same-class figure within a factor 3 that is not the same value
    dmin = math.inf
    years = [str(y) for y in claim.years]
    dated = [s for s in top if _on_topic(s, CFG) and (not years or any(y in _full(s) for y in years))]
    for q in claim.figures:
        for s in dated:
            for e in extract_quantities(s.unit.text):
                if e.kind != "year" and claimcheck.figure_class(e) == claimcheck.figure_class(q):
                    dmin = min(dmin, claimcheck.figure_distance(q, e))
    f["cmp_fig_dist"] = min(dmin, 3.0) if claim.figures and dmin < math.inf else 0.0
    f["cmp_fig_near_miss"] = float(claim.figures != () and 0.05 < dmin <= math.log(3))
    f["cmp_fig_no_sameclass"] = float(bool(claim.figures) and dmin == math.inf)

    # negation (claim vs the best on-topic unit, and any of the top units)
    ref_text = ref.unit.text if ref else ""
    cn, rn = claimcheck.has_negation(text), claimcheck.has_negation(ref_text)
    f["neg_xor_ref"] = float(cn != rn)
    f["neg_claim_only"] = float(cn and not rn)
    f["neg_unit_only"] = float(rn and not cn)
    f["neg_mismatch_top"] = float(any(claimcheck.negation_mismatch(text, s.unit.text) for s in top))
    f["neg_mismatch_on"] = float(any(claimcheck.negation_mismatch(text, s.unit.text) for s in on[:TOPK]))

    # modality
    cp, cd, cpr = _perm(text), _duty(text), _prohib(text)
    rp, rd = _perm(ref_text), _duty(ref_text)
    tops = " ".join(s.unit.text for s in top)
    tp, td, tpr = _perm(tops), _duty(tops), _prohib(tops)
    f["modal_perm_vs_duty"] = float(cp and not cd and rd and not rp)
    f["modal_duty_vs_perm"] = float(cd and not cp and rp and not rd)
    f["modal_duty_vs_none"] = float(cd and not td)  # the claim imposes a duty no top unit states
    f["modal_perm_vs_prohib"] = float(cp and not cpr and tpr)
    f["modal_prohib_vs_perm"] = float(cpr and not tpr and tp)

    # exclusivity / scope
    ce, re_, te = _excl(text), _excl(ref_text), _excl(tops)
    f["excl_claim_not_ref"] = float(len(ce - re_))
    f["excl_claim_not_top"] = float(len(ce - te))
    f["excl_ref_not_claim"] = float(len(re_ - ce))
    f["excl_only_claim"] = float("only" in ce and "only" not in te)
    f["excl_universal_claim"] = float(bool({"all", "every", "each", "always", "never"} & (ce - te)))

    # direction / comparison / order / frequency
    cu, cdn = bool(_UP.search(text)), bool(_DOWN.search(text))
    ru, rdn = bool(_UP.search(tops)), bool(_DOWN.search(tops))
    f["dir_claim_dir"] = float(cu or cdn)
    f["dir_opposite"] = float((cu and not cdn and rdn and not ru) or (cdn and not cu and ru and not rdn))
    f["dir_claim_not_top"] = float((cu and not ru) or (cdn and not rdn))
    ref_full = _full(ref) if ref else ""
    tr = _trend(ref_full)
    f["dir_trend_conflict"] = float(tr != 0 and ((cu and not cdn and tr < 0) or (cdn and not cu and tr > 0)))
    f["dir_trend_agree"] = float(tr != 0 and ((cu and not cdn and tr > 0) or (cdn and not cu and tr < 0)))
    co, to = {m.lower() for m in _ORDER.findall(text)}, {m.lower() for m in _ORDER.findall(tops)}
    f["dir_order_claim_not_top"] = float(bool(co - to))
    cf, tf = {m.lower() for m in _FREQ.findall(text)}, {m.lower() for m in _FREQ.findall(tops)}
    f["dir_freq_mismatch"] = float(bool(cf) and bool(tf) and not cf & tf)

    # actors and names
    ca = _actors(text)
    ta = _actors(" ".join(_full(s) for s in top))
    miss = {k: c for k, c in ca.items() if k not in ta}
    f["actor_missing"] = float(len(miss))
    f["actor_swap"] = float(any(any(c2 == c and k2 not in ca for k2, c2 in ta.items()) for c in miss.values()))
    names = set(claim.names)
    top_terms = found | found_ctx
    missing_names = [t for t in names if t not in top_terms]
    f["actor_names_missing"] = float(len(missing_names))
    f["actor_names_missing_frac"] = len(missing_names) / len(names) if names else 0.0
    # the claim's two rarest words (names first) when no single unit holds both: found in different units,
    # they support nothing together ("NCMEC is a division of the FBI": "division" here, "FBI" there)
    known = [t for t in claim.weights if stats.df.get(t, 0) > 0]
    key = set(sorted(known, key=lambda t: (t not in names, -stats.idf(t)))[:2])
    best_single = max((len(key & (s.found | s.found_ctx)) for s in top), default=0)
    f["actor_names_apart"] = (len(key) - best_single) / len(key) if key else 0.0

    # key-term gaps
    missing = [t for t in claim.weights if t not in top_terms]
    ref_terms = (ref.found | ref.found_ctx) if ref else set()
    missing_ref = [t for t in claim.weights if t not in ref_terms]
    f["gap_max_idf_top"] = max((stats.idf(t) for t in missing), default=0.0)
    f["gap_max_idf_ref"] = max((stats.idf(t) for t in missing_ref), default=0.0)
    f["gap_n_missing_top"] = float(len(missing))
    f["gap_missing_share_top"] = 1.0 - f["ret_top3_cov"]
    f["gap_unseen_terms"] = float(sum(1 for t in claim.weights if stats.df.get(t, 0) == 0))
    f["gap_n_rare_missing"] = float(sum(1 for t in missing if stats.idf(t) >= 4.0))

    return f
