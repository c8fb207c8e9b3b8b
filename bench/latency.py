"""Latency and scale, measured against their baselines in the same run.

    python bench/latency.py            # everything; writes docs/benchmarks-latency.md
    python bench/latency.py --runs 7 --sizes 10000 100000 1000000

1. Cold `ncmec-qa ask` in fresh processes: the ONNX query path vs loading
   sentence-transformers (`--query-encoder model`), median of --runs each, and the ratio.
2. Warm per-question latency in stdin mode: one process answers every dev question;
   the gap between consecutive answers is one question's latency.
3. Same answers: top-5 passages of the two query paths on the 40 dev questions.
4. Build throughput (passages + sentences embedded per second), sentence-transformers
   vs the int8 ONNX encoder, on the same texts.
5. Scale: 10k / 100k / 1M real MiniLM vectors (the reference index's passage and
   sentence vectors, replicated with small noise): build time, open time, query p50/p95
   and recall@10 against exact search, for the index type the project picks at each size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from report import table, write_section  # noqa: E402

SHARED = ROOT.parent / "shared"
CLI = [sys.executable, "-m", "ncmec_qa"]
QUESTION = "Do NCMEC referrals catch downloaders, or only uploaders?"


def cold(args_common: list[str], encoder: str, runs: int) -> list[float]:
    times = []
    env = {**os.environ, "NCMEC_QA_QUERY_ENCODER": encoder, "HF_HUB_OFFLINE": "1"}
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([*CLI, *args_common, "-q", "ask", QUESTION], env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return times


def warm(args_common: list[str], questions: list[str]) -> list[float]:
    """Seconds between consecutive answers when all questions are piped to one process."""
    proc = subprocess.Popen(
        [*CLI, *args_common, "-q", "ask", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.stdin and proc.stdout
    proc.stdin.write("".join(q + "\n" for q in questions))
    proc.stdin.close()
    stamps = [time.perf_counter() for _ in iter(proc.stdout.readline, "")]
    proc.wait()
    return [b - a for a, b in zip(stamps, stamps[1:])]


def same_top5(index: Path, questions: list[str]) -> int:
    from ncmec_qa.workspace import Workspace

    fast = Workspace.open(corpus=ROOT / "corpus/sources.toml", index=index, fast_queries=True)
    ref = Workspace.open(corpus=ROOT / "corpus/sources.toml", index=index, fast_queries=False)
    same = 0
    for q in questions:
        a = [h.passage.passage_id for h in fast.search(q, k=5)]
        b = [h.passage.passage_id for h in ref.search(q, k=5)]
        same += a == b
    return same


def throughput(index: Path, n: int) -> list[dict]:
    from ncmec_qa.index.embedding import SentenceTransformerEmbedder
    from ncmec_qa.index.onnx_encoder import OnnxEncoder
    from ncmec_qa.index.store import Index

    ix = Index(index)
    recs = ix.passages(range(1, min(ix.size, n) + 1))
    texts = [p.text for p in recs.values()] + [s.text for p in recs.values() for s in p.sentences]
    texts = texts[:n]
    rows = []
    st = SentenceTransformerEmbedder()
    st.encode(texts[:8])
    t0 = time.perf_counter()
    ref = st.encode(texts)
    dt_st = time.perf_counter() - t0
    rows.append(
        {
            "embedder": "sentence-transformers (torch)",
            "texts": len(texts),
            "seconds": dt_st,
            "texts/s": len(texts) / dt_st,
            "min cosine vs reference": 1.0,
        }
    )
    enc_dir = ix.path / (ix.meta.get("encoder") or {}).get("dir", "encoder")
    for name in ("encoder.opt.onnx", "encoder.int8.opt.onnx"):
        if not (enc_dir / name).is_file():
            continue
        enc = OnnxEncoder(enc_dir / name, enc_dir / "tokenizer.json", optimize=False)
        enc.encode(texts[:8])
        t0 = time.perf_counter()
        got = enc.encode(texts)
        d = time.perf_counter() - t0
        cos = float(np.min(np.sum(ref * got, axis=1)))
        rows.append(
            {
                "embedder": f"onnxruntime {name}",
                "texts": len(texts),
                "seconds": d,
                "texts/s": len(texts) / d,
                "min cosine vs reference": cos,
            }
        )
    return rows


def scale(index: Path, sizes: list[int], queries: int) -> list[dict]:
    from ncmec_qa.index.store import Index
    from ncmec_qa.index.vectors import FlatIndex, build_vector_index, open_vector_index

    ix = Index(index)
    base = np.vstack([np.asarray(ix.vectors), np.asarray(ix.sentence_vectors)]).astype(np.float32)
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        reps = int(np.ceil(n / len(base)))
        vecs = np.vstack([base + rng.normal(scale=0.02, size=base.shape).astype(np.float32) for _ in range(reps)])[:n]
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        with tempfile.TemporaryDirectory() as d:
            folder = Path(d)
            np.save(folder / "vectors.npy", vecs)
            t0 = time.perf_counter()
            kind = build_vector_index(vecs, folder, {})
            build_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            mm = np.load(folder / "vectors.npy", mmap_mode="r")
            vi = open_vector_index(folder, mm, kind)
            vi.search(base[0], 10)
            open_s = time.perf_counter() - t0
            exact = FlatIndex(vecs, {})
            qs = base[rng.choice(len(base), queries, replace=False)] + rng.normal(
                scale=0.05, size=(queries, base.shape[1])
            ).astype(np.float32)
            qs /= np.linalg.norm(qs, axis=1, keepdims=True)
            lat, rec = [], []
            for q in qs:
                t0 = time.perf_counter()
                got = [r for r, _ in vi.search(q, 10)]
                lat.append(time.perf_counter() - t0)
                truth = [r for r, _ in exact.search(q, 10)]
                rec.append(len(set(got) & set(truth)) / 10)
            lat.sort()
            rows.append(
                {
                    "vectors": n,
                    "index": kind["type"]
                    + (f" (nlist {kind['nlist']}, nprobe {kind['nprobe']})" if kind["type"] == "ivf" else ""),
                    "build s": build_s,
                    "open s": open_s,
                    "query p50 ms": 1000 * lat[len(lat) // 2],
                    "query p95 ms": 1000 * lat[int(len(lat) * 0.95)],
                    "recall@10": float(np.mean(rec)),
                }
            )
        print(table(rows[-1:]), file=sys.stderr, flush=True)
    return rows


def versions() -> str:
    from importlib.metadata import version

    return (
        ", ".join(
            f"{n} {version(n)}"
            for n in ("onnxruntime", "tokenizers", "sentence-transformers", "torch", "faiss-cpu", "numpy")
        )
        + f", Python {platform.python_version()}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, default=ROOT / "index", help="a built index of the reference corpus")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--throughput-texts", type=int, default=2000)
    ap.add_argument(
        "--output", type=Path, default=ROOT / "docs" / "benchmarks.md", help="the file whose section is replaced"
    )
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    cmd = "python bench/latency.py " + " ".join(sys.argv[1:])
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    common = ["--corpus", str(ROOT / "corpus/sources.toml"), "--index", str(args.index)]
    questions = [
        json.loads(line)["question"]
        for line in (SHARED / "eval/questions.jsonl").read_text().splitlines()
        if line.strip()
    ]

    log("cold starts …")
    fast = cold(common, "auto", args.runs)
    slow = cold(common, "model", args.runs)
    cold_rows = [
        {
            "query path": "ONNX encoder (default)",
            "runs": len(fast),
            "median s": statistics.median(fast),
            "min s": min(fast),
            "max s": max(fast),
        },
        {
            "query path": "sentence-transformers",
            "runs": len(slow),
            "median s": statistics.median(slow),
            "min s": min(slow),
            "max s": max(slow),
        },
    ]
    ratio = statistics.median(slow) / statistics.median(fast)
    log("warm stdin mode …")
    gaps = warm(common, questions + questions)
    warm_row = [
        {
            "questions": len(gaps) + 1,
            "median ms": 1000 * statistics.median(gaps),
            "p95 ms": 1000 * sorted(gaps)[int(len(gaps) * 0.95)],
            "max ms": 1000 * max(gaps),
        }
    ]
    log("same answers …")
    same = same_top5(args.index, questions)
    log("throughput …")
    thr = throughput(args.index, args.throughput_texts)
    log("scale …")
    sc = scale(args.index, args.sizes, args.queries) if args.sizes else []

    text = "\n".join(
        [
            f"## Latency and scale\n\nProduced by `{cmd.strip()}` on {dt.date.today()} "
            f"({os.cpu_count()} CPUs; {versions()}).\n",
            "### Cold `ncmec-qa ask` (fresh process each run)\n\n"
            + table(cold_rows)
            + f"\n\nThe ONNX path is **{ratio:.1f}×** faster than loading sentence-transformers.\n",
            "### Warm per-question latency (`ncmec-qa ask` reading questions from stdin)\n\n" + table(warm_row) + "\n",
            f"### Same answers\n\nTop-5 passages identical between the ONNX and sentence-transformers query paths on "
            f"**{same} of {len(questions)}** dev questions.\n",
            "### Embedding throughput (same texts: passages and sentences of the reference index)\n\n"
            + table(thr)
            + "\n",
        ]
        + (
            [
                "### Vector index at scale (real MiniLM vectors + noise; 'open' includes the first query)\n\n"
                + table(sc)
                + "\n"
            ]
            if sc
            else []
        )
    )
    print(text)
    if not args.no_write:
        write_section("latency", text, args.output)
        log(f"wrote the latency section of {args.output}")


if __name__ == "__main__":
    main()
