"""Curating the corpus: adding and removing sources, and checking the manifest against the documents.

`check_corpus` reports every problem in one pass (missing files, files outside the
documents folder or not regular files, files over the size limit or that cannot be read
as their format, drift, missing metadata, unsupported formats, duplicate ids or files,
unlisted files): it reads and loads every document the way `index build` does.
`add_source` keeps the copy inside the documents folder, refuses exact duplicates and
warns about near duplicates.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Iterable

from ..errors import LoadError, ManifestError
from ..ingest import LOADERS, load_bytes, load_document
from ..ingest.chunking import chunk_document
from ..ingest.guard import OUTSIDE, Limits, check_regular, read_document, resolve_inside, time_limit
from ..models import Source
from .manifest import FORMATS, REQUIRED, Manifest, detect_format, sha256_file, slugify, validate_ids

IGNORED_NAMES = {"sources.json", "README.md", ".drift"}


@dataclass(frozen=True)
class Problem:
    # missing_file, outside_folder, not_a_file, over_limit, unreadable, drift, missing_metadata,
    # unsupported_format, duplicate_id, duplicate_file, unlisted_file, dangling_reference, bad_id
    kind: str
    source_id: str | None
    file: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _listed_files(docs_dir: Path) -> Iterable[str]:
    for p in sorted(docs_dir.rglob("*")):
        rel = p.relative_to(docs_dir)
        if p.is_file() and not any(part.startswith(".") or part in IGNORED_NAMES for part in rel.parts):
            yield rel.as_posix()


_PROBLEM_OF = {
    "missing": "missing_file",
    "outside": "outside_folder",
    "not_regular": "not_a_file",
    "limit": "over_limit",
    "unreadable": "unreadable",
    "parse": "unreadable",
}


def _read_problem(s: Source, docs_dir: Path, e: LoadError) -> Problem:
    kind = _PROBLEM_OF.get(getattr(e, "kind", "parse"), "unreadable")
    if kind == "missing_file":
        msg = f"{s.file} is not in {docs_dir} (run `ncmec-qa corpus sync`)"
    elif kind == "outside_folder":
        msg = f"{s.id}: file {s.file} {OUTSIDE} {Path(docs_dir).resolve()}"
    else:
        msg = f"{s.id}: {e}"
    return Problem(kind, s.id, s.file, msg)


def check_corpus(manifest: Manifest, docs_dir: Path, limits: Limits = Limits(), load: bool = True) -> list[Problem]:
    """Every problem of the manifest against the documents folder. `load`: also extract each document's
    text (as the index build would), so a file that cannot be read as its format is reported."""
    problems = [Problem("schema", p.source_id, "", p.message) for p in manifest.problems]  # types and forms of fields
    seen_files: dict[str, str] = {}
    seen_ids: set[str] = set()
    for s in manifest.sources:
        if s.id in seen_ids:
            problems.append(Problem("duplicate_id", s.id, s.file, f"id {s.id!r} is used by more than one record"))
        seen_ids.add(s.id)
        if s.file in seen_files:
            problems.append(
                Problem(
                    "duplicate_file", s.id, s.file, f"{s.file} is listed twice (as {seen_files[s.file]} and {s.id})"
                )
            )
        seen_files.setdefault(s.file, s.id)
        for fld in (*REQUIRED, "rights"):
            if fld != "sha256" and not getattr(s, fld):
                problems.append(Problem("missing_metadata", s.id, s.file, f"{s.id}: no {fld} recorded"))
        if s.format not in LOADERS:
            problems.append(
                Problem(
                    "unsupported_format",
                    s.id,
                    s.file,
                    f"{s.id}: format {s.format!r} is not one of {', '.join(sorted(LOADERS))}",
                )
            )
        if not s.file:  # reported above as missing metadata; there is no file to look at
            continue
        try:
            _, data = read_document(docs_dir, s.file, limits.max_file_bytes)
        except LoadError as e:
            problems.append(_read_problem(s, docs_dir, e))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if load and s.format in LOADERS:
            try:
                with time_limit(limits.max_seconds, s.file):
                    load_bytes(data, s.id, s.file, s.format, limits)
            except LoadError as e:
                problems.append(_read_problem(s, docs_dir, e))
        del data
        if not s.sha256:
            problems.append(Problem("missing_metadata", s.id, s.file, f"{s.id}: no sha256 recorded (it is {digest})"))
        elif digest != s.sha256:
            problems.append(
                Problem(
                    "drift",
                    s.id,
                    s.file,
                    f"{s.file} changed since curation: sha256 {digest[:12]}… is not the recorded {s.sha256[:12]}…",
                )
            )
    from .editions import dangling

    for sid, line in dangling(manifest.sources):
        problems.append(
            Problem("dangling_reference", sid, manifest.get(sid).file if sid in manifest.by_id() else "", line)
        )
    for line in validate_ids(manifest.sources):
        if "duplicate id" not in line:
            sid = line.split(":", 1)[0]
            problems.append(Problem("bad_id", sid, "", line))
    if docs_dir.is_dir():
        for rel in _listed_files(docs_dir):
            if rel not in seen_files:
                problems.append(
                    Problem(
                        "unlisted_file",
                        None,
                        rel,
                        f"{rel} is in the documents folder but no record names it: record it with "
                        f"`ncmec-qa corpus add {docs_dir / rel} --file {rel}` (with --title, "
                        "--publisher, --date, --rights), or delete the file",
                    )
                )
    return problems


# what `corpus add` needs before it writes anything: what `corpus check` would otherwise report missing
ADD_REQUIRED = ("title", "publisher", "date", "rights")


def check_add_fields(**fields: Any) -> None:
    """Refuse, naming every option at once, required options left out and values the schema rejects
    (`--date 2026-13-45`, `--url ftp://…`, `--author "Robert Grimm"`)."""
    missing = [f"--{k}" for k in ADD_REQUIRED if not fields.get(k)]
    if missing:
        raise ManifestError(
            f"missing required metadata: {', '.join(missing)} (`corpus check` requires "
            f"{'it' if len(missing) == 1 else 'them'} of every source); nothing was added"
        )
    from .manifest_schema import check_record

    record = {k: (list(v) if isinstance(v, tuple) else v) for k, v in fields.items() if v not in (None, "", ())}
    _, problems = check_record(record, 0, require=False)
    if problems:
        lines = []
        for p in problems:  # "source: date must be …" as "--date must be …"
            field = p.field.split("[", 1)[0]
            option = "--author" if field == "authors" else f"--{field}"
            lines.append(option + p.message.split(": ", 1)[1][len(p.field) :])
        raise ManifestError("; ".join(lines) + "; nothing was added")


@dataclass(frozen=True)
class AddResult:
    source: Source
    manifest: Manifest
    warnings: tuple[str, ...]


def _norm_sentence(s: str) -> str:
    return " ".join(re.findall(r"\w+", s.lower()))


def near_duplicates(
    doc_path: Path, fmt: str, manifest: Manifest, docs_dir: Path, threshold: float = 0.5
) -> list[tuple[str, float]]:
    """Sources that already contain at least `threshold` of the new document's sentences."""
    new = load_document(doc_path, "new", doc_path.name, fmt)
    mine = {_norm_sentence(s.text) for p in chunk_document(new) for s in p.sentences}
    mine.discard("")
    if not mine:
        return []
    out = []
    for s in manifest.sources:
        try:
            _, data = read_document(docs_dir, s.file, Limits().max_file_bytes)
            other = load_bytes(data, s.id, s.file, s.format)
        except LoadError:
            continue
        theirs = {_norm_sentence(x.text) for p in chunk_document(other) for x in p.sentences}
        share = len(mine & theirs) / len(mine)
        if share >= threshold:
            out.append((s.id, share))
    return sorted(out, key=lambda x: -x[1])


