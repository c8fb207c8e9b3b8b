"""Reading an index generation: passages, sentences and documents in SQLite (with an FTS5 lexical
index), vectors in numpy + faiss, and `meta.json`, checked at open against the build's integrity record.

(generations.py writes generations and makes them current.) A passage is handed out only if its text
is its document's text at its offsets and that text is the one the build recorded: a forged or damaged
quote is refused (IndexCorrupt, exit 3), never shown as verbatim.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import IndexCorrupt, IndexMissing
from ..models import Passage, Sentence
from . import integrity
from .generations import (  # noqa: F401 (the write side, re-exported for the indexer and the tests)
    CURRENT,
    FORMAT_VERSION,
    TABLES,
    StoredDocument,
    current_generation,
    current_name,
    prune,
    write_generation,
)

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
        self.generation = gen.name
        try:
            meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise IndexCorrupt(
                f"index at {gen} has an unreadable meta.json ({e}); rebuild with `ncmec-qa index build`"
            ) from None
        if isinstance(meta, dict) and meta.get("format_version") != FORMAT_VERSION:
            raise IndexCorrupt(
                f"index at {gen} has format version {meta.get('format_version')}, this ncmec-qa reads "
                f"{FORMAT_VERSION}; rebuild with `ncmec-qa index build`"
            )
        integrity.check(integrity.meta_problems(gen, meta))
        self.meta: dict[str, Any] = meta
        for name in ("store.sqlite", "vectors.npy", "sentence_vectors.npy"):
            if not (gen / name).is_file():
                raise IndexCorrupt(f"index at {gen} is missing {name}; rebuild with `ncmec-qa index build`")
        try:
            self.db = sqlite3.connect(f"file:{gen / 'store.sqlite'}?mode=ro", uri=True, check_same_thread=False)
            n = self.db.execute("SELECT count(*) FROM passages").fetchone()[0]
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as e:
            raise IndexCorrupt(
                f"index at {gen}: store.sqlite is damaged ({e}); rebuild with `ncmec-qa index build`"
            ) from None
        missing = [t for t in TABLES if t not in tables]
        if missing:
            raise IndexCorrupt(integrity.problem(gen / "store.sqlite", f"has no table {', '.join(missing)}"))
        expected = self.meta["counts"].get("passages")
        if expected is not None and n != expected:
            raise IndexCorrupt(f"index at {gen}: {n} passages stored but meta.json says {expected}; rebuild it")
        self.size = n
        self.recorded = self.meta.get(integrity.RECORD)  # None: built before integrity records
        if self.recorded:
            files = integrity.recorded_files(self.meta)
            integrity.check(integrity.file_problems(gen, {k: v for k, v in files.items() if k == "store.sqlite"}))
        self._texts: dict[str, str | None] = {}

    # -- vectors -------------------------------------------------------------------------
    def _array(self, name: str, rows: int, what: str) -> np.ndarray:
        """A memory-mapped .npy of the generation, checked to have one row per `what` and (when the build
        recorded it) the recorded shape, dtype and sha256; finite values are part of the sha256's promise."""
        try:
            v = np.load(self.path / name, mmap_mode="r")
        except (OSError, ValueError) as e:
            raise IndexCorrupt(f"index at {self.path}: {name} is damaged ({e}); rebuild it") from None
        if v.ndim != 2 or v.shape[0] != rows:
            raise IndexCorrupt(f"index at {self.path}: {v.shape[0]} rows in {name} for {rows} {what}; rebuild it")
        if v.dtype != np.float32 or v.shape[1] != self.meta["dimension"]:
            raise IndexCorrupt(
                integrity.problem(
                    self.path / name,
                    f"holds {v.dtype} rows of {v.shape[1]}, meta.json says float32 rows of {self.meta['dimension']}",
                )
            )
        rec = (self.recorded or {}).get("files", {}).get(name)
        if rec:
            integrity.check(integrity.file_problems(self.path, {name: rec}))
        elif not np.isfinite(v).all():
            raise IndexCorrupt(integrity.problem(self.path / name, "holds NaN or infinite values"))
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
                (q, k),
            ).fetchall()
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
            self._check_passage(pid, sid, s, e, text, sents.get(rid, []))
            sentences = tuple(Sentence(a, z, text[a - s : z - s], k, row) for a, z, k, row in sents.get(rid, []))
            out[rid] = Passage(pid, sid, file, s, e, text, section or "", page, sentences)
        return out

    def _check_passage(self, pid: str, sid: str, start: int, end: int, text: str, sents) -> None:
        """A passage is its document's text at its offsets, and its sentences lie inside it."""
        doc = self.document_text(sid)
        if doc is None or doc[start:end] != text or any(not start <= a <= z <= end for a, z, *_ in sents):
            raise IndexCorrupt(
                integrity.problem(
                    self.path / "store.sqlite",
                    f"passage {pid} is not the text of {sid} at its offsets {start}-{end} "
                    "(a forged or damaged quote; nothing from it is shown)",
                )
            )

    def rowid_of(self, passage_id: str) -> int | None:
        r = self.db.execute("SELECT rowid FROM passages WHERE passage_id = ?", (passage_id,)).fetchone()
        return int(r[0]) if r else None

    def rowid_holding(self, source_id: str, start: int, end: int) -> int | None:
        """The shortest passage of `source_id` that holds the span `start`-`end`, or None."""
        r = self.db.execute(
            'SELECT rowid FROM passages WHERE source_id = ? AND start <= ? AND "end" >= ? '
            'ORDER BY "end" - start LIMIT 1',
            (source_id, start, end),
        ).fetchone()
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
            got.update(
                self.db.execute(
                    f"SELECT rowid, context FROM passages WHERE rowid IN ({','.join('?' * len(part))})", part
                )
            )
        return [got.get(r, "") for r in ids]

    def all_passages(self) -> list[Passage]:
        """Every passage, in index order."""
        recs = self.passages(range(1, self.size + 1))
        return [recs[r] for r in sorted(recs)]

    def documents(self) -> list[StoredDocument]:
        return [
            StoredDocument(*r)
            for r in self.db.execute("SELECT source_id, file, sha256, format, text FROM documents ORDER BY source_id")
        ]

    def document_records(self) -> list[tuple[str, str, str, str]]:
        """(source_id, file, format, sha256) of every indexed document, without its text."""
        return list(self.db.execute("SELECT source_id, file, format, sha256 FROM documents"))

    def document_text(self, source_id: str) -> str | None:
        """A document's extracted text, checked once against the sha256 the build recorded for it."""
        if source_id not in self._texts:
            r = self.db.execute("SELECT text FROM documents WHERE source_id = ?", (source_id,)).fetchone()
            text = r[0] if r else None
            want = (self.recorded or {}).get("document_texts", {}).get(source_id)
            if text is not None and want is not None and integrity.sha256_text(text) != want:
                raise IndexCorrupt(
                    integrity.problem(
                        self.path / "store.sqlite", f"the text of document {source_id} differs from the build's record"
                    )
                )
            self._texts[source_id] = text
        return self._texts[source_id]

    def document_text_of_file(self, file: str) -> str | None:
        """The extracted text of the document the manifest records at `file`."""
        r = self.db.execute("SELECT source_id FROM documents WHERE file = ?", (file,)).fetchone()
        return self.document_text(r[0]) if r else None

    def passage_rowids(self, source_id: str) -> list[int]:
        """The rowids of a document's passages, in index order."""
        return [
            int(r)
            for (r,) in self.db.execute("SELECT rowid FROM passages WHERE source_id = ? ORDER BY rowid", (source_id,))
        ]

    def passage_texts(self) -> list[tuple[str, str]]:
        """(text, section) of every passage, in index order."""
        return [(t, s or "") for t, s in self.db.execute("SELECT text, section FROM passages ORDER BY rowid")]

    def close(self) -> None:
        self.db.close()
