#!/usr/bin/env python
"""Configurations tried against the shipped judgment and not adopted: each refitted on train (CV by group).

1. Answer selection. The selector quotes the units whose probability is at least `keep_share` of the
   best one's, at most `max_sentences`. Each setting is refitted the way `ncmec-qa train` fits the
   shipped one (ranker, selector, abstainer per fold; the threshold chosen on the out-of-fold
   predictions for the same precision target), and reported beside it: answer precision (share of
   quoted sentences inside gold evidence), answerable answered, unanswerable abstained, and two
   measures precision cannot see: *fact recall* (share of the gold facts of answered questions that
   some quote cites) and *complete* answers (every gold fact cited). Then the same fold models at
   fixed thresholds, to compare settings at equal abstention.
2. Verdict model family. The shipped verdict (two sign-constrained logistic regressions with
   thresholds chosen on the folds, see `learn/train.py`) against unconstrained models over the same
   features: multinomial logistic regression and gradient boosting (scikit-learn, seed 0), each
   predicting the label with the largest probability. The question is how much the features can say
   at all, whatever the model.

Nothing is fitted on ../shared/eval; its figures are reported for the models fitted on all of train.

    python bench/alternatives.py --index index      # writes docs/benchmarks-alternatives.md (5-10 minutes)
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import platform
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from report import table  # noqa: E402

from ncmec_qa.answer.answering import AnswerConfig  # noqa: E402
from ncmec_qa.evaluation import GoldLocator, overlaps_gold  # noqa: E402
from ncmec_qa.learn.crossval import answers_by, cv_answers, report_of, with_threshold  # noqa: E402
from ncmec_qa.learn.folds import group_folds  # noqa: E402
from ncmec_qa.learn.mining import load_examples, mine_questions  # noqa: E402
from ncmec_qa.learn.replay import Replayer  # noqa: E402
from ncmec_qa.learn.shipped import Judgment  # noqa: E402
from ncmec_qa.learn.train import (  # noqa: E402
    LABELS,
    VERDICT_MODEL_FEATURES,
    TrainConfig,
    fit_question_models,
    fit_verdict_model,
    mine_claims,
    verdict_report,
)
from ncmec_qa.workspace import Workspace  # noqa: E402

SHARED = ROOT.parent / "shared"
SELECTIONS = [(0.9, 3), (0.95, 3), (1.0, 3), (0.9, 2)]  # the first is the shipped default
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4)


def log(m: str) -> None:
    print(m, file=sys.stderr, flush=True)


def sliced(items: list, limit: int | None) -> list:
    return items if not limit or limit >= len(items) else items[:: max(1, len(items) // limit)][:limit]


def fact_cells(answers: dict, mined: list, gold: GoldLocator) -> tuple[float, str]:
    """(share of the gold facts of answered answerable questions cited by the answer, complete answers)."""
    cited = total = complete = answered = 0
    for m in mined:
        a = answers[m.example.text]
        if not (a.answered and m.example.answerable):
            continue
        answered += 1
        got = sum(
            any(c.passage.file == e.file and overlaps_gold(c.start, c.end, gold.spans(e.file, [e])) for c in a.sources)
            for e in m.example.evidence
        )
        cited, total, complete = (
            cited + got,
            total + len(m.example.evidence),
            complete + (got == len(m.example.evidence)),
        )
    return (cited / total if total else 0.0), f"{complete}/{answered}"


def selection_tables(ws: Workspace, m_train: list, m_dev: list, selections: list) -> tuple[str, str]:
    replayer = Replayer(ws.sources(), ws.document_text)
    gold = GoldLocator(ws.index.document_text_of_file)
    rows, curve = [], []
    for keep, most in selections:
        cfg = TrainConfig(answering=AnswerConfig(keep_share=keep, max_sentences=most))
        log(f"answer selection keep_share {keep}, max_sentences {most}: fitting the folds")
        qm = fit_question_models(m_train, replayer, cfg)
        cv = cv_answers(qm, m_train, replayer, cfg.retrieval, cfg.answering)
        r = report_of(cv, m_train, ws.index.document_text_of_file)
        full = Judgment(qm.ranker, qm.selector, qm.abstainer, qm.abstainer)
        dv = answers_by(full, m_dev, replayer, cfg.retrieval, cfg.answering)
        d = report_of(dv, m_dev, ws.index.document_text_of_file)
        fr, complete = fact_cells(cv, m_train, gold)
        dfr, dcomplete = fact_cells(dv, m_dev, gold)
        name = f"keep_share {keep}, max_sentences {most}" + (" (shipped)" if (keep, most) == SELECTIONS[0] else "")
        rows.append(
            {
                "config": name,
                "threshold (chosen on folds)": qm.abstainer.meta["threshold"],
                "train precision": r.answer_precision,
                "train answered": f"{r.answered_correct}/{r.n_answerable}",
                "train abstained": f"{r.abstained_correct}/{r.n_unanswerable}",
                "train fact recall": fr,
                "train complete": complete,
                "dev precision": d.answer_precision,
                "dev answered": f"{d.answered_correct}/{d.n_answerable}",
                "dev abstained": f"{d.abstained_correct}/{d.n_unanswerable}",
                "dev fact recall": dfr,
                "dev complete": dcomplete,
            }
        )
        for t in THRESHOLDS:
            folds = {g: with_threshold(j, t) for g, j in qm.folds.items()}
            qm_t = replace(qm, folds=folds)
            rt = report_of(
                cv_answers(qm_t, m_train, replayer, cfg.retrieval, cfg.answering), m_train, gold.document_text
            )
            curve.append(
                {
                    "config": name,
                    "threshold": t,
                    "train precision": rt.answer_precision,
                    "train answered": f"{rt.answered_correct}/{rt.n_answerable}",
                    "train abstained": f"{rt.abstained_correct}/{rt.n_unanswerable}",
                }
            )
    return table(rows), table(curve)


def verdict_table(ws: Workspace, train_claims: list) -> str:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    log(f"mining {len(train_claims)} training claims")
    mc = mine_claims(ws, train_claims)
    _, shipped = fit_verdict_model(mc)
    X = np.array([[c.features[f] for f in VERDICT_MODEL_FEATURES] for c in mc])
    y = np.array([LABELS[c.example.label] for c in mc])
    labels = [c.example.label for c in mc]
    rows = [{"config": "shipped: sign-constrained, thresholds on the folds", **_cells(shipped["cv"])}]
    makers = {
        "multinomial logistic regression, C=0.1, unconstrained": lambda: LogisticRegression(C=0.1, max_iter=5000),
        "multinomial logistic regression, C=1, unconstrained": lambda: LogisticRegression(C=1.0, max_iter=5000),
        "gradient boosting, 100 trees of depth 2, seed 0": lambda: GradientBoostingClassifier(
            n_estimators=100, max_depth=2, random_state=0
        ),
    }
    for name, make in makers.items():
        pred = out_of_fold(make, X, y, [c.group for c in mc])
        rows.append({"config": name, **_cells(verdict_report(labels, [str(p) for p in pred]))})
    return table(rows)


def out_of_fold(make: Callable[[], Any], X: np.ndarray, y: np.ndarray, groups: list[str]) -> np.ndarray:
    """Each row's label predicted by `make()` fitted, on standardised features, on the other groups' rows."""
    from sklearn.preprocessing import StandardScaler

    pred = np.empty(len(y), dtype=object)
    for _, tr, te in group_folds(groups):
        scale = StandardScaler().fit(X[tr])
        pred[te] = make().fit(scale.transform(X[tr]), y[tr]).predict(scale.transform(X[te]))
    return pred


def _cells(r: dict) -> dict:
    conf = r["confusion"]
    return {
        "train accuracy": r["accuracy"],
        "contradicted recall": r["contradicted recall"],
        "not_in_corpus called supported": r["not_in_corpus called supported"],
        "supported called not_found": f"{conf['supported']['not_found']}/{sum(conf['supported'].values())}",
        "contradicted called supported": f"{conf['contradicted']['supported']}/{sum(conf['contradicted'].values())}",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True, help="An index of the reference corpus")
    ap.add_argument("--train", type=Path, default=SHARED / "train")
    ap.add_argument("--dev", type=Path, default=SHARED / "eval")
    ap.add_argument("--limit", type=int, default=None, help="Only about N training questions and claims (a slice)")
    ap.add_argument("--selections", type=int, default=len(SELECTIONS), help="Only the first N answer selections")
    ap.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks-alternatives.md")
    args = ap.parse_args()
    cmd = "python bench/alternatives.py " + " ".join(sys.argv[1:])
    ws = Workspace.open(corpus=ROOT / "corpus/sources.toml", index=args.index)
    tq = sliced(load_examples(args.train / "questions.jsonl"), args.limit)
    tc = sliced(load_examples(args.train / "claims.jsonl"), args.limit)
    log(f"mining {len(tq)} training questions and the dev questions")
    m_train, m_dev = mine_questions(ws, tq), mine_questions(ws, load_examples(args.dev / "questions.jsonl"))
    sel, curve = selection_tables(ws, m_train, m_dev, SELECTIONS[: args.selections])
    ver = verdict_table(ws, tc)
    counts = collections.Counter(m.group for m in m_train)
    text = "\n\n".join(
        [
            "# Alternatives tried and not adopted",
            f"Produced by `{cmd}` on {dt.date.today().isoformat()} ({platform.python_version()}, "
            f"{len(m_train)} training questions in {len(counts)} groups, {len(tc)} training claims). "
            "Train figures are cross-validated by group; dev figures are those of the models fitted on all of "
            "train. See the script's docstring for what each column means.",
            "## Answer selection (threshold chosen on the folds, as shipped)",
            sel,
            "## The same fold models at fixed thresholds (train, CV)",
            curve,
            "## Verdict model family (train, CV by group)",
            ver,
        ]
    )
    args.output.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
