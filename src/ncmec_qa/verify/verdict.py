"""The learned verdict: supported / contradicted / not_found from the rules' assessment and the claim's features.

A conflict the rules find in an on-topic unit (a figure, year, duration, negation or closed list
that disagrees) decides: on the training claims and the dev claims every such verdict was right.
Otherwise the verdict model (`learn/params/verdict.json`: two logistic regressions over
`verdict_features`, contradicted against the rest and supported against the rest, constrained in
sign so that only conflicting evidence makes a claim contradicted and only matching evidence makes
it supported) weighs the claim against its evidence: `contradicted` or `supported` when its
probability reaches the threshold chosen on the training folds (so that claims the corpus does not
settle are rarely called either), else `not_found`. A claim is never supported when no single unit
names every name it uses (its words found apart support nothing). The reason names what decided
and the evidence keeps the deciding quotes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..learn.linear import LinearModel
from .assess import CONTRADICTED, NOT_FOUND, SUPPORTED, Assessment, Scored, VerifyConfig, _on_topic
from .terms import TermStats
from .verdict_features import claim_features

# the training sets' label for a claim the corpus does not settle
LABELS = {"supported": SUPPORTED, "contradicted": CONTRADICTED, "not_in_corpus": NOT_FOUND, NOT_FOUND: NOT_FOUND}

# what a feature says when it pushes towards `contradicted`, for the reason line
_CONTRA_REASONS = {
    "excl_only_claim": "the claim says “only”, and no passage that matches it does",
    "excl_universal_claim": "the claim says all/every/always/never, and no passage that matches it does",
    "excl_claim_not_top": "the claim's scope words (only, all, every …) are in no passage that matches it",
    "modal_perm_vs_duty": "the claim makes optional what {label} makes a duty",
    "modal_duty_vs_perm": "the claim makes a duty of what {label} leaves optional",
    "modal_perm_vs_prohib": "the claim permits what the evidence forbids",
    "dir_opposite": "the claim's direction (more/less, rose/fell) is the opposite of the evidence's",
    "dir_trend_conflict": "the claim's direction is the opposite of the trend in {label}",
    "actor_swap": "the claim names another actor than {label} does",
    "neg_xor_ref": "the claim and {label} differ in negation",
    "neg_claim_only": "the claim negates what {label} states",
    "neg_unit_only": "{label} negates what the claim states",
    "cmp_fig_near_miss": "the claim's figure is close to, but not, the one {label} gives",
    "cmp_conflict_on_figure": "a figure in {label} differs from the claim's",
    "cmp_conflict_on_year": "a year in {label} differs from the claim's",
    "dir_order_claim_not_top": "the claim's order of events (before/after) is not the evidence's",
}


@dataclass(frozen=True)
class VerdictDecision:
    verdict: str
    reason: str
    evidence: tuple[Scored, ...]
    probabilities: dict[str, float]
    features: dict[str, float]


def _probabilities(model: LinearModel, f: dict[str, float]) -> dict[str, float]:
    p = model.proba(model.matrix([f]))[0]
    return {LABELS.get(c, c): float(x) for c, x in zip(model.classes, p)}


def _decisive(model: LinearModel, f: dict[str, float], cls: str) -> list[str]:
    """Features pushing the decision towards `cls` most, strongest first (positive contributions only)."""
    k = [LABELS.get(c, c) for c in model.classes].index(cls)
    z = (model.matrix([f])[0] - model.mean) / model.scale
    contrib = z * model.coef[:, k]
    order = np.argsort(-contrib)
    return [model.features[i] for i in order if contrib[i] > 0 and f[model.features[i]]]


def _label(s: Scored | None) -> str:
    return (s.unit.label or "the evidence") if s else "the evidence"


def verdict_of(rules_verdict: str, f: dict[str, float], model: LinearModel) -> str:
    """The verdict alone: the rules' contradiction stands; else contradicted when that probability reaches
    its threshold and is the higher of the two, supported likewise, not_found otherwise."""
    if rules_verdict == CONTRADICTED:
        return CONTRADICTED
    probs = _probabilities(model, f)
    con, sup = probs.get(CONTRADICTED, 0.0), probs.get(SUPPORTED, 0.0)
    if con >= float(model.meta.get("contradicted_threshold", 0.5)) and con >= sup:
        return CONTRADICTED
    if sup >= float(model.meta.get("supported_threshold", 0.5)) and not f.get("actor_names_apart"):
        return SUPPORTED  # never when no one unit names every name the claim uses: words that appear apart
    return NOT_FOUND


def decide(
    claim: str, a: Assessment, stats: TermStats, model: LinearModel, cfg: VerifyConfig = VerifyConfig()
) -> VerdictDecision:
    f = claim_features(claim, a, stats)
    probs = _probabilities(model, f)
    verdict = verdict_of(a.verdict, f, model)
    if a.verdict == CONTRADICTED:
        return VerdictDecision(CONTRADICTED, a.reason, a.evidence, probs, f)
    on = [s for s in a.candidates if _on_topic(s, cfg)]
    near = tuple(a.evidence or on[: cfg.nearest] or a.candidates[: cfg.nearest])
    t_sup = float(model.meta.get("supported_threshold", 0.5))
    if verdict == SUPPORTED:
        ev = tuple(a.evidence) if a.verdict == SUPPORTED else tuple(on[: cfg.max_evidence] or near)
        first = ev[0] if ev else None
        why = (
            a.reason
            if a.verdict == SUPPORTED
            else (
                f"stated in {_label(first)} (similarity {first.unit.cosine:.2f}, {first.coverage:.0%} of the claim's key words)"
                if first
                else "stated in the evidence"
            )
        )
        return VerdictDecision(SUPPORTED, f"{why}; verdict model {probs[SUPPORTED]:.2f}", ev, probs, f)
    if verdict == CONTRADICTED:
        ref = on[0] if on else (near[0] if near else None)
        keys = [k for k in _decisive(model, f, CONTRADICTED) if k in _CONTRA_REASONS]
        what = _CONTRA_REASONS[keys[0]].format(label=_label(ref)) if keys else f"{_label(ref)} says otherwise"
        return VerdictDecision(
            CONTRADICTED, f"{what}; verdict model {probs[CONTRADICTED]:.2f}", (ref,) if ref else near, probs, f
        )
    if a.verdict == NOT_FOUND:
        reason = a.reason
    elif probs.get(SUPPORTED, 0.0) >= t_sup and f.get("actor_names_apart"):
        reason = "no single passage states it: the claim's rarest words are found only in different passages"
    else:
        reason = (
            f"the evidence does not settle it ({a.reason}; verdict model: supported "
            f"{probs.get(SUPPORTED, 0):.2f}, below {t_sup:.2f})"
        )
    return VerdictDecision(NOT_FOUND, reason, near, probs, f)
