"""Cross-validation by group, thresholds chosen on out-of-fold predictions, and calibration tables.

The training sets say which part of the corpus each question or claim was written from
(`group`): leaving one group out at a time shows how a fitted model does on a part of the corpus
it was not fitted on, which is what a new question is.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))  # the grid a threshold is chosen from


def group_folds(groups: Sequence[str]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(held-out group, training indices, held-out indices), one fold per group, in sorted order."""
    g = np.asarray(groups)
    return [(name, np.flatnonzero(g != name), np.flatnonzero(g == name)) for name in sorted(set(groups))]


def auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve (the chance that a positive scores above a negative; ties count half)."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=int)
    pos, neg = s[y == 1], s[y == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def choose_threshold(
    p: Sequence[float], answers: Sequence[int], precision: float, grid: Sequence[float] = THRESHOLDS
) -> float:
    """The lowest threshold on the grid at which the evidence of the questions answered (p >= t) answers
    them at least `precision` of the time; the most precise threshold when none reaches it."""
    p, y = np.asarray(p, dtype=float), np.asarray(answers, dtype=int)
    best, best_prec = grid[-1], -1.0
    for t in grid:
        answered = p >= t
        prec = float(y[answered].mean()) if answered.any() else 1.0
        if prec >= precision and answered.any():
            return float(t)
        if prec > best_prec:
            best, best_prec = t, prec
    return float(best)


def decisions(
    p: Sequence[float], answerable: Sequence[int], t: float, answers: Sequence[int] | None = None
) -> dict[str, Any]:
    """Answered/abstained counts at threshold `t`; with `answers` (1 where the evidence answers the
    question), the precision of the answers given."""
    p, y = np.asarray(p, dtype=float), np.asarray(answerable, dtype=int)
    g = y if answers is None else np.asarray(answers, dtype=int)
    a = p >= t
    return {
        "threshold": t,
        "answerable answered": int((a & (y == 1)).sum()),
        "answerable": int((y == 1).sum()),
        "unanswerable abstained": int((~a & (y == 0)).sum()),
        "unanswerable": int((y == 0).sum()),
        "precision": round(float(g[a].mean()), 4) if a.any() else None,
    }


def reliability(p: Sequence[float], labels: Sequence[int], bins: int = 10) -> list[dict[str, Any]]:
    """Predicted probability against observed frequency, in equal-width bins of the prediction."""
    p, y = np.asarray(p, dtype=float), np.asarray(labels, dtype=int)
    out = []
    for i in range(bins):
        lo, hi = i / bins, (i + 1) / bins
        m = (p >= lo) & ((p < hi) if i < bins - 1 else (p <= hi))
        out.append(
            {
                "predicted": f"{lo:.1f}–{hi:.1f}",
                "questions": int(m.sum()),
                "mean predicted": round(float(p[m].mean()), 3) if m.any() else None,
                "observed": round(float(y[m].mean()), 3) if m.any() else None,
            }
        )
    return out
