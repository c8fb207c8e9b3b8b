"""Writing index generations: one folder per build, made current by one atomic symlink swap, its integrity
recorded in meta.json, and the clean-up (prune) that never touches another build's folder.

Layout: `<index>/current` → `gen-<stamp>-<id>/` (meta.json, store.sqlite, vectors.npy,
sentence_vectors.npy, vectors.faiss for large corpora, encoder/). A build writes
`.tmp-gen-<stamp>-<id>.pid<N>/`, renames it to `gen-…` and swaps `current`, holding `.swap.lock` from the
rename to the end of the prune, so a prune cannot delete a generation that another build has renamed but
not yet made current, nor (by the pid in its name) a folder that a live build is still writing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..models import Passage

FORMAT_VERSION = 1
CURRENT = "current"
SWAP_LOCK = ".swap.lock"
LOCK_FILES = (SWAP_LOCK, ".build.lock", ".build.owner")  # left in the index folder on purpose

SCHEMA = """
CREATE TABLE documents (source_id TEXT PRIMARY KEY, file TEXT NOT NULL, sha256 TEXT NOT NULL,
                        format TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE passages (rowid INTEGER PRIMARY KEY, passage_id TEXT UNIQUE NOT NULL,
                       source_id TEXT NOT NULL, file TEXT NOT NULL, start INTEGER NOT NULL,
                       "end" INTEGER NOT NULL, section TEXT, page INTEGER, text TEXT NOT NULL,
                       context TEXT NOT NULL);
CREATE TABLE sentences (rowid INTEGER PRIMARY KEY, passage_rowid INTEGER NOT NULL, start INTEGER NOT NULL,
                        "end" INTEGER NOT NULL, kind TEXT NOT NULL);
CREATE TABLE terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX sentences_by_passage ON sentences (passage_rowid);
CREATE INDEX passages_by_source ON passages (source_id);
CREATE VIRTUAL TABLE passages_fts USING fts5(text, context, content='passages', content_rowid='rowid',
                                             tokenize='porter unicode61');
"""
TABLES = ("documents", "passages", "sentences", "terms", "passages_fts")


@dataclass(frozen=True)
class StoredDocument:
    source_id: str
    file: str
    sha256: str
    format: str
    text: str


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_store(
    path: Path,
    documents: Sequence[StoredDocument],
    passages: Sequence[Passage],
    contexts: Sequence[str],
    n_sentence_vectors: int,
) -> None:
    from .store import content_terms

    db = sqlite3.connect(path)
    try:
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?)",
            [(d.source_id, d.file, d.sha256, d.format, d.text) for d in documents],
        )
        srow = 0
        df: Counter[str] = Counter()
        for i, (p, ctx) in enumerate(zip(passages, contexts), start=1):
            db.execute(
                "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (i, p.passage_id, p.source_id, p.file, p.start, p.end, p.section, p.page, p.text, ctx),
            )
            rows = [(srow + j, i, s.start, s.end, s.kind) for j, s in enumerate(p.sentences, start=1)]
            db.executemany("INSERT INTO sentences VALUES (?, ?, ?, ?, ?)", rows)
            srow += len(rows)
            df.update(content_terms(p.text))
        if srow != n_sentence_vectors:
            raise ValueError(f"{srow} sentences but {n_sentence_vectors} sentence vectors")
        db.executemany("INSERT INTO terms VALUES (?, ?)", df.items())
        db.execute("INSERT INTO passages_fts(passages_fts) VALUES ('rebuild')")
        db.commit()
    finally:
        db.close()


def write_generation(
    index_dir: Path,
    meta: dict[str, Any],
    documents: Sequence[StoredDocument],
    passages: Sequence[Passage],
    contexts: Sequence[str],
    vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    extras: Callable[[Path], dict[str, Any]] | None = None,
) -> Path:
    """Write a complete index generation and make it current atomically. Returns its folder.

    `extras(folder)` may write more files into the generation before it is made current;
    the dict it returns is merged into meta.json."""
    from filelock import FileLock

    from . import integrity

    assert len(passages) == len(contexts) == len(vectors)
    index_dir.mkdir(parents=True, exist_ok=True)
    gen = index_dir / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = index_dir / f".tmp-{gen.name}.pid{os.getpid()}"
    tmp.mkdir()
    try:
        _write_store(tmp / "store.sqlite", documents, passages, contexts, len(sentence_vectors))
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        np.save(tmp / "vectors.npy", vectors)
        np.save(tmp / "sentence_vectors.npy", np.ascontiguousarray(sentence_vectors, dtype=np.float32))
        from .vectors import build_vector_index

        kind = build_vector_index(vectors, tmp, meta.get("vector_index") or {})
        meta = {**meta, "format_version": FORMAT_VERSION, "vector_index": kind}
        if extras is not None:
            meta.update(extras(tmp))
        meta[integrity.RECORD] = integrity.record_generation(tmp, {d.source_id: d.text for d in documents})
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        integrity.warm(tmp, meta)  # readers then find every file verified (by inode, size and mtime)
        for f in tmp.rglob("*"):
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        _fsync_dir(tmp)
        with FileLock(index_dir / SWAP_LOCK):
            os.rename(tmp, gen)
            link_tmp = index_dir / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
            os.symlink(gen.name, link_tmp)
            os.replace(link_tmp, index_dir / CURRENT)
            _fsync_dir(index_dir)
            prune(index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return gen


_PID = re.compile(r"\.pid(\d+)$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune(index_dir: Path) -> None:
    """Remove generations and leftovers that `current` does not point to, except the folders that a
    live build is still writing (`.tmp-gen-….pid<N>` with process N alive). Call it holding SWAP_LOCK."""
    keep = current_generation(index_dir)
    for p in index_dir.iterdir():
        if p.name.startswith(".tmp-gen-"):
            m = _PID.search(p.name)
            if m and _alive(int(m.group(1))):
                continue
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith("gen-") and (keep is None or p.resolve() != keep.resolve()):
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(f".{CURRENT}-") and p.is_symlink():
            p.unlink(missing_ok=True)


def current_generation(index_dir: Path) -> Path | None:
    link = index_dir / CURRENT
    if not link.is_symlink() and not link.is_dir():
        return None
    target = link.resolve()
    return target if target.is_dir() else None


def current_name(index_dir: Path) -> str | None:
    """The name `current` points to (one readlink: cheap enough to call before every question)."""
    try:
        return os.readlink(index_dir / CURRENT)
    except OSError:
        return None