def add_source(
    manifest: Manifest,
    docs_dir: Path,
    path_or_url: str,
    *,
    title: str | None,
    publisher: str | None,
    date: str | None,
    url: str | None = None,
    rights: str | None = None,
    source_id: str | None = None,
    fmt: str | None = None,
    kind: str = "primary",
    edition: str | None = None,
    supersedes: tuple[str, ...] = (),
    file: str | None = None,
    superseded_by: str | None = None,
    authors: tuple[str, ...] = (),
) -> AddResult:
    """Record a new document in the manifest (and place it in the documents folder). Every field is
    checked against the manifest's schema before anything is copied or written."""
    check_add_fields(
        title=title, publisher=publisher, date=date, rights=rights, url=url, edition=edition, kind=kind, authors=authors
    )
    is_url = re.match(r"^https?://", path_or_url) is not None
    name = file or (path_or_url.rstrip("/").rsplit("/", 1)[-1] if is_url else Path(path_or_url).name)
    fmt = fmt or detect_format(name)
    if fmt is None:
        raise ManifestError(
            f"{name}: cannot tell the format from its name; pass --format ({', '.join(sorted(set(FORMATS.values())))})"
        )
    if fmt not in LOADERS:
        raise ManifestError(f"{name}: unsupported format {fmt!r}")
    try:
        target = resolve_inside(docs_dir, name)
    except LoadError:
        raise ManifestError(
            f"{name}: {OUTSIDE} {Path(docs_dir).resolve()}; name the copy with a --file path inside it"
        ) from None
    if any(s.file == name for s in manifest.sources):
        raise ManifestError(f"{name}: the manifest already has a record for this file")
    # Everything that can be refused without the document is checked before it is copied in,
    # so that a refused add leaves nothing behind in the documents folder.
    existing = {s.id for s in manifest.sources}
    sid = source_id or slugify(Path(name).stem)
    if sid in existing:
        if source_id:
            raise ManifestError(f"id {sid!r} is already in the manifest")
        n = 2
        while f"{sid}-{n}" in existing:
            n += 1
        sid = f"{sid}-{n}"
    bad = validate_ids([Source(id=sid, file=name, title="", publisher="", date="", format=fmt, sha256="")])
    if bad:
        raise ManifestError(bad[0])
    for old in supersedes:
        manifest.get(old)
    if superseded_by:
        from .editions import dangling

        probe = Source(
            id=sid, file=name, title="", publisher="", date="", format=fmt, sha256="", superseded_by=superseded_by
        )
        for _, line in dangling([*manifest.sources, probe]):
            if line.startswith(f"{sid}:"):
                raise ManifestError(line)
    if is_url:
        if target.exists():
            raise ManifestError(f"{target} already exists; pass --file to name the copy")
        from .sync import download

        docs_dir.mkdir(parents=True, exist_ok=True)
        download(path_or_url, target)
        url = url or path_or_url
    else:
        src = Path(path_or_url)
        if not src.exists():
            raise ManifestError(f"{src}: no such file")
        try:
            check_regular(src.resolve(), str(src), Limits().max_file_bytes)
        except LoadError as e:
            raise ManifestError(f"not added: {e}") from None
        digest = sha256_file(src)
        dup = next((s for s in manifest.sources if s.sha256 == digest), None)
        if dup:
            raise ManifestError(f"{src} is an exact duplicate of {dup.id} ({dup.file}); not added")
        if src.resolve() != target.resolve():
            if target.exists():
                raise ManifestError(f"{target} already exists in the documents folder; pass --file to name the copy")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
    digest = sha256_file(target)
    dup = next((s for s in manifest.sources if s.sha256 == digest), None)
    if dup:
        target.unlink()
        raise ManifestError(f"{path_or_url} is an exact duplicate of {dup.id} ({dup.file}); not added")
    try:
        load_document(target, "new", name, fmt)  # refuse what the indexer could not read
    except LoadError as e:
        if not (Path(path_or_url).is_file() and Path(path_or_url).resolve() == target.resolve()):
            target.unlink()
        raise ManifestError(f"not added: {e}") from None
    src_rec = Source(
        id=sid,
        file=name,
        title=title or "",
        publisher=publisher or "",
        date=date or "",
        format=fmt,
        sha256=digest,
        url=url,
        rights=rights,
        bytes=target.stat().st_size,
        kind=kind,
        edition=edition,
        supersedes=tuple(supersedes),
        superseded_by=superseded_by or None,
        authors=tuple(" ".join(a.split()) for a in authors),
    )
    warnings = tuple(
        f"near duplicate: {share:.0%} of its sentences already stand in {other}"
        for other, share in near_duplicates(target, fmt, manifest, docs_dir)
    )
    if not url:
        warnings += ("no --url recorded: `corpus sync` will only be able to copy it from a mirror",)
    return AddResult(src_rec, manifest.with_sources([*manifest.sources, src_rec]), warnings)


