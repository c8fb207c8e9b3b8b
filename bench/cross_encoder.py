"""The cross-encoder rows of bench/quality.py: a CrossEncoder fine-tuned from the bundled all-MiniLM-L6-v2 with
sentence-transformers' CrossEncoder training, once per held-out group and once on all training questions.

Pairs: (question, the passage's title and section + its text); positives the pool passages that hold
a gold quote, negatives four of the pool's non-gold passages among its top 30 (seeded). Binary
cross-entropy, one epoch, learning rate 1e-4, batch 16, 128 tokens, the embeddings and the three
lowest layers frozen (a full fine-tune on two cores takes about fifteen minutes a fold; the issue's
own trial of one and two epochs on all layers ranked worse). Each fold's scores are cached in the
working folder, keyed by the fold's questions and settings. Benchmark-only: the query path never
imports torch.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

SETTINGS = {
    "epochs": 1,
    "lr": 1e-4,
    "batch": 16,
    "max_length": 128,
    "frozen_layers": 3,
    "negatives": 4,
    "negatives_from_top": 30,
    "scored": 30,
    "seed": 0,
}


def _text(c) -> str:
    return f"{c.context}\n{c.passage.text}"


def _pairs(mined) -> tuple[list[tuple[str, str]], list[float]]:
    pairs, labels = [], []
    for m in mined:
        if not m.example.answerable or not any(m.whole.gold):
            continue
        cands = m.whole.candidates
        neg = [c for c, g in zip(cands[: SETTINGS["negatives_from_top"]], m.whole.gold) if not g]
        rng = random.Random(f"{SETTINGS['seed']}:{m.id}")
        for c, g in zip(cands, m.whole.gold):
            if g:
                pairs.append((m.example.text, _text(c)))
                labels.append(1.0)
        for c in rng.sample(neg, min(len(neg), SETTINGS["negatives"])):
            pairs.append((m.example.text, _text(c)))
            labels.append(0.0)
    return pairs, labels


def training_arguments(
    output_dir: Path,
    epochs: int,
    batch: int,
    lr: float,
    seed: int,
    warmup_ratio: float = 0.1,
    logging_steps: int = 1000,
) -> Any:
    """sentence-transformers' trainer arguments for a seeded single-process CPU fine-tune that saves nothing itself
    (the bench scripts save the model they keep)."""
    from sentence_transformers.cross_encoder import CrossEncoderTrainingArguments

    return CrossEncoderTrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch,
        learning_rate=lr,
        warmup_ratio=warmup_ratio,
        seed=seed,
        data_seed=seed,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
        logging_steps=logging_steps,
        dataloader_num_workers=0,
    )


def fold_scores(train, score, folder: Path, name: str, log: Callable[[str], None]) -> dict[tuple[str, int], float]:
    """Fine-tune on `train`'s pools and score the top of `score`'s pools: (question id, rowid) -> score."""
    key = hashlib.sha256(
        json.dumps([SETTINGS, sorted(m.id for m in train), sorted(m.id for m in score)]).encode()
    ).hexdigest()[:16]
    cache = folder / f"{name}-{key}.json"
    if cache.is_file():
        return {(q, int(r)): s for q, r, s in json.loads(cache.read_text())}
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, losses
    from transformers import set_seed

    from ncmec_qa.index.embedding import resolve_model_path

    set_seed(SETTINGS["seed"])
    pairs, labels = _pairs(train)
    model = CrossEncoder(str(resolve_model_path(None)), num_labels=1, max_length=SETTINGS["max_length"], device="cpu")
    bert = model[0].model.bert if hasattr(model[0], "model") else model.model.bert
    for p in bert.embeddings.parameters():
        p.requires_grad = False
    for layer in bert.encoder.layer[: SETTINGS["frozen_layers"]]:
        for p in layer.parameters():
            p.requires_grad = False
    ds = Dataset.from_dict({"query": [q for q, _ in pairs], "passage": [p for _, p in pairs], "label": labels})
    args = training_arguments(
        folder / "trainer", SETTINGS["epochs"], SETTINGS["batch"], SETTINGS["lr"], SETTINGS["seed"]
    )
    t0 = time.perf_counter()
    CrossEncoderTrainer(model=model, args=args, train_dataset=ds, loss=losses.BinaryCrossEntropyLoss(model)).train()
    t_train = time.perf_counter() - t0
    items = [(m.id, c.rowid, m.example.text, _text(c)) for m in score for c in m.whole.candidates[: SETTINGS["scored"]]]
    t0 = time.perf_counter()
    with torch.inference_mode():
        s = model.predict(
            [(q, p) for _, _, q, p in items], batch_size=32, show_progress_bar=False, activation_fn=torch.nn.Identity()
        )
    log(
        f"cross-encoder {name}: {len(pairs)} pairs trained in {t_train:.0f} s, {len(items)} scored in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    out = [(q, int(r), float(x)) for (q, r, _, _), x in zip(items, np.asarray(s).reshape(-1))]
    folder.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out))
    return {(q, r): x for q, r, x in out}


def _with_ce(m, scores) -> list[dict]:
    """The pool's ranking features plus the cross-encoder's score (z-scored within the pool)."""
    rows = m.whole.rows()[: SETTINGS["scored"]]
    s = np.array([scores.get((m.id, c.rowid), np.nan) for c in m.whole.candidates[: SETTINGS["scored"]]])
    ok = np.isfinite(s)
    mu, sd = (float(s[ok].mean()), float(s[ok].std()) or 1.0) if ok.any() else (0.0, 1.0)
    z = np.where(ok, (s - mu) / sd, -3.0)
    return [{**r, "cross_encoder": float(v)} for r, v in zip(rows, z)]


def _ranking(m, order: Sequence[int]) -> tuple[int | None]:
    gold = [m.whole.gold[i] for i in order][:10]
    return next((i + 1 for i, g in enumerate(gold) if g), None)


def _cells(mined, ranker, prefix: str) -> dict:
    top5 = mrr = n = 0
    for m in mined:
        if not m.example.answerable:
            continue
        n += 1
        s = ranker(m)
        rank = _ranking(m, sorted(range(len(s)), key=lambda i: (-s[i], i)))
        top5 += rank is not None and rank <= 5
        mrr += 1 / rank if rank else 0.0
    return {
        f"{prefix} top 5": f"{top5}/{n}",
        f"{prefix} MRR": mrr / n if n else 0.0,
        f"{prefix} answer precision": None,
        f"{prefix} answered": None,
        f"{prefix} abstained": None,
    }


def cross_encoder_rows(ws, m_train, m_dev, replayer, default, folder: Path, log) -> list[dict]:
    from ncmec_qa.learn.folds import group_folds
    from ncmec_qa.learn.linear import fit_logistic
    from ncmec_qa.search.rank_features import PASSAGE_FEATURES

    oof: dict[tuple[str, int], float] = {}
    groups = [m.group for m in m_train]
    for g, tr, te in group_folds(groups):
        oof.update(fold_scores([m_train[i] for i in tr], [m_train[i] for i in te], folder, f"without-{g}", log))
    dev = fold_scores(m_train, m_dev, folder, "all", log)
    scores = {**oof, **dev}

    def alone(m):
        return np.array([scores.get((m.id, c.rowid), -1e9) for c in m.whole.candidates[: SETTINGS["scored"]]])

    feats = (*PASSAGE_FEATURES, "cross_encoder")

    def fit(ms):
        rows, y = [], []
        for m in ms:
            if m.example.answerable:
                rows += _with_ce(m, scores)
                y += [int(g) for g in m.whole.gold[: SETTINGS["scored"]]]
        return fit_logistic("ranker+ce", feats, np.array([[r[f] for f in feats] for r in rows]), np.array(y), C=0.1)

    fold_models = {g: fit([m_train[i] for i in tr]) for g, tr, _ in group_folds(groups)}
    final = fit(m_train)

    def with_ce(pick):
        return lambda m: (lambda model: model.proba(model.matrix(_with_ce(m, scores))))(pick(m))

    def learned_only(pick):
        return lambda m: (lambda model: model.proba(model.matrix(m.whole.rows()[: SETTINGS["scored"]])))(pick(m))

    return [
        {
            "config": "cross-encoder fine-tuned from MiniLM, alone (top 30 of the pool)",
            **_cells(m_train, alone, "train"),
            **_cells(m_dev, alone, "dev"),
        },
        {
            "config": "learned ranker over the same top 30 (reference for the two rows around it)",
            **_cells(m_train, learned_only(lambda m: default.folds[m.group].ranker), "train"),
            **_cells(m_dev, learned_only(lambda m: default.ranker), "dev"),
        },
        {
            "config": "learned ranker + the cross-encoder's score as a feature",
            **_cells(m_train, with_ce(lambda m: fold_models[m.group]), "train"),
            **_cells(m_dev, with_ce(lambda m: final), "dev"),
        },
    ]
