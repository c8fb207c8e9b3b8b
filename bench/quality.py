"""Retrieval and answer quality, every configuration and baseline measured in one run.

    python bench/quality.py                 # dev questions + SciFact; writes docs/benchmarks.md
    python bench/quality.py --scifact-limit 300 --no-write   # a quicker look
    python bench/quality.py --work bench/.work   # keep the indexes; the next run re-embeds nothing unchanged

Configurations compare, on the same passages: lexical only (SQLite FTS5 BM25), dense
only (MiniLM, exact search), the RRF hybrid, the hybrid with query rewriting, then the
reranker one feature at a time, two-part questions searched part by part, and the terms for
questions that ask how many (the last row is the default), beside an independent BM25
baseline from bm25s (which the project does not use for its own lexical index). On the dev
questions the default also runs on a second index whose table pages are chunked as prose
(the chunking before version 3), and without the rule that a how-many answer's amount must
share a word with the question. SciFact abstracts are indexed through the normal loaders
and pipeline: an adapter writes each abstract as a plain-text document with a manifest record.
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

from ncmec_qa.answering import AnswerConfig  # noqa: E402
from ncmec_qa.chunking import ChunkConfig  # noqa: E402
from ncmec_qa.evaluation import evaluate, first_gold_rank, load_questions, ndcg_at  # noqa: E402
from ncmec_qa.manifest import Manifest, save_manifest, sha256_file  # noqa: E402
from ncmec_qa.models import Hit, Source  # noqa: E402
from ncmec_qa.retrieval import RetrievalConfig  # noqa: E402
from ncmec_qa.workspace import Workspace  # noqa: E402

from report import table, write_section  # noqa: E402

SHARED = ROOT.parent / "shared"
DEFAULT = RetrievalConfig()
TEXT_ONLY = replace(DEFAULT, w_amount=0.0, w_named=0.0)  # the reranker before its how-many terms
CONFIGS: dict[str, RetrievalConfig] = {
    # one ranking per question, as the retrievers give it
    "lexical (FTS5 BM25)": RetrievalConfig(mode="lexical", rerank_depth=0, expand=False, split_parts=False),
    "dense (MiniLM, exact)": RetrievalConfig(mode="dense", rerank_depth=0, split_parts=False),
    "hybrid RRF k=60": RetrievalConfig(mode="hybrid", rerank_depth=0, expand=False, split_parts=False),
    "hybrid RRF + query rewriting": RetrievalConfig(mode="hybrid", rerank_depth=0, expand=True, split_parts=False),
    "+ rerank: cosines, coverage of the text": replace(TEXT_ONLY, w_year=0.0, coverage_context=False,
                                                      w_sentence_words=0.0, split_parts=False),
    "+ coverage of title and section": replace(TEXT_ONLY, w_year=0.0, w_sentence_words=0.0, split_parts=False),
    "+ years named": replace(TEXT_ONLY, w_sentence_words=0.0, split_parts=False),
    "+ best sentence by cosine and words": replace(TEXT_ONLY, split_parts=False),
    "+ two-part questions split, every part's passages": replace(TEXT_ONLY, part_min_score=float("-inf")),
    "+ two-part questions split": TEXT_ONLY,
    "+ how many: tables, then amounts, first": replace(DEFAULT, w_named=0.0),
    "+ how many: the line naming the question's name (default)": DEFAULT,
}
# Chunking is a property of the index: the dev table also shows the default configuration on an
# index whose table pages are chunked as prose (ChunkConfig before version 3).
PROSE_TABLES = ChunkConfig(table_min_lines=10**9)


# -- the independent baseline ---------------------------------------------------------------
class Bm25sBaseline:
    """bm25s over the very same passages (text plus title/section), English stopwords, no stemmer."""

    def __init__(self, index):
        import bm25s

        self.bm25s = bm25s
        self.index = index
        self.rows = list(range(1, index.size + 1))
        recs = index.passages(self.rows)
        ctx = index.contexts()
        corpus = [f"{ctx[r - 1]}\n{recs[r].text}" for r in self.rows]
        self.records = recs
        self.model = bm25s.BM25()
        self.model.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)

    def search(self, query: str, k: int) -> list[Hit]:
        k = min(k, len(self.rows))
        docs, scores = self.model.retrieve(self.bm25s.tokenize([query], stopwords="en", show_progress=False),
                                           k=k, show_progress=False)
        return [Hit(self.records[int(d) + 1], float(s)) for d, s in zip(docs[0], scores[0])]


# -- our questions ----------------------------------------------------------------------------
def dev_row(name: str, ws: Workspace, cfg: RetrievalConfig, questions, answering: AnswerConfig | None = None) -> dict:
    w = Workspace(ws.paths, retrieval=cfg, answering=answering or ws.answering)
    w.__dict__["index"] = ws.index
    w.__dict__["query_embedder"] = ws.query_embedder
    rep = evaluate(questions, lambda q: w.ask(q))
    return {"config": name, "r@1": rep.hits_at["@1"], "r@5": rep.hits_at["@5"], "r@10": rep.hits_at["@10"],
            "MRR": rep.mrr, "nDCG@10": rep.ndcg10, "answered": rep.answered_correct,
            "abstained": rep.abstained_correct, "answer precision": rep.answer_precision}


def dev_rows(ws: Workspace, questions, baseline, prose_ws: Workspace | None = None) -> list[dict]:
    answerable = [q for q in questions if q.answerable]
    rows = [dev_row(name, ws, cfg, questions) for name, cfg in CONFIGS.items()]
    if prose_ws is not None:
        rows.insert(len(rows) - 1, dev_row("default, but table pages chunked as prose", prose_ws, DEFAULT, questions))
    rows.insert(len(rows) - 1, dev_row("default, but any amount answers a how-many question", ws, DEFAULT, questions,
                                       replace(ws.answering, quantity_words=False)))
    r1 = r5 = r10 = 0
    mrr = nd = 0.0
    for q in answerable:
        hits = baseline.search(q.question, 10)
        rank = first_gold_rank(hits, q.evidence)
        r1 += rank == 1
        r5 += rank is not None and rank <= 5
        r10 += rank is not None
        mrr += 1 / rank if rank else 0
        nd += ndcg_at(hits, q.evidence)
    n = len(answerable)
    rows.insert(0, {"config": "baseline: bm25s", "r@1": r1, "r@5": r5, "r@10": r10, "MRR": mrr / n, "nDCG@10": nd / n,
                    "answered": None, "abstained": None, "answer precision": None})
    return rows


def abstention_curve(ws: Workspace, questions, thresholds) -> list[dict]:
    """Per `min_evidence` threshold: how many questions are answered (coverage), how many of those are
    answerable (precision), and the correct decisions, the other checks (years, numbers) unchanged."""
    w = Workspace(ws.paths, retrieval=ws.retrieval, answering=replace(ws.answering, min_evidence=0.0))
    w.__dict__["index"] = ws.index
    w.__dict__["query_embedder"] = ws.query_embedder
    asks = [(q, w.ask(q.question)) for q in questions]
    out = []
    for t in thresholds:
        answered = [q for q, a in asks if a.answered and a.passages and a.passages[0].score >= t]
        ok_ans = sum(q.answerable for q in answered)
        abst_ok = sum(not q.answerable for q in questions) - (len(answered) - ok_ans)
        out.append({"min_evidence": t, "answered": len(answered), "answerable answered": ok_ans,
                    "unanswerable abstained": abst_ok, "correct decisions": ok_ans + abst_ok,
                    "coverage": len(answered) / len(asks), "precision": ok_ans / len(answered) if answered else 1.0})
    return out


# -- SciFact ----------------------------------------------------------------------------------
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
            sentences = parse_abstract(r["abstract"])
            p = docs / f"{r['doc_id']}.txt"
            p.write_text(r["title"].strip() + "\n\n" + "\n".join(sentences) + "\n", encoding="utf-8")
            sources.append(Source(id=f"sf-{r['doc_id']}", file=p.name, title=r["title"].strip()[:200],
                                  publisher="SciFact", date="2020", format="text", sha256=sha256_file(p)))
    m = Manifest(folder / "sources.toml", tuple(sources), documents="docs")
    save_manifest(m)
    return m


def scifact_claims(limit: int | None) -> list[dict]:
    by_id: dict[str, dict] = {}
    with open(SHARED / "eval/scifact/claims_train.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            c = by_id.setdefault(r["id"], {"claim": r["claim"], "cited": set(), "evidence": {}})
            c["cited"] |= set(re.findall(r"\d+", r["cited_doc_ids"] or ""))
            if r["evidence_doc_id"]:
                doc = str(int(float(r["evidence_doc_id"])))
                c["evidence"][doc] = [int(x) for x in re.findall(r"\d+", r["evidence_sentences"] or "")]
    claims = list(by_id.values())
    return claims[:limit] if limit else claims


def doc_ranking(hits: list[Hit]) -> list[str]:
    seen: list[str] = []
    for h in hits:
        d = h.passage.source_id.removeprefix("sf-")
        if d not in seen:
            seen.append(d)
    return seen


def doc_metrics(ranked: list[str], relevant: set[str]) -> tuple[float, float, float]:
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    r10 = len(set(ranked[:10]) & relevant) / len(relevant)
    r100 = len(set(ranked[:100]) & relevant) / len(relevant)
    return dcg / idcg, r10, r100


def scifact_rows(ws: Workspace, claims, baseline) -> list[dict]:
    rows = []
    searchers = {"baseline: bm25s": lambda q: baseline.search(q, 300)}
    for name, cfg in CONFIGS.items():
        w = Workspace(ws.paths, retrieval=replace(cfg, depth=300))
        w.__dict__["index"] = ws.index
        w.__dict__["query_embedder"] = ws.query_embedder
        searchers[name] = lambda q, w=w: w.search(q, k=300)
    for name, search in searchers.items():
        t0 = time.perf_counter()
        tot = [0.0, 0.0, 0.0]
        for c in claims:
            m = doc_metrics(doc_ranking(search(c["claim"])), c["cited"])
            tot = [a + b for a, b in zip(tot, m)]
        n = len(claims)
        rows.append({"config": name, "nDCG@10": tot[0] / n, "recall@10": tot[1] / n, "recall@100": tot[2] / n,
                     "ms/query": 1000 * (time.perf_counter() - t0) / n})
    return rows


def rationale_selection(ws: Workspace, claims) -> dict:
    """For claims with evidence: are the best-scoring sentences of the right abstract its rationales?"""
    import numpy as np

    hit1 = total = 0
    for c in claims:
        for doc, rationale in c["evidence"].items():
            if not rationale:
                continue
            sid = f"sf-{doc}"
            text = ws.index.document_text(sid)
            if text is None:
                continue
            qv = ws.embed_query(c["claim"])
            rows = [r for (r,) in ws.index.db.execute("SELECT rowid FROM passages WHERE source_id = ?", (sid,))]
            recs = ws.index.passages(rows)
            best: dict[tuple[int, int], float] = {}
            for p in recs.values():
                for s, cos in zip(p.sentences, ws.retriever.sentence_cosines(qv, p)):
                    best[(s.start, s.end)] = max(best.get((s.start, s.end), -1.0), float(cos))
            if not best:
                continue
            # the abstract's sentences are its lines after the title
            lines, pos = [], text.index("\n\n") + 2
            for ln in text[pos:].split("\n"):
                lines.append((pos, pos + len(ln)))
                pos += len(ln) + 1
            top = max(best, key=best.get)
            idx = next((i for i, (a, b) in enumerate(lines) if a <= top[0] < b), None)
            hit1 += idx in rationale
            total += 1
    return {"claims with rationales": total, "top sentence is a rationale": hit1, "precision@1": hit1 / total if total else 0.0}


# -- output -----------------------------------------------------------------------------------


def versions() -> str:
    from importlib.metadata import version

    names = ["sentence-transformers", "torch", "faiss-cpu", "onnxruntime", "bm25s", "pysbd"]
    return ", ".join(f"{n} {version(n)}" for n in names) + f", Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, help="An index of the reference corpus to reuse (default: build one)")
    ap.add_argument("--model", default=None, help="Embedding model (default: the bundled MiniLM)")
    ap.add_argument("--questions", type=Path, default=SHARED / "eval/questions.jsonl")
    ap.add_argument("--scifact-limit", type=int, default=None, help="Only the first N claims (and their cited abstracts plus distractors)")
    ap.add_argument("--scifact-docs", type=int, default=None, help="Cap the SciFact corpus at N abstracts (cited ones kept)")
    ap.add_argument("--no-scifact", action="store_true")
    ap.add_argument("--no-chunking-row", action="store_true", help="skip the index whose tables are chunked as prose")
    ap.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md", help="the file whose section is replaced")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--work", type=Path, default=None,
                    help="Folder for the documents and indexes the run builds (default: a new temporary folder). "
                         "The builds are incremental, so a second run with the same folder embeds only what changed.")
    args = ap.parse_args()
    cmd = "python bench/quality.py " + " ".join(sys.argv[1:])
    tmp = args.work or Path(tempfile.mkdtemp(prefix="ncmec-qa-quality-"))
    tmp.mkdir(parents=True, exist_ok=True)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    log(f"working folder: {tmp}")

    ws = Workspace.open(corpus=ROOT / "corpus/sources.toml", index=args.index or tmp / "ref-index", model=args.model)
    if not args.index:
        log("building the reference index …")
        ws.build(log=log)
    questions = load_questions(args.questions)
    prose_ws = sws = None
    if not args.no_chunking_row:
        prose_ws = Workspace.open(corpus=ROOT / "corpus/sources.toml", index=tmp / "prose-tables-index", model=args.model,
                                  chunking=PROSE_TABLES)
        log("building the reference index with table pages chunked as prose …")
        prose_ws.build(log=log)
    dev = dev_rows(ws, questions, Bm25sBaseline(ws.index), prose_ws)
    curve = abstention_curve(ws, questions, [0.0, 0.90, 0.94, 0.96, 0.97, 0.98, 0.99, 1.0, 1.01, 1.02, 1.05, 1.1])
    sections = [
        f"## Retrieval and answer quality\n\nProduced by `{cmd.strip()}` on {dt.date.today()} "
        f"({os.cpu_count()} CPUs; {versions()}).\n",
        f"### Dev questions ({args.questions.name}: {sum(q.answerable for q in questions)} answerable, "
        f"{sum(not q.answerable for q in questions)} unanswerable)\n\nr@k counts answerable questions with a gold passage "
        "in the top k; answered/abstained count correct decisions.\n\n" + table(dev) + "\n",
        "### Abstention threshold (default configuration)\n\nThe answer is withheld when the best passage's reranked "
        "score is below `min_evidence` (besides the year and number checks).\n\n" + table(curve) + "\n",
    ]
    if not args.no_scifact:
        claims = scifact_claims(args.scifact_limit)
        keep = None
        if args.scifact_docs:
            keep = set().union(*(c["cited"] for c in claims)) | set(str(i) for i in range(0))
            with open(SHARED / "eval/scifact/corpus_train.csv", newline="", encoding="utf-8") as f:
                for r in csv.DictReader(f):
                    if len(keep) >= args.scifact_docs:
                        break
                    keep.add(r["doc_id"])
        m = scifact_corpus(tmp / "scifact", keep)
        sws = Workspace.open(corpus=m.path, index=tmp / "scifact-index", model=args.model)
        log(f"building the SciFact index ({len(m.sources)} abstracts) …")
        t0 = time.perf_counter()
        rep = sws.build(log=log)
        log(f"SciFact index: {rep.passages} passages in {time.perf_counter() - t0:.0f} s")
        sf = scifact_rows(sws, claims, Bm25sBaseline(sws.index))
        sel = rationale_selection(sws, claims)
        sections.append(
            f"### SciFact (training claims: {len(claims)}; corpus: {len(m.sources)} abstracts)\n\nRelevant = the claim's "
            "cited abstracts. Reference (BEIR, test claims): BM25 0.665 nDCG@10; all-MiniLM-L6-v2 alone about 0.65; "
            "a BM25 + dense hybrid about 0.71.\n\n" + table(sf) + "\n\nEvidence sentences: of "
            f"{sel['claims with rationales']} claim–abstract pairs with annotated rationales, the abstract's best-scoring "
            f"sentence is a rationale in {sel['top sentence is a rationale']} ({sel['precision@1']:.3f}).\n")
    text = "\n".join(sections)
    print(text)
    if not args.no_write:
        write_section("quality", text, args.output)
        log(f"wrote the quality section of {args.output}")
    if args.work is None:
        for w in (ws, prose_ws, sws):
            if w is not None and "index" in w.__dict__:
                w.index.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
