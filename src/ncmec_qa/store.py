"""The index folder: passages, sentences and documents in SQLite (with an FTS5 lexical
index), vectors in numpy + faiss, and a `meta.json` that describes the build.

Layout: `<index>/current` is a symlink to a generation folder `<index>/gen-<id>/`
holding `meta.json`, `store.sqlite`, `vectors.npy`, `sentence_vectors.npy` and, for large
corpora, `vectors.faiss` (HNSW). A build
writes a whole new generation and then swaps the symlink with one `rename`, so a
reader sees the old index or the new one, never half of either; a build killed
midway leaves the previous generation in use.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sqlite3
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .errors import IndexCorrupt, IndexMissing
from .models import Passage, Sentence

FORMAT_VERSION = 1
CURRENT = "current"

_SCHEMA = """
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
    assert len(passages) == len(contexts) == len(vectors)
    index_dir.mkdir(parents=True, exist_ok=True)
    gen = index_dir / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = index_dir / f".tmp-{gen.name}"
    tmp.mkdir()
    try:
        db = sqlite3.connect(tmp / "store.sqlite")
        db.executescript(_SCHEMA)
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
        if srow != len(sentence_vectors):
            raise ValueError(f"{srow} sentences but {len(sentence_vectors)} sentence vectors")
        db.executemany("INSERT INTO terms VALUES (?, ?)", df.items())
        db.execute("INSERT INTO passages_fts(passages_fts) VALUES ('rebuild')")
        db.commit()
        db.close()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        np.save(tmp / "vectors.npy", vectors)
        np.save(tmp / "sentence_vectors.npy", np.ascontiguousarray(sentence_vectors, dtype=np.float32))
        from .vectors import build_vector_index

        kind = build_vector_index(vectors, tmp, meta.get("vector_index") or {})
        meta = {**meta, "format_version": FORMAT_VERSION, "vector_index": kind}
        if extras is not None:
            meta.update(extras(tmp))
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        for f in tmp.rglob("*"):
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        _fsync_dir(tmp)
        os.rename(tmp, gen)
        link_tmp = index_dir / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
        os.symlink(gen.name, link_tmp)
        os.replace(link_tmp, index_dir / CURRENT)
        _fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    prune(index_dir)
    return gen


def prune(index_dir: Path) -> None:
    """Remove generations and leftovers that `current` does not point to."""
    keep = current_generation(index_dir)
    for p in index_dir.iterdir():
        if p.name.startswith(("gen-", ".tmp-gen-")) and (keep is None or p.resolve() != keep.resolve()):
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(f".{CURRENT}-") and p.is_symlink():
            p.unlink(missing_ok=True)


def current_generation(index_dir: Path) -> Path | None:
    link = index_dir / CURRENT
    if not link.is_symlink() and not link.is_dir():
        return None
    target = link.resolve()
    return target if target.is_dir() else None


_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have how i if in into is it "
    "its of on or our s so such than that the their them then there these they this those to was were what "
    "when where which who whom why will with would you your under about any".split()
)


def content_terms(text: str) -> set[str]:
    """Distinct lower-cased words of `text` that carry meaning (no stopwords, no single letters)."""
    return {w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and (len(w) > 2 or w.isdigit())}


def fts_query(text: str) -> str:
    """An FTS5 OR-query of the distinct content words of `text`, each quoted (no syntax leaks)."""
    seen: list[str] = []
    for w in _WORD.findall(text.lower()):
        if w in STOPWORDS or w in seen or (len(w) < 2 and not w.isdigit()):
            continue
        seen.append(w)
    return " OR ".join(f'"{w}"' for w in seen)


