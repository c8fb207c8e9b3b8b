"""`index status` and `index verify`: the index against the corpus (skipped, changed, drifted, new and removed
documents, by content hash) and against its own build record (files, arrays, passages at their offsets)."""

from __future__ import annotations

import json
import sqlite3
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..corpus.manifest import Manifest
from ..errors import LoadError, NcmecQaError
from ..ingest.guard import resolve_inside
from . import integrity
from .generations import TABLES, current_generation
from .integrity import FIX, problem

REBUILD = "run `ncmec-qa index build`"


@dataclass(frozen=True)
class DocIssue:
    """One way a document and the index disagree. kind: skipped, new, removed, missing, changed, drift."""

    source_id: str
    file: str
    kind: str
    detail: str

    def line(self) -> str:
        return f"{self.kind}: {self.file} ({self.source_id}): {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def safe_sha256(docs_dir: Path, file: str) -> tuple[str | None, str]:
    """(sha256, "") of a document file, or (None, why not): only a regular file inside the documents
    folder is opened (a FIFO or a device would block or never end)."""
    try:
        real = resolve_inside(docs_dir, file)  # the rule the build reads documents by
    except LoadError as e:
        if e.kind == "outside":
            return None, f"resolves outside the documents folder {docs_dir}"
        return None, str(e).removeprefix(f"{file}: ")  # "cannot resolve the path: …" (a symlink loop)
    try:
        st = real.stat()
    except FileNotFoundError:
        return None, "missing"
    except (OSError, RuntimeError) as e:
        return None, f"cannot be read ({e})"
    if not stat.S_ISREG(st.st_mode):
        return None, "is not a regular file"
    try:
        return integrity.sha256_file(real), ""
    except OSError as e:
        return None, f"cannot be read ({e.strerror or e})"


def document_issues(manifest: Manifest, docs_dir: Path, meta: dict[str, Any]) -> list[DocIssue]:
    """Every document whose indexed content is not what the corpus now holds, by sha256 of the files."""
    indexed: dict[str, str] = meta.get("documents") or {}
    failed = {f.get("source_id"): f for f in meta.get("failures") or [] if isinstance(f, dict)}
    out: list[DocIssue] = []
    for src in manifest.sources:
        digest, why = safe_sha256(docs_dir, src.file)
        have = indexed.get(src.id)
        if have is None:
            if src.id in failed:
                out.append(
                    DocIssue(src.id, src.file, "skipped", f"the build skipped it: {failed[src.id].get('reason')}")
                )
            else:
                out.append(DocIssue(src.id, src.file, "new", f"in the manifest but not indexed; {REBUILD}"))
            continue
        if digest is None:
            out.append(
                DocIssue(src.id, src.file, "missing", f"indexed, but the file {why}; `ncmec-qa corpus sync` obtains it")
            )
        elif digest != have:
            out.append(DocIssue(src.id, src.file, "changed", f"the file changed since it was indexed; {REBUILD}"))
        if have != src.sha256:
            out.append(
                DocIssue(
                    src.id,
                    src.file,
                    "drift",
                    "indexed from a file whose sha256 differs from the "
                    "manifest's; answers quoting it say so (`ncmec-qa corpus check` explains)",
                )
            )
    known = {s.id for s in manifest.sources}
    for sid in sorted(set(indexed) - known):
        out.append(DocIssue(sid, sid, "removed", f"indexed but no longer in the manifest; {REBUILD}"))
    return out


def drift_note(source_id: str) -> str:
    return (
        f"{source_id} was indexed from a file whose sha256 differs from the manifest's record (drift): its "
        "quotes are from the file as found, not the recorded edition; `ncmec-qa corpus check` explains"
    )


# -- index verify ------------------------------------------------------------------------------------------
@dataclass
class VerifyReport:
    generation: str
    problems: list[str]
    checked: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "ok": not self.problems,
            "problems": self.problems,
            "checked": self.checked,
        }


