"""What a build records about its own files (sha256, sizes, array shapes, document text hashes) and the checks
that compare a generation with that record: cheap ones at open, all of them in `index verify`.

The record lives in meta.json under "integrity". A file's sha256 is recomputed only when its (inode, size,
mtime) differs from the last time it was found intact (`.verified.json` in the generation, written by the
build and by readers), so a cold `ask` pays a few `stat` calls, not 100 ms of hashing the ONNX encoder.
This guards against damage and naive tampering; whoever can rewrite meta.json as well can forge anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..corpus.manifest import sha256_file
from ..errors import IndexCorrupt

RECORD = "integrity"
CACHE = ".verified.json"
ARRAYS = ("vectors.npy", "sentence_vectors.npy")
FIX = "rebuild with `ncmec-qa index build --full`"
REQUIRED_META = {"format_version": int, "model": str, "dimension": int, "counts": dict, "documents": dict}


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def problem(path: Path, what: str, fix: str = FIX) -> str:
    """One line: the file, what is wrong with it, and the fix."""
    return f"{path}: {what}; {fix}"


# -- at build ------------------------------------------------------------------------------------------
def record_generation(folder: Path, texts: dict[str, str]) -> dict[str, Any]:
    """The integrity record of a generation folder being written: every array and store file, and the
    sha256 of each document's extracted text (by source id)."""
    files: dict[str, Any] = {}
    for name in ("store.sqlite", *ARRAYS, "vectors.faiss"):
        path = folder / name
        if not path.is_file():
            continue
        entry: dict[str, Any] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
        if name.endswith(".npy"):
            arr = np.load(path, mmap_mode="r")
            if arr.size and not np.isfinite(arr).all():
                raise ValueError(f"{path}: the embedder produced NaN or infinite values; nothing was made current")
            entry.update(shape=list(arr.shape), dtype=str(arr.dtype))
        files[name] = entry
    return {"files": files, "document_texts": {sid: sha256_text(t) for sid, t in sorted(texts.items())}}


# -- the checks ----------------------------------------------------------------------------------------
def meta_problems(gen: Path, meta: Any) -> list[str]:
    """What is wrong with meta.json's shape (not its values)."""
    where = gen / "meta.json"
    if not isinstance(meta, dict):
        return [problem(where, f"is a JSON {type(meta).__name__}, not an object")]
    out = []
    for key, kind in REQUIRED_META.items():
        if key not in meta:
            out.append(problem(where, f"has no {key!r}"))
        elif not isinstance(meta[key], kind) or isinstance(meta[key], bool):
            out.append(problem(where, f"{key!r} is a {type(meta[key]).__name__}, not a {kind.__name__}"))
    rec = meta.get(RECORD)
    if rec is not None and not (
        isinstance(rec, dict) and isinstance(rec.get("files"), dict) and isinstance(rec.get("document_texts"), dict)
    ):
        out.append(problem(where, f"{RECORD!r} is not the record a build writes"))
    return out


def recorded_files(meta: dict[str, Any], encoder_only_query: bool = False) -> dict[str, dict[str, Any]]:
    """Relative path -> {"sha256", "bytes"} for every file the build recorded, encoder files included
    (only the one queries use and the tokenizer, with `encoder_only_query`)."""
    rec = meta.get(RECORD) or {}
    out = {name: e for name, e in (rec.get("files") or {}).items() if isinstance(e, dict)}
    out.update(encoder_files(meta, encoder_only_query))
    return out


def encoder_files(meta: dict[str, Any], only_query: bool = False) -> dict[str, dict[str, Any]]:
    """The ONNX files and tokenizer meta.json's encoder entry lists, with the sha256 taken when exported."""
    enc = meta.get("encoder")
    if not isinstance(enc, dict) or not isinstance(enc.get("files"), dict):
        return {}
    d = str(enc.get("dir") or "encoder")
    out: dict[str, dict[str, Any]] = {}
    for precision, f in enc["files"].items():
        if isinstance(f, dict) and "file" in f and (not only_query or precision == enc.get("query")):
            out[f"{d}/{f['file']}"] = {"sha256": f.get("sha256"), "bytes": f.get("bytes")}
    if enc.get("tokenizer_sha256") and (out or not only_query):
        out[f"{d}/tokenizer.json"] = {"sha256": enc["tokenizer_sha256"], "bytes": None}
    return out


def _signature(st: os.stat_result) -> list[int]:
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def _read_cache(gen: Path) -> dict[str, Any]:
    try:
        c = json.loads((gen / CACHE).read_text(encoding="utf-8"))
        return c if isinstance(c, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_cache(gen: Path, cache: dict[str, Any]) -> None:
    tmp = gen / f"{CACHE}.{uuid.uuid4().hex[:8]}"
    try:
        tmp.write_text(json.dumps(cache, sort_keys=True), encoding="utf-8")
        os.replace(tmp, gen / CACHE)
    except OSError:  # a read-only index is checked again next time, that is all
        tmp.unlink(missing_ok=True)


def file_problems(
    gen: Path, files: dict[str, dict[str, Any]], use_cache: bool = True, write_cache: bool = True
) -> list[str]:
    """Each recorded file that is missing, of another size, or whose sha256 differs from the record
    (an array also: shape, dtype, finiteness). Intact files are remembered by (inode, size, mtime)."""
    cache = _read_cache(gen) if use_cache else {}
    out: list[str] = []
    changed = False
    for name, rec in files.items():
        path = gen / name
        try:
            st = path.stat()
        except OSError:
            out.append(problem(path, "is missing (the build recorded it)"))
            continue
        if rec.get("bytes") is not None and st.st_size != rec["bytes"]:
            out.append(problem(path, f"is {st.st_size} bytes, the build recorded {rec['bytes']}"))
            continue
        if name.endswith(".npy"):
            shape = array_problem(path, rec)
            if shape:
                out.append(shape)
                continue
        hit = cache.get(name)
        if hit == [*_signature(st), rec.get("sha256")]:
            continue
        if sha256_file(path) != rec.get("sha256"):
            why = "sha256 differs from the build's record"
            if name.endswith(".npy") and not np.isfinite(np.load(path, mmap_mode="r")).all():
                why += " (it holds NaN or infinite values)"
            out.append(problem(path, why))
            continue
        cache[name] = [*_signature(st), rec.get("sha256")]
        changed = True
    if changed and write_cache:
        _write_cache(gen, cache)
    return out


def array_problem(path: Path, rec: dict[str, Any]) -> str | None:
    """The array's header against the record: it loads, with the recorded shape and dtype."""
    try:
        arr = np.load(path, mmap_mode="r")
    except (OSError, ValueError) as e:
        return problem(path, f"is not a readable array ({e})")
    if "shape" in rec and list(arr.shape) != list(rec["shape"]):
        return problem(path, f"has shape {list(arr.shape)}, the build recorded {rec['shape']}")
    if "dtype" in rec and str(arr.dtype) != rec["dtype"]:
        return problem(path, f"holds {arr.dtype}, the build recorded {rec['dtype']}")
    return None


def check(problems: Iterable[str]) -> None:
    """Raise the first problem as IndexCorrupt (exit 3)."""
    for p in problems:
        raise IndexCorrupt(p)


def warm(gen: Path, meta: dict[str, Any]) -> list[str]:
    """At the end of a build: hash every recorded file once, so readers find them verified."""
    return file_problems(gen, recorded_files(meta), use_cache=False)
