"""The corpus manifest (`corpus/sources.toml`): reading, validating and writing source records.

The file is TOML, one `[[source]]` table per document, written with tomlkit so that
it stays readable and diffs line by line. It records where each document came from
and its sha256; the documents themselves live in a separate documents folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable

from .errors import ManifestError
from .models import Source

FORMAT_VERSION = 1
REQUIRED = ("id", "file", "title", "publisher", "date", "format", "sha256")
FORMATS = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".txt": "text",
    ".text": "text",
    ".csv": "csv",
    ".json": "json",
}
KINDS = ("primary", "secondary")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


@dataclass(frozen=True)
class Manifest:
    path: Path
    sources: tuple[Source, ...]
    documents: str | None = None  # documents folder, relative to the manifest's folder

    def by_id(self) -> dict[str, Source]:
        return {s.id: s for s in self.sources}

    def get(self, source_id: str) -> Source:
        try:
            return self.by_id()[source_id]
        except KeyError:
            raise ManifestError(
                f"no source with id {source_id!r} in {self.path}; `ncmec-qa corpus list` shows the ids"
            ) from None

    def docs_dir(self, override: Path | None = None) -> Path:
        if override is not None:
            return override
        if self.documents:
            return (self.path.parent / self.documents).resolve()
        raise ManifestError(
            "no documents folder: pass --docs, set NCMEC_QA_DOCS, or set `documents` in the manifest"
        )

    def with_sources(self, sources: Iterable[Source]) -> "Manifest":
        return replace(self, sources=tuple(sources))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def detect_format(path: str | Path) -> str | None:
    return FORMATS.get(Path(path).suffix.lower())


def slugify(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:60].strip("-") or "source"


def source_from_dict(d: dict[str, Any], where: str = "", strict: bool = True) -> Source:
    """A Source from a TOML table. Not strict: missing required fields become "" (for `corpus check`)."""
    missing = [k for k in REQUIRED if not d.get(k)]
    if missing and not strict:
        d = {**{k: "" for k in missing}, **{k: v for k, v in d.items() if v}, "id": d.get("id") or where}
    elif missing:
        raise ManifestError(f"source {d.get('id') or where!s}: missing required field {missing[0]!r}")
    kind = d.get("kind", "primary")
    if kind not in KINDS:
        raise ManifestError(f"source {d['id']}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return Source(
        id=str(d["id"]),
        file=str(d["file"]),
        title=str(d["title"]),
        publisher=str(d["publisher"]),
        date=str(d["date"]),
        format=str(d["format"]),
        sha256=str(d["sha256"]),
        url=d.get("url") or None,
        rights=d.get("rights") or None,
        bytes=int(d["bytes"]) if d.get("bytes") is not None else None,
        kind=kind,
        edition=d.get("edition") or None,
        supersedes=tuple(d.get("supersedes", ()) or ()),
        superseded_by=d.get("superseded_by") or None,
        retrieved_from=dict(d["retrieved_from"]) if d.get("retrieved_from") else None,
    )


def load_manifest(path: Path, strict: bool = True) -> Manifest:
    path = Path(path)
    if not path.is_file():
        raise ManifestError(
            f"manifest not found: {path} (pass --corpus or set NCMEC_QA_CORPUS to a sources.toml)"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ManifestError(f"{path}: not valid TOML: {e}") from e
    version = data.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ManifestError(f"{path}: manifest format_version {version} is not supported (expected {FORMAT_VERSION})")
    sources = tuple(
        source_from_dict(d, where=f"#{i + 1}", strict=strict) for i, d in enumerate(data.get("source", []))
    )
    return Manifest(path=path, sources=sources, documents=data.get("documents"))


def validate_ids(sources: Iterable[Source]) -> list[str]:
    """Problems with ids alone (format, duplicates), one line each."""
    problems, seen = [], set()
    for s in sources:
        if not _ID_RE.match(s.id):
            problems.append(f"{s.id}: id must be lowercase letters, digits, '.' or '-'")
        if s.id in seen:
            problems.append(f"{s.id}: duplicate id")
        seen.add(s.id)
    return problems


def manifest_hash(manifest: Manifest) -> str:
    """A hash of what the index depends on: ids, files and content hashes."""
    h = hashlib.sha256()
    for s in sorted(manifest.sources, key=lambda s: s.id):
        h.update(f"{s.id}\0{s.file}\0{s.sha256}\0{s.format}\n".encode())
    return h.hexdigest()


_FIELD_ORDER = (
    "id", "file", "title", "publisher", "date", "url", "format", "kind", "edition",
    "supersedes", "superseded_by", "rights", "bytes", "sha256", "retrieved_from",
)


def dumps(manifest: Manifest) -> str:
    import tomlkit  # only for writing: reading uses the standard library's tomllib

    doc = tomlkit.document()
    doc.add(tomlkit.comment("ncmec-qa corpus manifest: one [[source]] per document (bibliographic records,"))
    doc.add(tomlkit.comment("not the documents). Edit with `ncmec-qa corpus add|remove`; check with `corpus check`."))
    doc.add("format_version", FORMAT_VERSION)
    if manifest.documents:
        doc.add("documents", manifest.documents)
    aot = tomlkit.aot()
    for s in manifest.sources:
        d = s.to_dict()
        t = tomlkit.table()
        for k in _FIELD_ORDER:
            v = d.get(k)
            if v is None or v == [] or (k == "kind" and v == "primary"):
                continue
            if k == "retrieved_from":
                it = tomlkit.inline_table()
                it.update({kk: vv for kk, vv in v.items() if vv is not None})
                t.add(k, it)
            else:
                t.add(k, v)
        aot.append(t)
    doc.add("source", aot)
    return tomlkit.dumps(doc)


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_manifest(manifest: Manifest) -> None:
    atomic_write_text(manifest.path, dumps(manifest))