def verify_generation(index_dir: Path, docs_dir: Path | None = None) -> VerifyReport:
    """Recompute everything the build recorded and compare; every problem is one line naming the file."""
    gen = current_generation(index_dir)
    if gen is None:
        from ..errors import IndexMissing

        raise IndexMissing(f"no index at {index_dir}: run `ncmec-qa index build` first")
    rep = VerifyReport(gen.name, [], {"files": 0, "documents": 0, "passages": 0, "sentences": 0, "document_files": 0})
    try:
        meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        rep.problems.append(problem(gen / "meta.json", f"is unreadable ({e})"))
        return rep
    rep.problems += integrity.meta_problems(gen, meta)
    if rep.problems:
        return rep
    if not meta.get(integrity.RECORD):
        rep.problems.append(problem(gen / "meta.json", "has no integrity record (built by an earlier ncmec-qa)"))
    files = integrity.recorded_files(meta)
    rep.problems += integrity.file_problems(gen, files, use_cache=False, write_cache=False)
    rep.checked["files"] = len(files)
    db_path = gen / "store.sqlite"
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        ok = db.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as e:
        rep.problems.append(problem(db_path, f"is damaged ({e})"))
        return rep
    try:
        if ok != "ok":
            rep.problems.append(problem(db_path, f"fails SQLite's integrity check ({ok})"))
        missing = [t for t in TABLES if t not in tables]
        if missing:
            rep.problems.append(problem(db_path, f"has no table {', '.join(missing)}"))
            return rep
        _check_rows(rep, gen, meta, db)
        if docs_dir is not None:
            _check_document_files(rep, db, docs_dir)
    except sqlite3.DatabaseError as e:
        rep.problems.append(problem(db_path, f"cannot be read ({e})"))
    finally:
        db.close()
    return rep


def _check_rows(rep: VerifyReport, gen: Path, meta: dict[str, Any], db: sqlite3.Connection) -> None:
    """Documents against their recorded text sha256, passages and sentences against their documents' text
    at their offsets, array rows against the row counts, and every vector finite."""
    where = gen / "store.sqlite"
    texts_rec = (meta.get(integrity.RECORD) or {}).get("document_texts") or {}
    docs = dict(db.execute("SELECT source_id, text FROM documents"))
    for sid, text in docs.items():
        if sid in texts_rec and integrity.sha256_text(text) != texts_rec[sid]:
            rep.problems.append(problem(where, f"the text of document {sid} differs from the build's record"))
    rep.checked["documents"] = len(docs)
    sents: dict[int, list[tuple[int, int]]] = {}
    for rid, a, z in db.execute('SELECT passage_rowid, start, "end" FROM sentences'):
        sents.setdefault(rid, []).append((a, z))
    n = 0
    for rid, pid, sid, s, e, text in db.execute(
        'SELECT rowid, passage_id, source_id, start, "end", text FROM passages'
    ):
        n += 1
        doc = docs.get(sid)
        if doc is None or doc[s:e] != text:
            rep.problems.append(problem(where, f"passage {pid} is not the text of {sid} at its offsets {s}-{e}"))
        elif any(not s <= a <= z <= e for a, z in sents.get(rid, [])):
            rep.problems.append(problem(where, f"a sentence of passage {pid} lies outside it"))
    rep.checked["passages"] = n
    rep.checked["sentences"] = sum(len(v) for v in sents.values())
    for name, rows in (("vectors.npy", n), ("sentence_vectors.npy", rep.checked["sentences"])):
        try:
            arr = np.load(gen / name, mmap_mode="r")
        except (OSError, ValueError):
            continue  # already reported by the file checks
        if arr.ndim != 2 or arr.shape != (rows, meta["dimension"]):
            rep.problems.append(
                problem(gen / name, f"has shape {list(arr.shape)} for {rows} rows of {meta['dimension']}")
            )
        elif not np.isfinite(arr).all():
            rep.problems.append(problem(gen / name, "holds NaN or infinite values"))


def _check_document_files(rep: VerifyReport, db: sqlite3.Connection, docs_dir: Path) -> None:
    """Each document file still on disk: the bytes the build read (sha256), and the same text extracted again."""
    from ..errors import LoadError
    from ..ingest import load_document

    for sid, file, sha, fmt, text in db.execute("SELECT source_id, file, sha256, format, text FROM documents"):
        digest, why = safe_sha256(docs_dir, file)
        if digest is None:
            continue  # not on disk (status reports it): the stored text is all there is to check
        rep.checked["document_files"] += 1
        if digest != sha:
            rep.problems.append(
                problem(
                    docs_dir / file,
                    f"changed since it was indexed (sha256 {digest[:12]}…, indexed {sha[:12]}…)",
                    REBUILD,
                )
            )
            continue
        try:
            again = load_document(docs_dir / file, sid, file, fmt).text
        except (LoadError, NcmecQaError) as e:
            rep.problems.append(problem(docs_dir / file, f"can no longer be read ({e})", REBUILD))
            continue
        if again != text:
            rep.problems.append(problem(docs_dir / file, "its text extracted again differs from the index's", FIX))
