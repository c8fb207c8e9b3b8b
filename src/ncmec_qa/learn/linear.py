"""A linear model over named features, stored as JSON and applied with numpy (no scikit-learn at query time).

`LinearModel.decision(X)` is `((X - mean) / scale) @ coef + intercept`, one row per example; a
logistic model's probability is its sigmoid. For a model of several classes, `coef` has one
column per class and `proba` is the softmax, or (`link="sigmoid"`, one binary model per class,
`fit_one_vs_rest`) each column's own sigmoid. Fitting (`fit_logistic`) uses scikit-learn's
L2-regularised logistic regression (lbfgs: deterministic for the same data), or L-BFGS-B with
bounds when weights are constrained in sign.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

FORMAT = "ncmec-qa linear model 1"


@dataclass(frozen=True)
class LinearModel:
    name: str
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (n_features,) for a binary model, (n_features, n_classes) otherwise
    intercept: np.ndarray  # () or (n_classes,)
    classes: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)  # how it was fitted; thresholds chosen for it
    link: str = "softmax"  # several classes: "softmax" (one model) or "sigmoid" (one binary model per class)

    def matrix(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Feature dicts to a matrix in this model's feature order (a missing feature is an error)."""
        try:
            return np.array([[float(r[f]) for f in self.features] for r in rows], dtype=np.float64).reshape(
                len(rows), len(self.features)
            )
        except KeyError as e:
            raise KeyError(f"model {self.name!r} needs feature {e.args[0]!r}") from None

    def decision(self, X: np.ndarray) -> np.ndarray:
        z = (np.asarray(X, dtype=np.float64) - self.mean) / self.scale
        return z @ self.coef + self.intercept

    def proba(self, X: np.ndarray) -> np.ndarray:
        d = self.decision(X)
        if d.ndim == 1 or self.link == "sigmoid":
            return 1.0 / (1.0 + np.exp(-d))
        e = np.exp(d - d.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def weights(self) -> dict[str, Any]:
        """The weights on the raw (unstandardised) features, for reading a model."""
        c = self.coef / (self.scale[:, None] if self.coef.ndim == 2 else self.scale)
        if self.coef.ndim == 1:
            return {f: round(float(w), 4) for f, w in zip(self.features, c)}
        return {f: {k: round(float(w), 4) for k, w in zip(self.classes, row)} for f, row in zip(self.features, c)}

    # -- storage ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def r(a: np.ndarray) -> Any:
            return np.round(np.asarray(a, dtype=np.float64), 8).tolist()

        return {
            "format": FORMAT,
            "name": self.name,
            "features": list(self.features),
            "classes": list(self.classes),
            "link": self.link,
            "mean": r(self.mean),
            "scale": r(self.scale),
            "coef": r(self.coef),
            "intercept": r(self.intercept),
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "LinearModel":
        if d.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT!r} file (format {d.get('format')!r})")
        feats = tuple(d["features"])
        mean, scale = np.asarray(d["mean"], dtype=np.float64), np.asarray(d["scale"], dtype=np.float64)
        coef, intercept = np.asarray(d["coef"], dtype=np.float64), np.asarray(d["intercept"], dtype=np.float64)
        n = len(feats)
        if mean.shape != (n,) or scale.shape != (n,) or coef.shape[0] != n or not np.all(scale > 0):
            raise ValueError(f"model {d.get('name')!r}: arrays do not match its {n} features")
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept)) and np.all(np.isfinite(mean))):
            raise ValueError(f"model {d.get('name')!r}: non-finite parameters")
        if d.get("link", "softmax") not in ("softmax", "sigmoid"):
            raise ValueError(f"model {d.get('name')!r}: unknown link {d.get('link')!r}")
        return cls(
            str(d["name"]),
            feats,
            mean,
            scale,
            coef,
            intercept,
            tuple(d.get("classes") or ()),
            dict(d.get("meta") or {}),
            str(d.get("link", "softmax")),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "LinearModel":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def hand_set(name: str, weights: Mapping[str, float], intercept: float = 0.0) -> LinearModel:
    """A linear model with weights set by hand on raw features (no standardisation)."""
    feats = tuple(weights)
    n = len(feats)
    return LinearModel(
        name,
        feats,
        np.zeros(n),
        np.ones(n),
        np.array([weights[f] for f in feats], dtype=np.float64),
        np.array(float(intercept)),
        meta={"fitted": False},
    )


def fit_logistic(
    name: str,
    features: Sequence[str],
    X: np.ndarray,
    y: Sequence[Any],
    C: float = 1.0,
    balanced: bool = False,
    sample_weight: np.ndarray | None = None,
    meta: dict[str, Any] | None = None,
    signs: Mapping[str, int] | None = None,
) -> LinearModel:
    """L2-regularised logistic regression on standardised features (binary, or multinomial when `y` has
    more than two labels). `signs` (binary only): features whose weight must be >= 0 (+1) or <= 0 (-1)."""
    X = np.asarray(X, dtype=np.float64)
    labels = sorted(set(y), key=str)
    if len(labels) < 2 or len(X) != len(y):
        raise ValueError(
            f"cannot fit {name!r}: {len(X)} examples of {len(labels)} kind(s); it needs examples of "
            "each outcome (the training set is too small or one-sided)"
        )
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    if signs:
        if len(labels) > 2:
            raise ValueError("sign constraints are for binary models")
        coef, b = _fit_signed(
            (X - mean) / scale, np.asarray(y, dtype=float), C, [signs.get(f, 0) for f in features], balanced
        )
        return LinearModel(
            name,
            tuple(features),
            mean,
            scale,
            coef,
            np.asarray(b),
            (),
            {
                "fitted": True,
                "C": C,
                "balanced": balanced,
                "n": int(len(X)),
                "signs": {f: int(v) for f, v in signs.items() if f in features},
                **(meta or {}),
            },
        )
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(C=C, max_iter=5000, class_weight="balanced" if balanced else None, tol=1e-8)
    m.fit((X - mean) / scale, np.asarray(y), sample_weight=sample_weight)
    classes: tuple[str, ...]
    if len(labels) <= 2:
        coef, intercept, classes = m.coef_[0], np.asarray(m.intercept_[0]), ()
    else:
        coef, intercept, classes = m.coef_.T, m.intercept_, tuple(str(c) for c in m.classes_)
    return LinearModel(
        name,
        tuple(features),
        mean,
        scale,
        coef,
        intercept,
        classes,
        {"fitted": True, "C": C, "balanced": balanced, "n": int(len(X)), **(meta or {})},
    )


def fit_one_vs_rest(
    name: str,
    features: Sequence[str],
    X: np.ndarray,
    y: Sequence[str],
    classes: Sequence[str],
    C: float = 1.0,
    signs: Mapping[str, Mapping[str, int]] | None = None,
    meta: dict[str, Any] | None = None,
) -> LinearModel:
    """One binary logistic regression per class in `classes` (that class against every other label), each
    with its own sign constraints, stored as one model whose `proba` gives each class's own probability."""
    y = list(y)
    parts = [
        fit_logistic(name, features, X, [int(v == c) for v in y], C=C, signs=(signs or {}).get(c) or None)
        for c in classes
    ]
    coef = np.stack([p.coef for p in parts], axis=1)
    intercept = np.array([float(p.intercept) for p in parts])
    return LinearModel(
        name,
        tuple(features),
        parts[0].mean,
        parts[0].scale,
        coef,
        intercept,
        tuple(classes),
        {"fitted": True, "C": C, "n": int(len(y)), **(meta or {})},
        "sigmoid",
    )


def _fit_signed(
    Z: np.ndarray, y: np.ndarray, C: float, signs: Sequence[int], balanced: bool
) -> tuple[np.ndarray, float]:
    """Binary logistic regression with box constraints on the weights' signs (L-BFGS-B, from zero),
    the same objective as scikit-learn's: ½‖w‖² + C Σ loss."""
    from scipy.optimize import minimize

    n, d = Z.shape
    w_s = np.ones(n)
    if balanced:
        pos = y.sum()
        w_s = np.where(y == 1, n / (2 * max(pos, 1)), n / (2 * max(n - pos, 1)))

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:d], theta[d]
        z = Z @ w + b
        # log(1 + exp(-y'z)) with y' in {-1, 1}, computed stably
        ys = 2 * y - 1
        m = -ys * z
        loss = np.where(m > 0, m + np.log1p(np.exp(-m)), np.log1p(np.exp(m)))
        sig = 1.0 / (1.0 + np.exp(-m))
        g = -ys * sig * w_s
        obj = 0.5 * w @ w + C * float(w_s @ loss)
        grad = np.concatenate([w + C * (Z.T @ g), [C * g.sum()]])
        return obj, grad

    bounds = [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None) for s in signs] + [(None, None)]
    r = minimize(
        f,
        np.zeros(d + 1),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 10000, "gtol": 1e-10, "ftol": 1e-14},
    )
    return r.x[:d], float(r.x[d])
