"""Building the index: manifest → documents → passages → vectors → a new index generation.

Incremental by content hash: a document whose sha256, chunking and model are unchanged
keeps its passages and vectors from the current index; only new or changed documents
are embedded, and removed ones are dropped. A file that cannot be read, that lies outside
the documents folder, is not a regular file or is over a limit (ingest.guard.Limits) is
reported by name with its reason and the rest is indexed; a document of the previous index
that can no longer be read is dropped from the new one, and its failure says so.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..corpus.manifest import Manifest, manifest_hash
from ..errors import ExitStatus, IndexCorrupt, IndexError_, LoadError
from ..ingest import load_bytes
from ..ingest.chunking import ChunkConfig, chunk_document
from ..ingest.guard import Budget, Limits, read_document, time_limit
from ..models import Passage, Source
from .embedding import Embedder, SentenceTransformerEmbedder
from .store import Index, StoredDocument, current_generation, write_generation


@dataclass(frozen=True)
class Failure:
    source_id: str
    file: str
    reason: str
    kind: str = "parse"  # LoadError.kind: missing, unreadable, outside, not_regular, limit, parse
    dropped_passages: int = 0  # passages the previous index held for it, not in the new one


@dataclass
class BuildReport:
    index_path: str = ""
    documents: int = 0
    passages: int = 0
    reused: int = 0
    embedded: int = 0
    dropped: int = 0
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    limits: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_status(self) -> ExitStatus:
        """OK when every document was indexed, PARTIAL when some were skipped, BUILD_FAILED when none was."""
        if not self.documents:
            return ExitStatus.BUILD_FAILED
        return ExitStatus.PARTIAL if self.failures else ExitStatus.OK

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["seconds"] = round(self.seconds, 3)
        d["skipped"] = [f.source_id for f in self.failures]
        d["exit_status"] = int(self.exit_status)
        return d


def passage_context(source: Source, passage: Passage) -> str:
    """What the retrievers see beside the passage text: its title and section."""
    parts = [source.title]
    if passage.section:
        parts.append(passage.section)
    return " — ".join(parts)


def embedding_input(context: str, text: str) -> str:
    return f"{context}\n{text}"


def _previous(index_dir: Path, model: str, chunking: dict[str, Any]):
    """Documents, and (passage, context, vector, sentence vectors) reusable from the current index,
    by source id. Nothing when there is no index, or it cannot be read whole (a rebuild repairs it)."""
    if current_generation(index_dir) is None:
        return {}, {}
    try:
        old = Index(index_dir)
    except IndexError_:
        return {}, {}
    try:
        if old.meta.get("model") != model or old.meta.get("chunking") != chunking:
            return {}, {}
        docs = {d.source_id: d for d in old.documents()}
        by_source: dict[str, list[tuple[Passage, str, np.ndarray, np.ndarray]]] = {}
        allp = old.passages(range(1, old.size + 1))
        contexts = old.contexts()
        vecs = np.asarray(old.vectors)
        svecs = np.asarray(old.sentence_vectors)
        for rid in sorted(allp):
            p = allp[rid]
            rows = [s.row - 1 for s in p.sentences if s.row is not None]
            if len(rows) != len(p.sentences) or (rows and max(rows) >= len(svecs)):
                raise IndexCorrupt(f"index at {old.path}: sentence vectors do not match the sentences")
            by_source.setdefault(p.source_id, []).append((p, contexts[rid - 1], vecs[rid - 1], svecs[rows]))
        return docs, by_source
    except (IndexError_, sqlite3.DatabaseError, ValueError, IndexError):
        return {}, {}
    finally:
        old.close()


def _reusable(prev: StoredDocument | None, src: Source, digest: str, old: list | None) -> bool:
    """The stored passages and vectors are what this build would make: same bytes, file, format
    and loader, and the same context (title, section) embedded beside each passage."""
    return (
        prev is not None
        and old is not None
        and prev.sha256 == digest
        and prev.file == src.file
        and prev.format == src.format
        and all(passage_context(src, p) == ctx for p, ctx, _, _ in old)
    )


def _read(
    src: Source, docs_dir: Path, limits: Limits, chunk_cfg: ChunkConfig, prev: StoredDocument | None, old: list | None
):
    """(sha256, None) when the stored passages can be kept, else (sha256, (document, passages)).

    The file is read once (confined, regular, within the size limit); loading and chunking stop
    at the time limit, chunking at the passage limit. Raises LoadError naming the file."""
    _, data = read_document(docs_dir, src.file, limits.max_file_bytes)
    digest = hashlib.sha256(data).hexdigest()
    if _reusable(prev, src, digest, old):
        return digest, None
    with time_limit(limits.max_seconds, src.file) as deadline:
        doc = load_bytes(data, src.id, src.file, src.format, limits)
        del data
        budget = Budget(src.file, limits.max_passages, deadline, limits.max_seconds)
        return digest, (doc, chunk_document(doc, chunk_cfg, budget))


def _failure(src: Source, e: LoadError, previous: list | None) -> Failure:
    reason = str(e).removeprefix(f"{src.file}: ")
    dropped = len(previous or ())
    if dropped:
        reason += f"; dropped from the index ({dropped} passages of the previous build are gone)"
    return Failure(src.id, src.file, reason, getattr(e, "kind", "parse"), dropped)


def _read_meta(gen: Path | None) -> dict[str, Any]:
    import json

    try:
        return json.loads((gen / "meta.json").read_text(encoding="utf-8")) if gen else {}
    except (OSError, ValueError):
        return {}


def build_index(
    manifest: Manifest,
    docs_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    chunk_cfg: ChunkConfig = ChunkConfig(),
    full: bool = False,
    log: Callable[[str], None] = lambda m: None,
    progress_factory: Callable[[int], Callable[[int], None]] | None = None,
    vector_params: dict[str, Any] | None = None,
    export_encoder: bool = True,
    limits: Limits = Limits(),
) -> BuildReport:
    t0 = time.perf_counter()
    report = BuildReport(limits={**limits.to_dict(), "max_paragraph_chars": chunk_cfg.max_paragraph_chars})
    chunking = asdict(chunk_cfg)
    old_docs, old_passages = ({}, {}) if full else _previous(index_dir, embedder.name, chunking)

    documents: list[StoredDocument] = []
    passages: list[Passage] = []
    contexts: list[str] = []
    vectors: list[np.ndarray | None] = []
    sentence_vectors: list[list[np.ndarray | None]] = []
    # Vectors by the exact text they embed: a changed document reuses those of its unchanged passages.
    by_input: dict[str, tuple[str, np.ndarray]] = {}
    by_sentence: dict[str, np.ndarray] = {}
    for sid, olds in old_passages.items():
        for p, ctx, v, sv in olds:
            by_input.setdefault(embedding_input(ctx, p.text), (p.passage_id, v))
            for s, row in zip(p.sentences, sv):
                by_sentence.setdefault(s.text, row)
    used: set[str] = set()
    for src in manifest.sources:
        try:
            digest, doc = _read(src, docs_dir, limits, chunk_cfg, old_docs.get(src.id), old_passages.get(src.id))
        except LoadError as e:
            report.failures.append(_failure(src, e, old_passages.get(src.id)))
            continue
        if digest != src.sha256:
            report.warnings.append(
                f"{src.file}: sha256 differs from the manifest (drift); indexed as found — `ncmec-qa corpus check` explains"
            )
        if doc is None:  # unchanged: its passages and vectors are kept
            documents.append(old_docs[src.id])
            for p, ctx, v, sv in old_passages[src.id]:
                passages.append(p)
                contexts.append(ctx)
                vectors.append(v)
                sentence_vectors.append(list(sv))
                used.add(p.passage_id)
                report.reused += 1
            continue
        doc, new_passages = doc
        documents.append(StoredDocument(src.id, src.file, digest, src.format, doc.text))
        for p in new_passages:
            passages.append(p)
            contexts.append(passage_context(src, p))
            old = by_input.get(embedding_input(contexts[-1], p.text))
            vectors.append(old[1] if old else None)
            sentence_vectors.append([by_sentence.get(s.text) for s in p.sentences])
            if old:
                used.add(old[0])
                report.reused += 1

    todo = [i for i, v in enumerate(vectors) if v is None]
    stodo = [(i, j) for i, svs in enumerate(sentence_vectors) for j, v in enumerate(svs) if v is None]
    if todo or stodo:
        log(f"embedding {len(todo)} passages and {len(stodo)} sentences with {embedder.name}")
        progress = progress_factory(len(todo) + len(stodo)) if progress_factory else None
        new = embedder.encode([embedding_input(contexts[i], passages[i].text) for i in todo], progress=progress)
        for i, v in zip(todo, new):
            vectors[i] = v
        snew = embedder.encode([passages[i].sentences[j].text for i, j in stodo], progress=progress)
        for (i, j), v in zip(stodo, snew):
            sentence_vectors[i][j] = v
    report.embedded = len(todo)
    report.dropped = sum(1 for olds in old_passages.values() for p, *_ in olds if p.passage_id not in used)
    report.documents = len(documents)
    report.passages = len(passages)
    if not documents:
        report.seconds = time.perf_counter() - t0
        return report

    dim = int(vectors[0].shape[0]) if vectors else embedder.dimension
    matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, dim), np.float32)
    smatrix = np.vstack(
        [np.asarray(v).reshape(1, dim) for svs in sentence_vectors for v in svs] or [np.zeros((0, dim))]
    ).astype(np.float32)
    meta = {
        "model": embedder.name,
        "dimension": dim,
        "manifest_hash": manifest_hash(manifest),
        "manifest": str(manifest.path),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "chunking": chunking,
        "counts": {
            "documents": len(documents),
            "passages": len(passages),
            "sentences": sum(len(p.sentences) for p in passages),
            "failed": len(report.failures),
        },
        "documents": {d.source_id: d.sha256 for d in documents},
        "failures": [asdict(f) for f in report.failures],
        "vector_index": vector_params or {},
    }
    extras = None
    if export_encoder and isinstance(embedder, SentenceTransformerEmbedder):
        prev_gen = current_generation(index_dir)
        prev_meta = _read_meta(prev_gen)
        sample_idx = list(range(0, len(passages), max(1, len(passages) // 64)))[:64]
        sample = [embedding_input(contexts[i], passages[i].text) for i in sample_idx]

        def extras(folder: Path) -> dict[str, Any]:
            from .embedding import resolve_model_path
            from .query_encoder import export_for_index

            entry = export_for_index(
                resolve_model_path(embedder.name),
                folder,
                sample,
                matrix[sample_idx],
                prev_gen,
                prev_meta.get("encoder"),
                log,
            )
            return {"encoder": entry} if entry else {}

    gen = write_generation(index_dir, meta, documents, passages, contexts, matrix, smatrix, extras)
    report.index_path = str(gen)
    report.seconds = time.perf_counter() - t0
    return report
