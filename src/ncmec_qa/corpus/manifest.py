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

from ..errors import ManifestError
from ..models import Source
from .manifest_schema import REQUIRED, FieldProblem, check_document, check_record  # noqa: F401 (REQUIRED: curation)

FORMAT_VERSION = 1
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


class ManifestInvalid(ManifestError):
    """Every problem the schema found in a manifest, as one error (one line); `.problems` has them one by one."""

    def __init__(self, path: Path | str, problems: Iterable[FieldProblem]):
        self.path, self.problems = path, tuple(problems)
        n = len(self.problems)
        lines = "; ".join(p.message for p in self.problems)
        fix = "fix it in the manifest" if n == 1 else "fix them in the manifest"
        super().__init__(
            f"{path}: {lines if n == 1 else f'{n} problems: {lines}'}; {fix} "
            "(`ncmec-qa corpus check` lists every problem one per line)"
        )


@dataclass(frozen=True)
class Manifest:
    path: Path
    sources: tuple[Source, ...]
    documents: str | None = None  # documents folder, relative to the manifest's folder
    problems: tuple[FieldProblem, ...] = ()  # what the schema found, when read with strict=False

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
        raise ManifestError("no documents folder: pass --docs, set NCMEC_QA_DOCS, or set `documents` in the manifest")

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
    """A Source from a TOML table, checked against the schema (manifest_schema). `where` is its place ("#3").
    Strict: any problem raises ManifestInvalid naming them all. Not strict: a bad or missing field is left
    at its default ("" for a required one; `corpus check` reports those)."""
    index = int(where[1:]) if re.fullmatch(r"#\d+", where or "") else 0
    src, problems = check_record(d, index, require=strict)
    if strict and problems:
        raise ManifestError("; ".join(p.message for p in problems))
    if src is None:
        raise ManifestError(problems[0].message)
    return src


def load_manifest(path: Path, strict: bool = True) -> Manifest:
    """Read and check a manifest. Strict (every command but `corpus check`): the types and forms of every field,
    required fields, ids used twice and references to no record, all raised at once as one ManifestInvalid.
    Not strict: the records that could be read, with the field problems in `Manifest.problems`."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(
            f"manifest not found: {path} (pass --corpus or set NCMEC_QA_CORPUS to a sources.toml, "
            "or `ncmec-qa config set corpus PATH`)"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ManifestError(f"{path}: not valid TOML: {e}") from e
    except OSError as e:
        raise ManifestError(f"{path}: cannot read the manifest: {e.strerror or e}") from e
    version = data.get("format_version", FORMAT_VERSION)
    if type(version) is not int:
        raise ManifestError(f"{path}: format_version must be the integer {FORMAT_VERSION}, not {version!r}")
    if version != FORMAT_VERSION:
        raise ManifestError(f"{path}: manifest format_version {version} is not supported (expected {FORMAT_VERSION})")
    sources, documents, problems = check_document(data, require=strict, cross=strict)
    if strict and problems:
        raise ManifestInvalid(path, problems)
    return Manifest(path=path, sources=tuple(sources), documents=documents, problems=tuple(problems))


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
    "id",
    "file",
    "title",
    "authors",
    "publisher",
    "date",
    "url",
    "format",
    "kind",
    "edition",
    "supersedes",
    "superseded_by",
    "rights",
    "bytes",
    "sha256",
    "retrieved_from",
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