class Index:
    """A read-only view of the current generation of an index folder."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        gen = current_generation(self.index_dir)
        if gen is None:
            raise IndexMissing(f"no index at {self.index_dir}: run `ncmec-qa index build` first")
        self.path = gen
        try:
            self.meta: dict[str, Any] = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise IndexCorrupt(f"index at {gen} has an unreadable meta.json ({e}); rebuild with `ncmec-qa index build`") from None
        if self.meta.get("format_version") != FORMAT_VERSION:
            raise IndexCorrupt(
                f"index at {gen} has format version {self.meta.get('format_version')}, this ncmec-qa reads "
                f"{FORMAT_VERSION}; rebuild with `ncmec-qa index build`"
            )
        for name in ("store.sqlite", "vectors.npy", "sentence_vectors.npy"):
            if not (gen / name).is_file():
                raise IndexCorrupt(f"index at {gen} is missing {name}; rebuild with `ncmec-qa index build`")
        try:
            self.db = sqlite3.connect(f"file:{gen / 'store.sqlite'}?mode=ro", uri=True, check_same_thread=False)
            n = self.db.execute("SELECT count(*) FROM passages").fetchone()[0]
        except sqlite3.DatabaseError as e:
            raise IndexCorrupt(f"index at {gen}: store.sqlite is damaged ({e}); rebuild with `ncmec-qa index build`") from None
        expected = self.meta.get("counts", {}).get("passages")
        if expected is not None and n != expected:
            raise IndexCorrupt(f"index at {gen}: {n} passages stored but meta.json says {expected}; rebuild it")
        self.size = n

    # -- vectors -------------------------------------------------------------------------
    def _array(self, name: str, rows: int, what: str) -> np.ndarray:
        """A memory-mapped .npy of the generation, checked to have one row per `what`."""
        try:
            v = np.load(self.path / name, mmap_mode="r")
        except (OSError, ValueError) as e:
            raise IndexCorrupt(f"index at {self.path}: {name} is damaged ({e}); rebuild it") from None
        if v.ndim != 2 or v.shape[0] != rows:
            raise IndexCorrupt(f"index at {self.path}: {v.shape[0]} rows in {name} for {rows} {what}; rebuild it")
        return v

    @cached_property
    def vectors(self) -> np.ndarray:
        return self._array("vectors.npy", self.size, "passages")

    @cached_property
    def sentence_vectors(self) -> np.ndarray:
        n = self.db.execute("SELECT count(*) FROM sentences").fetchone()[0]
        return self._array("sentence_vectors.npy", n, "sentences")

    def sentence_passages(self) -> np.ndarray:
        """The passage rowid of each sentence, in sentence order (row i - 1 for sentence row i)."""
        if "_owners" not in self.__dict__:
            rows = self.db.execute("SELECT passage_rowid FROM sentences ORDER BY rowid").fetchall()
            self.__dict__["_owners"] = np.fromiter((r for (r,) in rows), dtype=np.int64, count=len(rows))
        return self.__dict__["_owners"]

    def idf(self, terms: Iterable[str]) -> dict[str, float]:
        """BM25-style inverse document frequency of each term over passages."""
        terms = list(dict.fromkeys(terms))
        if not terms:
            return {}
        marks = ",".join("?" * len(terms))
        df = dict(self.db.execute(f"SELECT term, df FROM terms WHERE term IN ({marks})", terms).fetchall())
        n = self.size
        return {t: math.log(1 + (n - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5)) for t in terms}

    def unseen(self, terms: Iterable[str]) -> set[str]:
        """The terms that no passage contains."""
        terms = list(dict.fromkeys(terms))
        if not terms:
            return set()
        marks = ",".join("?" * len(terms))
        known = {t for (t,) in self.db.execute(f"SELECT term FROM terms WHERE term IN ({marks})", terms)}
        return set(terms) - known

    @cached_property
    def vector_index(self):
        from .vectors import open_vector_index

        return open_vector_index(self.path, self.vectors, self.meta.get("vector_index") or {})

    def dense_search(self, query_vec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(rowid, cosine) of the k nearest passages."""
        return self.vector_index.search(np.asarray(query_vec, dtype=np.float32), k)

    # -- lexical ---------------------------------------------------------------------------
    def lexical_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(rowid, BM25 score, higher is better) from FTS5; text counts more than its title/section."""
        q = fts_query(query)
        if not q:
            return []
        rows = self.db.execute(
            "SELECT rowid, -bm25(passages_fts, 1.0, 0.4) AS s FROM passages_fts WHERE passages_fts MATCH ? "
            "ORDER BY s DESC LIMIT ?",
            (q, k),
        ).fetchall()
        return [(int(r), float(s)) for r, s in rows]

    def match_all(self, words: Sequence[str], any_of: Sequence[str] = (), k: int = 10) -> list[int]:
        """Rowids of the passages (text, title or section) holding every one of `words` and, when given,
        one of `any_of`, best BM25 first."""
        if not words:
            return []
        q = " ".join(f'"{w}"' for w in words)
        if any_of:
            q += " AND (" + " OR ".join(f'"{y}"' for y in any_of) + ")"
        try:
            rows = self.db.execute(
                "SELECT rowid FROM passages_fts WHERE passages_fts MATCH ? ORDER BY bm25(passages_fts, 1.0, 0.4) LIMIT ?",
                (q, k)).fetchall()
        except sqlite3.Error:
            return [rid for rid, _ in self.lexical_search(" ".join([*words, *any_of]), k)]
        return [int(r[0]) for r in rows]

    # -- records ---------------------------------------------------------------------------
    def passages(self, rowids: Iterable[int]) -> dict[int, Passage]:
        ids = list(dict.fromkeys(int(r) for r in rowids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        out: dict[int, Passage] = {}
        sents: dict[int, list[tuple[int, int, str, int]]] = {}
        for row, rid, s, e, kind in self.db.execute(
            f'SELECT rowid, passage_rowid, start, "end", kind FROM sentences WHERE passage_rowid IN ({marks}) ORDER BY rowid',
            ids,
        ):
            sents.setdefault(rid, []).append((s, e, kind, row))
        for rid, pid, sid, file, s, e, section, page, text in self.db.execute(
            f'SELECT rowid, passage_id, source_id, file, start, "end", section, page, text FROM passages WHERE rowid IN ({marks})',
            ids,
        ):
            sentences = tuple(Sentence(a, z, text[a - s : z - s], k, row) for a, z, k, row in sents.get(rid, []))
            out[rid] = Passage(pid, sid, file, s, e, text, section or "", page, sentences)
        return out

    def rowid_of(self, passage_id: str) -> int | None:
        r = self.db.execute("SELECT rowid FROM passages WHERE passage_id = ?", (passage_id,)).fetchone()
        return int(r[0]) if r else None

    def contexts(self, rowids: Iterable[int] | None = None) -> list[str]:
        """The title and section stored beside each passage: all of them in index order, or
        those of `rowids` in the order given."""
        if rowids is None:
            return [r[0] for r in self.db.execute("SELECT context FROM passages ORDER BY rowid")]
        ids = list(rowids)
        got: dict[int, str] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            got.update(self.db.execute(f"SELECT rowid, context FROM passages WHERE rowid IN ({','.join('?' * len(part))})", part))
        return [got.get(r, "") for r in ids]

    def all_passages(self) -> list[Passage]:
        """Every passage, in index order."""
        recs = self.passages(range(1, self.size + 1))
        return [recs[r] for r in sorted(recs)]

    def documents(self) -> list[StoredDocument]:
        return [StoredDocument(*r) for r in self.db.execute("SELECT source_id, file, sha256, format, text FROM documents ORDER BY source_id")]

    def document_text(self, source_id: str) -> str | None:
        r = self.db.execute("SELECT text FROM documents WHERE source_id = ?", (source_id,)).fetchone()
        return r[0] if r else None

    def document_text_of_file(self, file: str) -> str | None:
        """The extracted text of the document the manifest records at `file`."""
        r = self.db.execute("SELECT text FROM documents WHERE file = ?", (file,)).fetchone()
        return r[0] if r else None

    def passage_rowids(self, source_id: str) -> list[int]:
        """The rowids of a document's passages, in index order."""
        return [int(r) for (r,) in self.db.execute("SELECT rowid FROM passages WHERE source_id = ? ORDER BY rowid",
                                                   (source_id,))]

    def passage_texts(self) -> list[tuple[str, str]]:
        """(text, section) of every passage, in index order."""
        return [(t, s or "") for t, s in self.db.execute("SELECT text, section FROM passages ORDER BY rowid")]

    def close(self) -> None:
        self.db.close()