def _superseded_by(s: Source) -> str:
    return (s.superseded_by or "").strip()


def references_to(manifest: Manifest, source_id: str) -> list[str]:
    """How other records name `source_id`: "ID: supersedes" and "ID: superseded_by", in manifest order."""
    out = []
    for s in manifest.sources:
        if s.id != source_id and source_id in s.supersedes:
            out.append(f"{s.id}: supersedes")
        if s.id != source_id and _superseded_by(s) == source_id:
            out.append(f"{s.id}: superseded_by")
    return out


def remove_source(manifest: Manifest, source_id: str, drop_references: bool = False) -> tuple[Manifest, list[str]]:
    """The manifest without `source_id`, and the references to it that were dropped (`references_to`).
    Another record's `supersedes` or `superseded_by` naming it would be left dangling (a manifest every
    command refuses), so that is an error unless `drop_references`, which takes the id out of those
    fields too."""
    manifest.get(source_id)
    refs = references_to(manifest, source_id)
    if refs and not drop_references:
        raise ManifestError(
            f"{source_id} is named by {', '.join(refs)} in {manifest.path}; removing it would leave "
            "that reference dangling: remove with --drop-references to take it out of those records too, "
            "or edit them first"
        )
    kept = (
        replace(
            s,
            supersedes=tuple(x for x in s.supersedes if x != source_id),
            superseded_by=None if _superseded_by(s) == source_id else s.superseded_by,
        )
        for s in manifest.sources
        if s.id != source_id
    )
    return manifest.with_sources(kept), refs


def delete_document(docs_dir: Path, source: Source, manifest: Manifest) -> Path | None:
    """Delete a removed source's file from the documents folder (only a regular file inside it that no
    other record names); the path deleted, or None when there was none."""
    if any(s.file == source.file and s.id != source.id for s in manifest.sources):
        raise ManifestError(f"{source.file} is also the file of another record; not deleted")
    try:
        path = resolve_inside(docs_dir, source.file)
    except LoadError:
        raise ManifestError(f"{source.file}: {OUTSIDE} {Path(docs_dir).resolve()}; not deleted") from None
    if not path.exists():
        return None
    if not path.is_file():
        raise ManifestError(f"{path} is not a regular file; not deleted")
    path.unlink()
    return path
