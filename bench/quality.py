"""Retrieval, answer and verdict quality: every configuration fitted on train, cross-validated by group,
and measured on dev, in one run.

    python bench/quality.py                      # everything; writes docs/benchmarks.md
    python bench/quality.py --work bench/.work   # keep the indexes and the cross-encoder folds for the next run
    python bench/quality.py --no-scifact --no-cross-encoder   # a quicker look

Questions (`../shared/train` to fit, `../shared/eval` to choose and report): each configuration
is fitted six times, leaving one `group` of the training questions out each time, and the
left-out group's questions are answered by the models that did not see it ("train, CV" columns:
pooled over the six folds); the models fitted on all training questions answer the dev questions.
Configurations: the hand-set reranker and answer rules of the previous release (fitted on dev:
nothing to refit); the learned ranker with the old answer rules; the learned ranker, selector and
abstainer (the shipped default); the same with their weights unconstrained in sign; a
cross-encoder fine-tuned from the bundled MiniLM on the training folds (sentence-transformers'
CrossEncoder training), alone and as a feature of the learned ranker. Claims: the verdict rules
of the previous release and the learned verdict model, cross-validated the same way.
SciFact: its training claims split into a fixed two thirds (fit) and one third (report).
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime as dt
import math
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from report import table, write_section  # noqa: E402

from ncmec_qa.answer.answering import AnswerConfig  # noqa: E402
from ncmec_qa.corpus.manifest import Manifest, save_manifest, sha256_file  # noqa: E402
from ncmec_qa.evaluation import evaluate, first_gold_rank, load_questions  # noqa: E402
from ncmec_qa.learn.crossval import answers_by, cv_answers, report_of  # noqa: E402
from ncmec_qa.learn.folds import reliability  # noqa: E402
from ncmec_qa.learn.mining import load_examples, mine_questions  # noqa: E402
from ncmec_qa.learn.replay import Replayer  # noqa: E402
from ncmec_qa.learn.shipped import Judgment, load_judgment  # noqa: E402
from ncmec_qa.learn.train import (  # noqa: E402
    TrainConfig,
    fit_question_models,
    fit_verdict_model,
    mine_claims,
    same_models,
    verdict_report,
)
from ncmec_qa.models import Hit, Source  # noqa: E402
from ncmec_qa.search.retrieval import RetrievalConfig  # noqa: E402
from ncmec_qa.verify import VerifyConfig, verify_claim  # noqa: E402
from ncmec_qa.workspace import Workspace  # noqa: E402

SHARED = ROOT.parent / "shared"
SEED = "seed-factually-2026"
# the previous release: two first-stage rankings, the hand-set reranker over the top 30, the answer rules
TODAY = RetrievalConfig(ranker="rules", sentence_weight=0.0, rerank_depth=30)
RULES = AnswerConfig(selection="rules")
LEARNED = RetrievalConfig(ranker="learned")
BASELINES = {
    "lexical (FTS5 BM25)": RetrievalConfig(mode="lexical", rerank_depth=0, expand=False, split_parts=False),
    "dense (MiniLM, exact)": RetrievalConfig(mode="dense", rerank_depth=0, split_parts=False),
    "hybrid RRF: dense + lexical": RetrievalConfig(rerank_depth=0, sentence_weight=0.0, split_parts=False),
    "hybrid RRF: dense + lexical + sentences": RetrievalConfig(rerank_depth=0, split_parts=False),
}


def sliced(items: list, limit: int | None) -> list:
    """Every k-th item, about `limit` of them (so that a slice still holds every group)."""
    return items if not limit or limit >= len(items) else items[:: max(1, len(items) // limit)][:limit]


def log(m: str) -> None:
    print(m, file=sys.stderr, flush=True)


def workspace_like(ws: Workspace, **kw) -> Workspace:
    """Another configuration over the same loaded index and encoder."""
    w = Workspace(ws.paths, **kw)
    w.__dict__["index"] = ws.index
    w.__dict__["query_embedder"] = ws.query_embedder
    return w


# -- the independent baseline ---------------------------------------------------------------
class Bm25sBaseline:
    """bm25s over the very same passages (text plus title/section), English stopwords, no stemmer."""

    def __init__(self, index):
        import bm25s

        self.bm25s = bm25s
        self.rows = list(range(1, index.size + 1))
        self.records = index.passages(self.rows)
        ctx = index.contexts()
        corpus = [f"{ctx[r - 1]}\n{self.records[r].text}" for r in self.rows]
        self.model = bm25s.BM25()
        self.model.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)

    def search(self, query: str, k: int) -> list[Hit]:
        k = min(k, len(self.rows))
        docs, scores = self.model.retrieve(
            self.bm25s.tokenize([query], stopwords="en", show_progress=False), k=k, show_progress=False
        )
        return [Hit(self.records[int(d) + 1], float(s)) for d, s in zip(docs[0], scores[0])]


# -- rows --------------------------------------------------------------------------------------
COLUMNS = ("top 5", "MRR", "answer precision", "answerable answered", "unanswerable abstained")


def q_cells(rep, prefix: str) -> dict:
    return {
        f"{prefix} top 5": f"{rep.hits_at['@5']}/{rep.n_answerable}",
        f"{prefix} MRR": rep.mrr,
        f"{prefix} answer precision": rep.answer_precision,
        f"{prefix} answered": f"{rep.answered_correct}/{rep.n_answerable}",
        f"{prefix} abstained": f"{rep.abstained_correct}/{rep.n_unanswerable}",
    }


def retrieval_cells(hits_of, questions, prefix: str) -> dict:
    answerable = [q for q in questions if q.answerable]
    r5 = mrr = 0.0
    for q in answerable:
        rank = first_gold_rank(hits_of(q.question), q.evidence)
        r5 += rank is not None and rank <= 5
        mrr += 1 / rank if rank else 0.0
    n = len(answerable)
    return {
        f"{prefix} top 5": f"{int(r5)}/{n}",
        f"{prefix} MRR": mrr / n,
        f"{prefix} answer precision": None,
        f"{prefix} answered": None,
        f"{prefix} abstained": None,
    }


def shape_cells(rep, prefix: str) -> dict:
    """What an answer looks like to a reader: primary source first (when a primary gold quote exists), for
    answers quoting only secondary sources the primary gold among the passages listed to check them against,
    answers quoting another year than asked, repeated quotes."""
    share = rep.primary_first / rep.primary_gold_answered if rep.primary_gold_answered else 0.0
    return {
        f"{prefix} primary first": f"{rep.primary_first}/{rep.primary_gold_answered} ({share:.0%})",
        f"{prefix} secondary-only: primary gold listed to check": (
            f"{rep.primary_gold_listed}/{rep.secondary_only_primary_gold}"
        ),
        f"{prefix} other-year answers": rep.other_year_answers,
        f"{prefix} duplicate quotes": rep.duplicate_quotes,
        f"{prefix} answer precision": rep.answer_precision,
    }


def c_cells(rep: dict, prefix: str) -> dict:
    return {
        f"{prefix} accuracy": rep["accuracy"],
        f"{prefix} contradicted recall": rep["contradicted recall"],
        f"{prefix} not_in_corpus called supported": rep["not_in_corpus called supported"],
    }


def per_group(answers, mined, doc_text) -> dict:
    out = {}
    for g in sorted({m.group for m in mined}):
        part = [m for m in mined if m.group == g]
        rep = report_of(answers, part, doc_text)
        out[g] = (
            f"{rep.hits_at['@5']}/{rep.n_answerable} · {rep.mrr:.2f} · "
            f"{rep.answered_correct}/{rep.n_answerable} · {rep.abstained_correct}/{rep.n_unanswerable}"
        )
    return out


# -- SciFact -------------------------------------------------------------------------------------
def parse_abstract(printed: str) -> list[str]:
    """SciFact's abstracts are printed lists of strings, newline-separated without commas."""
    fixed = re.sub(r"(['\"])\s*\n\s*(['\"])", r"\1, \2", printed.strip())
    return [s.strip() for s in ast.literal_eval(fixed)]


