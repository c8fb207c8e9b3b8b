"""The trainer behind `ncmec-qa train`: fits the ranker, the answer selector and the abstainer on the
training questions (and the verdict model on the training claims), cross-validated by group.

Every model is an L2-regularised logistic regression over named features (deterministic: the
same data gives the same parameters). The steps, for the questions:

1. Mine: the first stage of retrieval for every training question (`mining`).
2. Ranker: candidates of the answerable questions' pools (whole questions and their parts),
   labelled by whether they contain a gold quote; the pool's other passages are the hard negatives.
3. Selector: the evidence units of the top passages the ranker returns, labelled by whether they
   overlap a gold quote (every unit of an unanswerable question is a negative).
4. Abstainer: one row per question, the evidence features of step 3's choice, labelled by whether
   the question is answerable. Its features are computed out of fold: for each group, by a
   ranker and selector fitted on the other groups, so that it learns how far to trust them on
   questions they were not fitted on. The threshold is the lowest at which, over the
   out-of-fold predictions, the answered questions are answerable `precision` of the time.

Leave-one-group-out figures of every step are returned with the models and written into each
model's `meta`, beside nothing of the evaluation sets (fit on train, choose on dev).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..answer.answer_features import ANSWER_KINDS, MISS_KINDS, QUESTION_FEATURES, UNIT_FEATURES, unit_features
from ..answer.answering import AnswerConfig, candidate_units
from ..evaluation import overlaps_gold
from ..search.rank_features import PASSAGE_FEATURES
from ..search.retrieval import RetrievalConfig
from ..verify.assess import CONTRADICTED, NOT_FOUND, SUPPORTED, VERDICTS
from ..verify.verdict import LABELS, verdict_of
from ..verify.verdict_features import VERDICT_FEATURES, VERDICT_SIGNS
from .folds import THRESHOLDS, auc, choose_threshold, decisions, group_folds, reliability
from .linear import LinearModel, fit_logistic, fit_one_vs_rest, hand_set
from .mining import Example, MinedQuestion, ranking_rows
from .replay import Replayer, replay_hits
from .shipped import Judgment

SEED = 0  # recorded with the models; the fits themselves are deterministic (lbfgs)


@dataclass(frozen=True)
class TrainConfig:
    depth: int = 50  # candidates per pool the ranker is fitted on
    ranker_C: float = 0.1
    selector_C: float = 0.1
    abstainer_C: float = 0.1
    precision: float = 0.4  # of the answers given, over the out-of-fold predictions: the evidence holds a gold quote
    abstainer_signs: bool = True  # see ABSTAINER_SIGNS
    selector_signs: bool = True  # see SELECTOR_SIGNS
    part_min_score: float = 0.5  # a part's passage joins a two-part question's answer from this probability
    retrieval: RetrievalConfig = field(default_factory=lambda: RetrievalConfig(ranker="learned"))
    answering: AnswerConfig = field(default_factory=AnswerConfig)


_PLACEHOLDER = hand_set("placeholder", {"best": 0.0})

# The abstainer's evidence features may only push one way: more of the question stated by the evidence
# can never make an answer less likely, and something the question asks that the evidence lacks can
# never make it more likely. (Unconstrained, the fit rewards high coverage with abstention on the
# training set's near misses, which are worded in the corpus's own terms: a property of how the
# questions were written, not of the evidence.) Question-form features (how many, yes/no …) are free.
# Likewise the selector: a unit that states more of what the question asks (its words, years, names, an
# amount of it, the kind of answer it asks for) can only be more likely to answer it.
SELECTOR_SIGNS = {
    **{
        f: +1
        for f in (
            "cosine",
            "own_cosine",
            "coverage",
            "coverage_context",
            "rare",
            "passage_score",
            "passage_rr",
            "years_named",
            "amount_named",
            "names",
            "kind_match",
            *(f"states_{k}" for k in ANSWER_KINDS),
        )
    },
    **{f: -1 for f in ("missing_rare", "other_years", "kind_miss")},
}
ABSTAINER_SIGNS = {
    **{
        f: +1
        for f in (
            "best",
            "second",
            "top3",
            "ranker_top",
            "cosine_best",
            "coverage_best",
            "coverage_chosen",
            "coverage_top",
            "kind_match_best",
        )
    },
    **{
        f: -1
        for f in (
            "missing_rare_chosen",
            "missing_rare_top",
            "unseen_terms",
            "years_missing",
            "years_missing_top",
            "names_missing",
            "amount_missing",
            "kind_miss_chosen",
            "cites_asked_law",
            *(f"miss_{k}" for k in MISS_KINDS),
        )
    },
}


def fit_ranker(mined: Sequence[MinedQuestion], cfg: TrainConfig) -> LinearModel:
    rows, y, _ = ranking_rows(mined, cfg.depth)
    X = np.array([[r[f] for f in PASSAGE_FEATURES] for r in rows])
    return fit_logistic(
        "ranker",
        PASSAGE_FEATURES,
        X,
        y,
        C=cfg.ranker_C,
        meta={"part_min_score": cfg.part_min_score, "positives": int(y.sum())},
    )


def unit_rows(
    mined: Sequence[MinedQuestion], ranker: LinearModel, replayer: Replayer, cfg: TrainConfig
) -> tuple[list[dict[str, float]], np.ndarray]:
    """Units of the answerable questions' top passages, labelled by whether they overlap a gold quote.
    (Unanswerable questions are the abstainer's business: their units, written as near misses, would
    teach the selector that stating an amount or a fine makes a unit less likely to answer.)"""
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    rcfg = replace(cfg.retrieval, ranker="learned")
    for m in mined:
        if not m.example.answerable:
            continue
        hits = replay_hits(m, ranker, rcfg)
        for c in candidate_units(hits, replayer.cosines(m), replayer.sources, replayer.doc_text, cfg.answering):
            rows.append(unit_features(m.whole.query, c))
            labels.append(int(overlaps_gold(c.unit.start, c.unit.end, m.spans.get(c.unit.source_id, []))))
    return rows, np.asarray(labels)


def fit_selector(
    mined: Sequence[MinedQuestion], ranker: LinearModel, replayer: Replayer, cfg: TrainConfig
) -> LinearModel:
    rows, y = unit_rows(mined, ranker, replayer, cfg)
    X = np.array([[r[f] for f in UNIT_FEATURES] for r in rows])
    return fit_logistic(
        "selector",
        UNIT_FEATURES,
        X,
        y,
        C=cfg.selector_C,
        signs=SELECTOR_SIGNS if cfg.selector_signs else None,
        meta={"positives": int(y.sum())},
    )


def evidence_rows(
    mined: Sequence[MinedQuestion], models: Judgment, replayer: Replayer, cfg: TrainConfig
) -> list[tuple[dict[str, float], bool]]:
    """Per question: the abstainer's features of the evidence the selector chooses, and whether that
    evidence answers it (the question is answerable and a chosen unit overlaps a gold quote)."""
    rcfg = replace(cfg.retrieval, ranker="learned")
    out = []
    for m in mined:
        ev = replayer.evidence(m, models, rcfg, cfg.answering)[1]
        gold = m.example.answerable and any(
            overlaps_gold(c.unit.start, c.unit.end, m.spans.get(c.unit.source_id, [])) for c in ev.chosen
        )
        out.append((ev.features, bool(gold)))
    return out


@dataclass
class QuestionModels:
    ranker: LinearModel
    selector: LinearModel
    abstainer: LinearModel
    folds: dict[str, Judgment]  # held-out group -> the models fitted without it (verdict: a placeholder)
    oof: list[dict[str, float]]  # out-of-fold evidence features, per training question
    oof_answers: np.ndarray  # 1 where that evidence answers the question (the abstainer's label)
    oof_probability: np.ndarray  # the abstainer's out-of-fold probability, per training question
    report: dict[str, Any]


def fit_question_models(
    mined: Sequence[MinedQuestion],
    replayer: Replayer,
    cfg: TrainConfig = TrainConfig(),
    log: Callable[[str], None] = lambda m: None,
) -> QuestionModels:
    groups = [m.group for m in mined]
    fitted: dict[str, tuple[LinearModel, LinearModel]] = {}
    oof: list[tuple[dict[str, float], bool] | None] = [None] * len(mined)
    signs = ABSTAINER_SIGNS if cfg.abstainer_signs else None
    for g, tr, te in group_folds(groups):
        log(f"fold without {g}: ranker and selector on {len(tr)} questions")
        train_part = [mined[i] for i in tr]
        rk = fit_ranker(train_part, cfg)
        sel = fit_selector(train_part, rk, replayer, cfg)
        fitted[g] = (rk, sel)
        held = [mined[i] for i in te]
        for i, f in zip(te, evidence_rows(held, Judgment(rk, sel, _PLACEHOLDER, _PLACEHOLDER), replayer, cfg)):
            oof[i] = f
    feats = [f for f, _ in oof]  # type: ignore[misc]
    X = np.array([[f[k] for k in QUESTION_FEATURES] for f in feats])
    y = np.array([int(g) for _, g in oof])  # type: ignore[misc]
    answerable = np.array([int(m.example.answerable) for m in mined])
    p_oof = np.zeros(len(mined))
    abstainers: dict[str, LinearModel] = {}
    for g, tr, te in group_folds(groups):
        abstainers[g] = fit_logistic("abstainer", QUESTION_FEATURES, X[tr], y[tr], C=cfg.abstainer_C, signs=signs)
        p_oof[te] = abstainers[g].proba(X[te])
    threshold = choose_threshold(p_oof, y, cfg.precision)
    folds = {
        g: Judgment(rk, sel, replace(abstainers[g], meta={**abstainers[g].meta, "threshold": threshold}), _PLACEHOLDER)
        for g, (rk, sel) in fitted.items()
    }
    log("final models on every training question")
    ranker = fit_ranker(mined, cfg)
    selector = fit_selector(mined, ranker, replayer, cfg)
    report = {
        "abstainer": {
            "cv_auc": round(auc(p_oof, y), 4),
            "cv_auc_answerable": round(auc(p_oof, answerable), 4),
            "precision_target": cfg.precision,
            "evidence_answers": int(y.sum()),
            "cv": decisions(p_oof, answerable, threshold, y),
            "reliability": reliability(p_oof, y),
            "curve": [decisions(p_oof, answerable, t, y) for t in THRESHOLDS],
        },
    }
    abstainer = fit_logistic(
        "abstainer",
        QUESTION_FEATURES,
        X,
        y,
        C=cfg.abstainer_C,
        signs=signs,
        meta={"threshold": threshold, **report["abstainer"]},
    )
    return QuestionModels(ranker, selector, abstainer, folds, feats, y, p_oof, report)


# -- verdicts ------------------------------------------------------------------------------------------


@dataclass
class MinedClaim:
    example: Example
    assessment: Any  # verify.Assessment: the rules' reading of the claim's retrieved units
    features: dict[str, float]

    @property
    def group(self) -> str:
        return self.example.group


def mine_claims(
    ws: Any,
    examples: Sequence[Example],
    progress: Callable[[int, int], None] | None = None,
    cfg: Any = None,
    exclude: set[str] | None = None,
) -> list[MinedClaim]:
    """Retrieve and assess every claim as `verify` does (with the workspace's ranker), never from the
    sources in `exclude` (the dev claims taken from the seed article are judged without it)."""
    from ..verify import VerifyConfig, assess, clean_claim, collect_units, index_stats
    from ..verify.verdict_features import claim_features

    cfg = cfg or VerifyConfig()
    stats = index_stats(ws.index)
    out = []
    for i, ex in enumerate(examples):
        text = clean_claim(ex.text)
        a = assess(text, collect_units(ws, text, exclude=exclude, cfg=cfg), stats, cfg)
        out.append(MinedClaim(ex, a, claim_features(text, a, stats)))
        if progress:
            progress(i + 1, len(examples))
    return out


VERDICT_MODEL_FEATURES = tuple(f for f in VERDICT_FEATURES if not f.startswith("base_") and f != "dir_claim_dir")


def fit_verdict(
    claims: Sequence[MinedClaim],
    C: float,
    meta: dict[str, Any] | None = None,
    features: Sequence[str] = VERDICT_MODEL_FEATURES,
    signs: dict[str, dict[str, int]] = VERDICT_SIGNS,
) -> LinearModel:
    """Two binary models over the claim's `features`, contradicted against the rest and supported against
    the rest, each constrained in sign (`signs`, by default `verdict_features.VERDICT_SIGNS`): only
    conflicting evidence can make a claim contradicted, only matching evidence supported."""
    X = np.array([[c.features[f] for f in features] for c in claims])
    y = [LABELS[c.example.label] for c in claims]
    return fit_one_vs_rest("verdict", tuple(features), X, y, (CONTRADICTED, SUPPORTED), C=C, signs=signs, meta=meta)


def verdict_report(labels: Sequence[str], verdicts: Sequence[str]) -> dict[str, Any]:
    """Accuracy, contradicted recall and not_in_corpus called supported of `verdicts` against `labels`."""
    gold = [LABELS[x] for x in labels]
    n = len(gold)
    con = [v for g, v in zip(gold, verdicts) if g == CONTRADICTED]
    nic = [v for g, v in zip(gold, verdicts) if g == NOT_FOUND]
    return {
        "claims": n,
        "accuracy": round(sum(g == v for g, v in zip(gold, verdicts)) / n, 4) if n else None,
        "contradicted recall": round(con.count(CONTRADICTED) / len(con), 4) if con else None,
        "not_in_corpus called supported": round(nic.count(SUPPORTED) / len(nic), 4) if nic else None,
        "confusion": {
            g: {v: sum(1 for a, b in zip(gold, verdicts) if a == g and b == v) for v in VERDICTS} for g in VERDICTS
        },
    }


def fit_verdict_model(
    claims: Sequence[MinedClaim],
    C: float = 0.1,
    max_nic_supported: float = 0.05,
    max_nic_contradicted: float = 0.15,
    log: Callable[[str], None] = lambda m: None,
    features: Sequence[str] = VERDICT_MODEL_FEATURES,
    signs: dict[str, dict[str, int]] = VERDICT_SIGNS,
) -> tuple[LinearModel, dict[str, Any]]:
    """The verdict model and its thresholds, chosen on the out-of-fold predictions: `supported` from the
    lowest probability at which at most `max_nic_supported` of the claims the corpus does not settle
    are called supported, `contradicted` likewise with `max_nic_contradicted` (a contradiction the
    corpus does not state is an unsupported claim too). `features` and `signs`: as for `fit_verdict`."""
    groups = [c.group for c in claims]
    fold_models: list[tuple[np.ndarray, LinearModel]] = []
    for g, tr, te in group_folds(groups):
        fold_models.append((te, fit_verdict([claims[i] for i in tr], C, features=features, signs=signs)))
    gold = [LABELS[c.example.label] for c in claims]
    nic = [i for i, g in enumerate(gold) if g == NOT_FOUND]

    def lowest(verdict: str, share: float, **fixed: float) -> float:
        for t in THRESHOLDS:
            calls = _oof_verdicts(claims, fold_models, **{**fixed, f"{verdict}_threshold": t})
            if sum(calls[i] == verdict for i in nic) <= share * len(nic):
                return t
        return 1.0

    t_con = lowest(CONTRADICTED, max_nic_contradicted, supported_threshold=1.0)
    t_sup = lowest(SUPPORTED, max_nic_supported, contradicted_threshold=t_con)
    thresholds = {"supported_threshold": t_sup, "contradicted_threshold": t_con}
    calls = _oof_verdicts(claims, fold_models, **thresholds)
    labels = [c.example.label for c in claims]
    report = {
        **thresholds,
        "cv": verdict_report(labels, calls),
        "rules": verdict_report(labels, [c.assessment.verdict for c in claims]),
    }
    log(
        f"verdict model: supported from {t_sup:.2f}, contradicted from {t_con:.2f}; "
        f"cv accuracy {report['cv']['accuracy']}"
    )
    return fit_verdict(claims, C, {**thresholds, "cv": report["cv"]}, features, signs), report


def _oof_verdicts(claims: Sequence[MinedClaim], fold_models, **thresholds: float) -> list[str]:
    out = [""] * len(claims)
    for te, m in fold_models:
        m = replace(m, meta={**m.meta, **thresholds})
        for i in te:
            out[i] = verdict_of(claims[i].assessment.verdict, claims[i].features, m)
    return out


# -- everything ----------------------------------------------------------------------------------------


def same_models(a: Judgment, b: Judgment, rtol: float = 1e-3, atol: float = 1e-4) -> str:
    """ "" when the two sets of models have the same features, classes, thresholds and parameters (to
    float tolerance: another CPU may round the embeddings differently), else the first difference."""
    for name in ("ranker", "selector", "abstainer", "verdict"):
        x, y = getattr(a, name), getattr(b, name)
        if (x.features, x.classes) != (y.features, y.classes):
            return f"{name}: other features or classes"
        for key in ("threshold", "supported_threshold", "contradicted_threshold", "part_min_score"):
            if x.meta.get(key) != y.meta.get(key):
                return f"{name}: {key} {x.meta.get(key)} against {y.meta.get(key)}"
        for part in ("mean", "scale", "coef", "intercept"):
            if not np.allclose(getattr(x, part), getattr(y, part), rtol=rtol, atol=atol):
                return f"{name}: {part} differs"
    return ""


def save_models(models: Judgment, folder: Path) -> list[Path]:
    out = []
    for name in ("ranker", "selector", "abstainer", "verdict"):
        m: LinearModel = getattr(models, name)
        path = Path(folder) / f"{name}.json"
        m.save(path)
        out.append(path)
    return out


def train_all(
    ws: Any, data: Path, cfg: TrainConfig = TrainConfig(), log: Callable[[str], None] = lambda m: None
) -> tuple[Judgment, dict[str, Any]]:
    """Fit every model on the question and claim sets in `data` (../shared/train) over `ws`'s index."""
    from .mining import load_examples, mine_questions

    questions = load_examples(Path(data) / "questions.jsonl")
    claims = load_examples(Path(data) / "claims.jsonl")
    log(f"mining {len(questions)} training questions")
    mined = mine_questions(ws, questions)
    replayer = Replayer(ws.sources(), ws.document_text)
    qm = fit_question_models(mined, replayer, cfg, log)
    judged = Judgment(qm.ranker, qm.selector, qm.abstainer, _PLACEHOLDER)
    # a sibling of the caller's workspace (its class, so learn/ never imports the workspace above it)
    wsj = type(ws)(ws.paths, retrieval=replace(ws.retrieval, ranker="learned"), judgment=judged)
    wsj.__dict__["index"] = ws.index
    wsj.__dict__["query_embedder"] = ws.query_embedder
    log(f"mining {len(claims)} training claims")
    mc = mine_claims(wsj, claims)
    verdict, vreport = fit_verdict_model(mc, log=log)
    return Judgment(qm.ranker, qm.selector, qm.abstainer, verdict), {"questions": qm.report, "claims": vreport}