def scifact_corpus(folder: Path, limit_docs: set[str] | None) -> Manifest:
    """Write each abstract as a text document (title, blank line, its sentences) and a manifest."""
    docs = folder / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    sources = []
    csv.field_size_limit(10**8)
    with open(SHARED / "eval/scifact/corpus_train.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if limit_docs is not None and r["doc_id"] not in limit_docs:
                continue
            p = docs / f"{r['doc_id']}.txt"
            p.write_text(
                r["title"].strip() + "\n\n" + "\n".join(parse_abstract(r["abstract"])) + "\n", encoding="utf-8"
            )
            sources.append(
                Source(
                    id=f"sf-{r['doc_id']}",
                    file=p.name,
                    title=r["title"].strip()[:200],
                    publisher="SciFact",
                    date="2020",
                    format="text",
                    sha256=sha256_file(p),
                )
            )
    m = Manifest(folder / "sources.toml", tuple(sources), documents="docs")
    save_manifest(m)
    return m


def scifact_claims(limit: int | None) -> list[dict]:
    by_id: dict[str, dict] = {}
    with open(SHARED / "eval/scifact/claims_train.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            c = by_id.setdefault(r["id"], {"id": r["id"], "claim": r["claim"], "cited": set()})
            c["cited"] |= set(re.findall(r"\d+", r["cited_doc_ids"] or ""))
    claims = list(by_id.values())
    return claims[:limit] if limit else claims


def doc_ranking(hits: list[Hit]) -> list[str]:
    seen: list[str] = []
    for h in hits:
        d = h.passage.source_id.removeprefix("sf-")
        if d not in seen:
            seen.append(d)
    return seen


def ndcg10(ranked: list[str], relevant: set[str]) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    return dcg / idcg if idcg else 0.0


def scifact_rows(sws: Workspace, claims: list[dict], shipped: Judgment) -> list[dict]:
    """nDCG@10 on the held-out third (every third claim by id order); the SciFact-fitted ranker sees the rest."""
    from ncmec_qa.learn.mining import Example, MinedQuestion, Pool
    from ncmec_qa.learn.replay import replay_hits
    from ncmec_qa.learn.train import fit_ranker

    claims = sorted(claims, key=lambda c: int(c["id"]))
    test = [c for i, c in enumerate(claims) if i % 3 == 2]
    fit = [c for i, c in enumerate(claims) if i % 3 != 2]
    r = sws.first_stage()
    depth = replace(LEARNED, depth=100, rerank_depth=100, split_parts=False)
    r.cfg = depth
    log(f"SciFact: mining {len(claims)} claims")

    def mined(c):
        cands = r.candidates(c["claim"], sws.embed_query(c["claim"]))
        gold = [cand.passage.source_id.removeprefix("sf-") in c["cited"] for cand in cands]
        return MinedQuestion(Example(c["id"], c["claim"], "scifact"), Pool(r.query_terms(c["claim"]), cands, gold))

    m_fit, m_test = [mined(c) for c in fit], [mined(c) for c in test]
    sf_ranker = fit_ranker(m_fit, TrainConfig(depth=100))
    bm = Bm25sBaseline(sws.index)
    rows = []
    searchers = {"baseline: bm25s": lambda m: bm.search(m.example.text, 300)}
    for name, cfg in BASELINES.items():
        w = workspace_like(sws, retrieval=replace(cfg, depth=300))
        searchers[name] = lambda m, w=w: w.search(m.example.text, k=300)
    searchers["hand-set reranker (previous release)"] = lambda m: _rules_hits(m, depth)
    searchers["learned ranker, fitted on our training questions (shipped)"] = lambda m: replay_hits(
        m, shipped.ranker, depth, 100
    )
    searchers["learned ranker, fitted on SciFact's other two thirds"] = lambda m: replay_hits(m, sf_ranker, depth, 100)
    for name, search in searchers.items():
        t0 = time.perf_counter()
        nd = sum(ndcg10(doc_ranking(search(m)), next(c for c in test if c["id"] == m.id)["cited"]) for m in m_test)
        rows.append(
            {
                "config": name,
                "nDCG@10 (held-out third)": nd / len(m_test),
                "ms/claim": 1000 * (time.perf_counter() - t0) / len(m_test),
            }
        )
    return rows


def _rules_hits(m, cfg):
    from ncmec_qa.learn.replay import replay_hits
    from ncmec_qa.search.retrieval import config_ranker

    rules = replace(cfg, ranker="rules")
    return replay_hits(m, config_ranker(rules, None), rules, 100)


# -- output -----------------------------------------------------------------------------------
def versions() -> str:
    from importlib.metadata import version

    names = ["sentence-transformers", "torch", "scikit-learn", "onnxruntime", "bm25s", "pysbd"]
    return ", ".join(f"{n} {version(n)}" for n in names) + f", Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, help="An index of the reference corpus to reuse (default: build one)")
    ap.add_argument("--model", default=None, help="Embedding model (default: the bundled MiniLM)")
    ap.add_argument("--train", type=Path, default=SHARED / "train")
    ap.add_argument("--dev", type=Path, default=SHARED / "eval")
    ap.add_argument("--limit", type=int, default=None, help="Only the first N training questions and claims (a slice)")
    ap.add_argument("--scifact-limit", type=int, default=None, help="Only the first N SciFact claims")
    ap.add_argument(
        "--scifact-docs", type=int, default=None, help="Cap the SciFact corpus at N abstracts (cited ones kept)"
    )
    ap.add_argument("--no-scifact", action="store_true")
    ap.add_argument(
        "--no-cross-encoder", action="store_true", help="Skip the cross-encoder rows (they take the longest)"
    )
    ap.add_argument(
        "--output", type=Path, default=ROOT / "docs" / "benchmarks.md", help="the file whose section is replaced"
    )
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument(
        "--work",
        type=Path,
        default=None,
        help="Folder for the documents, indexes and cross-encoder folds the run builds (default: a new "
        "temporary folder); a second run with the same folder rebuilds only what changed.",
    )
    args = ap.parse_args()
    cmd = "python bench/quality.py " + " ".join(sys.argv[1:])
    tmp = args.work or Path(tempfile.mkdtemp(prefix="ncmec-qa-quality-"))
    tmp.mkdir(parents=True, exist_ok=True)
    log(f"working folder: {tmp}")
    started = time.perf_counter()

    ws = Workspace.open(corpus=ROOT / "corpus/sources.toml", index=args.index or tmp / "ref-index", model=args.model)
    if not args.index:
        log("building the reference index …")
        ws.build(log=log)
    doc_text = ws.index.document_text_of_file
    replayer = Replayer(ws.sources(), ws.document_text)
    tq = sliced(load_examples(args.train / "questions.jsonl"), args.limit)
    tc = sliced(load_examples(args.train / "claims.jsonl"), args.limit)
    dq = load_examples(args.dev / "questions.jsonl")
    dc = load_examples(args.dev / "claims.jsonl")
    dev_questions = load_questions(args.dev / "questions.jsonl")
    train_questions = sliced(load_questions(args.train / "questions.jsonl"), args.limit)
    log(f"mining {len(tq)} training and {len(dq)} dev questions")
    m_train, m_dev = mine_questions(ws, tq), mine_questions(ws, dq)

    q_rows: list[dict] = []
    # first-stage baselines and bm25s: retrieval only
    bm = Bm25sBaseline(ws.index)
    q_rows.append(
        {
            "config": "baseline: bm25s",
            **retrieval_cells(lambda q: bm.search(q, 10), train_questions, "train"),
            **retrieval_cells(lambda q: bm.search(q, 10), dev_questions, "dev"),
        }
    )
    for name, cfg in BASELINES.items():
        w = workspace_like(ws, retrieval=cfg)
        q_rows.append(
            {
                "config": name,
                **retrieval_cells(lambda q, w=w: w.search(q), train_questions, "train"),
                **retrieval_cells(lambda q, w=w: w.search(q), dev_questions, "dev"),
            }
        )
    # the previous release: fitted on dev, nothing to refit
    today = workspace_like(ws, retrieval=TODAY, answering=RULES)
    kinds = {s.file: s.kind for s in ws.manifest.sources}
    shapes: list[dict] = []
    for name, w in (("previous release (fitted on dev)", today), ("shipped models (fitted on all of train)", ws)):
        reps = {
            part: evaluate(qs, w.ask, doc_text, kind_of_file=lambda f: kinds.get(f, "primary"))
            for part, qs in (("train", train_questions), ("dev", dev_questions))
        }
        shapes.append({"config": name, **{k: v for part, r in reps.items() for k, v in shape_cells(r, part).items()}})
        if w is today:
            q_rows.append(
                {
                    "config": "previous release: hand-set reranker and answer rules (fitted on dev)",
                    **q_cells(reps["train"], "train"),
                    **q_cells(reps["dev"], "dev"),
                }
            )
    configs = {
        "learned ranker, selector and abstainer (default)": TrainConfig(),
        "the same, weights unconstrained in sign": TrainConfig(abstainer_signs=False, selector_signs=False),
    }
    fitted = {}
    groups: dict[str, dict] = {}
    for name, tcfg in configs.items():
        log(f"fitting: {name}")
        qm = fit_question_models(m_train, replayer, tcfg, log)
        fitted[name] = qm
        final = Judgment(qm.ranker, qm.selector, qm.abstainer, load_judgment().verdict)
        cv = cv_answers(qm, m_train, replayer, LEARNED, tcfg.answering)
        if name.endswith("(default)"):
            # the old rules' min_evidence is a score of the hand-set reranker: not comparable, so not applied
            old_rules = replace(RULES, min_evidence=float("-inf"))
            rules_cv = cv_answers(qm, m_train, replayer, LEARNED, old_rules)
            q_rows.append(
                {
                    "config": "learned ranker, answer rules of the previous release (without min_evidence)",
                    **q_cells(report_of(rules_cv, m_train, doc_text), "train"),
                    **q_cells(
                        report_of(answers_by(final, m_dev, replayer, LEARNED, old_rules), m_dev, doc_text), "dev"
                    ),
                }
            )
            groups["previous release"] = per_group({q.text: today.ask(q.text) for q in tq}, m_train, doc_text)
            groups["default"] = per_group(cv, m_train, doc_text)
        q_rows.append(
            {
                "config": name,
                **q_cells(report_of(cv, m_train, doc_text), "train"),
                **q_cells(
                    report_of(answers_by(final, m_dev, replayer, LEARNED, tcfg.answering), m_dev, doc_text), "dev"
                ),
            }
        )
    default = fitted["learned ranker, selector and abstainer (default)"]
    if not args.no_cross_encoder:
        from cross_encoder import cross_encoder_rows

        q_rows.extend(cross_encoder_rows(ws, m_train, m_dev, replayer, default, tmp / "cross-encoder", log))

    # claims
    log(f"claims: {len(tc)} training, {len(dc)} dev")
    w_today = workspace_like(ws, retrieval=TODAY)
    rules_cfg = VerifyConfig(verdict="rules")
    mc_today = mine_claims(w_today, tc, cfg=rules_cfg)
    judged = Judgment(default.ranker, default.selector, default.abstainer, load_judgment().verdict)
    w_learned = workspace_like(ws, retrieval=LEARNED, judgment=judged)
    mc = mine_claims(w_learned, tc)
    verdict, vrep = fit_verdict_model(mc, log=log)
    w_final = workspace_like(ws, retrieval=LEARNED, judgment=replace(judged, verdict=verdict))

    def dev_claims(w, cfg):
        # the dev claims taken from the seed article are judged against the primary documents (eval/README)
        return verdict_report(
            [c.label for c in dc], [verify_claim(w, c.text, cfg=cfg, exclude={SEED}).verdict for c in dc]
        )

    c_rows = [
        {
            "config": "previous release: verdict rules (fitted on dev)",
            **c_cells(
                verdict_report([c.example.label for c in mc_today], [c.assessment.verdict for c in mc_today]), "train"
            ),
            **c_cells(dev_claims(w_today, rules_cfg), "dev"),
        },
        {
            "config": "learned verdict over the rules' assessment (default)",
            **c_cells(vrep["cv"], "train"),
            **c_cells(dev_claims(w_final, VerifyConfig()), "dev"),
        },
    ]
    shipped = load_judgment()
    final = Judgment(default.ranker, default.selector, default.abstainer, verdict)
    same = same_models(final, shipped)
    ab = default.report["abstainer"]
    sections = [
        f"## Retrieval, answer and verdict quality\n\nProduced by `{cmd.strip()}` on {dt.date.today()} "
        f"({os.cpu_count()} CPUs; {versions()}; {time.perf_counter() - started:.0f} s before SciFact).\n",
        f"### Questions\n\nTrain: {len(tq)} questions ({sum(q.answerable for q in tq)} answerable), each answered by the "
        "models fitted without its group (six folds, pooled). Dev: "
        f"{len(dq)} questions ({sum(q.answerable for q in dq)} answerable), answered by the models fitted on all training "
        "questions. Top 5: answerable questions with a gold passage in the first five; answer precision: share of quoted "
        "units that overlap a gold quote by half the shorter of the two; answered / abstained: correct decisions.\n\n"
        + table(q_rows)
        + "\n",
        "### Answer shape\n\nEvery question asked through the real query path (`Workspace.ask`). Primary first: "
        "answered answerable questions with a gold quote from a primary source whose first quote is from a primary "
        "source (target at least 90 %); secondary-only: of those answers that quote only secondary sources, how many "
        "list a passage holding a primary gold quote among the primary passages to check them against (no model "
        "decides that list: the nearest primary passages to the question and each quote); other-year answers: answers to a question naming a year that quote evidence for "
        "other years only (target 0); duplicate quotes: answer sentences repeating another of the same answer "
        "(target 0). The shipped models are fitted on all of train, so their train column is in-sample; dev is "
        "held out.\n\n" + table(shapes) + "\n",
        "Per held-out group (top 5 · MRR · answered · abstained):\n\n"
        + table([{"config": k, **v} for k, v in groups.items()])
        + "\n",
        "### Abstention: calibration of the default (out-of-fold, train)\n\nThe abstainer estimates the probability "
        "that the chosen evidence answers the question (the question is answerable and a quoted unit overlaps a gold "
        f"quote: {ab['evidence_answers']} of {len(m_train)} training questions with the fold models). AUC "
        f"{ab['cv_auc']:.3f} for that, {ab['cv_auc_answerable']:.3f} for answerable against unanswerable. Threshold "
        f"{ab['cv']['threshold']:.2f}: the lowest at which the out-of-fold answers given hold gold evidence at least "
        f"{ab['precision_target']:.0%} of the time.\n\n"
        + table(
            [
                {
                    "predicted": r["predicted"],
                    "questions": r["questions"],
                    "mean predicted": r["mean predicted"],
                    "observed: the evidence answers": r["observed"],
                }
                for r in reliability(default.oof_probability, default.oof_answers)
            ]
        )
        + "\n\nThe trade-off (out-of-fold, train):\n\n"
        + table(ab["curve"])
        + "\n",
        "### Claims\n\nTrain: "
        + f"{len(tc)} claims, cross-validated by group; dev: {len(dc)} claims.\n\n"
        + table(c_rows)
        + "\n",
        "The shipped models (`src/ncmec_qa/learn/params/`) "
        + (
            "are the default configuration refitted here: identical."
            if not same
            else f"differ from the default refitted here ({same}); run `ncmec-qa train`."
        )
        + "\n",
    ]
    if not args.no_scifact:
        claims = scifact_claims(args.scifact_limit)
        keep = None
        if args.scifact_docs:
            keep = set().union(*(c["cited"] for c in claims))
            with open(SHARED / "eval/scifact/corpus_train.csv", newline="", encoding="utf-8") as f:
                for r in csv.DictReader(f):
                    if len(keep) >= args.scifact_docs:
                        break
                    keep.add(r["doc_id"])
        m = scifact_corpus(tmp / "scifact", keep)
        sws = Workspace.open(corpus=m.path, index=tmp / "scifact-index", model=args.model, judgment=shipped)
        log(f"building the SciFact index ({len(m.sources)} abstracts) …")
        sws.build(log=log)
        sf = scifact_rows(sws, claims, shipped)
        sections.append(
            f"### SciFact (training claims: {len(claims)}, every third held out; corpus: {len(m.sources)} abstracts)\n\n"
            "Relevant = the claim's cited abstracts. Reference (BEIR, test claims): BM25 0.665 nDCG@10; "
            "all-MiniLM-L6-v2 alone about 0.65; a BM25 + dense hybrid about 0.71.\n\n" + table(sf) + "\n"
        )
    text = "\n".join(sections)
    print(text)
    if not args.no_write:
        write_section("quality", text, args.output)
        log(f"wrote the quality section of {args.output}")
    if args.work is None:
        ws.index.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
