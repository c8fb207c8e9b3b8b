"""`ncmec-qa corpus …`: the librarian's commands over the manifest and the documents folder."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ExitStatus, NcmecQaError
from .commands import Context, emit_json, handle_errors, json_option


def source_json(s) -> dict:
    """A manifest record as --json prints it: its `id` named `source_id`, as in every other document."""
    d = s.to_dict()
    return {"source_id": d.pop("id"), **d}


@click.group()
def corpus():
    """List, add, remove, check and sync the documents the manifest records."""


@corpus.command("list")
@json_option
@click.pass_obj
@handle_errors
def list_cmd(obj: Context, as_json):
    """One line per source: id, date, format, kind and title."""
    ws = obj.workspace()
    if as_json:
        emit_json({"sources": [source_json(s) for s in ws.manifest.sources]}, "corpus_list")
        return
    for s in ws.manifest.sources:
        flag = " (secondary)" if s.kind == "secondary" else ""
        click.echo(f"{s.id:28} {s.date:10} {s.format:8} {s.title}{flag}")


@corpus.command("show")
@click.argument("source_id")
@json_option
@click.pass_obj
@handle_errors
def show_cmd(obj: Context, source_id, as_json):
    """Everything the manifest records about SOURCE_ID."""
    s = obj.workspace().manifest.get(source_id)
    if as_json:
        emit_json({"source": source_json(s)}, "corpus_show")
        return
    d = s.to_dict()
    for k, v in d.items():
        if v not in (None, [], ""):
            click.echo(f"{k + ':':15} {v}")


@corpus.command("path")
@json_option
@click.pass_obj
@handle_errors
def path_cmd(obj: Context, as_json):
    """Print where the manifest and the documents folder are."""
    ws = obj.workspace()
    if as_json:
        emit_json({"manifest": str(ws.paths.manifest), "documents": str(ws.docs_dir)}, "corpus_path")
        return
    click.echo(f"manifest:  {ws.paths.manifest}")
    click.echo(f"documents: {ws.docs_dir}")


@corpus.command("add")
@click.argument("path_or_url")
@click.option("--title", help="Title of the document. [required]")
@click.option("--publisher", help="Who published it. [required]")
@click.option("--date", help="Publication date: YYYY, YYYY-MM or YYYY-MM-DD. [required]")
@click.option("--url", help="Where the document lives on the web.")
@click.option("--rights", help="Copyright or licence. [required]")
@click.option(
    "--author",
    "authors",
    multiple=True,
    metavar='"FAMILY, GIVEN"',
    help='A person who wrote it, as "Family, Given" (repeatable, in order); an institution is the publisher.',
)
@click.option("--id", "source_id", help="Stable id (default: from the file name).")
@click.option("--format", "fmt", help="Format, when the file name does not tell it.")
@click.option(
    "--kind",
    type=click.Choice(["primary", "secondary"]),
    default="primary",
    show_default=True,
    help="Primary source, or secondary commentary.",
)
@click.option("--edition", help="Edition or version, e.g. 'pre-2024 text'.")
@click.option("--supersedes", multiple=True, help="Id of a source this one replaces (repeatable).")
@click.option(
    "--superseded-by",
    help="Id of the source that replaced this one, or a note on a later text outside the "
    "corpus (a date or year in it says from when; see `ask --as-of`).",
)
@click.option("--file", "file", help="Name for the copy in the documents folder.")
@json_option
@click.pass_obj
@handle_errors
def add_cmd(
    obj: Context,
    path_or_url,
    title,
    publisher,
    date,
    url,
    rights,
    authors,
    source_id,
    fmt,
    kind,
    edition,
    supersedes,
    superseded_by,
    file,
    as_json,
):
    """Add a document (a local file or an http(s) URL) to the manifest.

    Every field is checked against the manifest's schema (required --title, --publisher, --date, --rights;
    a real date; each --author "Family, Given") before anything is copied or written."""
    from ..corpus.curation import add_source

    ws = obj.workspace()
    res = add_source(
        ws.manifest,
        ws.docs_dir,
        path_or_url,
        title=title,
        publisher=publisher,
        date=date,
        url=url,
        rights=rights,
        source_id=source_id,
        fmt=fmt,
        kind=kind,
        edition=edition,
        supersedes=tuple(supersedes),
        file=file,
        superseded_by=superseded_by,
        authors=tuple(authors),
    )
    _append_record(res.manifest)
    for w in res.warnings:
        click.echo(f"warning: {w}", err=True)
    if as_json:
        emit_json({"added": source_json(res.source), "warnings": list(res.warnings)}, "corpus_add")
    else:
        click.echo(
            f"added {res.source.id} ({res.source.file}, {res.source.format}); run `ncmec-qa index build` to index it"
        )


def _append_record(manifest) -> None:
    """Save `manifest`, whose last record is new, by appending that record's [[source]] table to the
    file as it stands: hand-written lines (comments, key order, quoting) stay exactly as they were."""
    import tomllib
    from dataclasses import replace

    from ..corpus.manifest import atomic_write_text, dumps, save_manifest, source_from_dict

    text = manifest.path.read_text(encoding="utf-8")
    one = dumps(replace(manifest, sources=manifest.sources[-1:]))
    block = one[one.index("\n[[source]]") + 1 :]
    new = text + ("" if text.endswith("\n\n") or not text else "\n" if text.endswith("\n") else "\n\n") + block
    try:
        records = tomllib.loads(new).get("source", [])
        ok = len(records) == len(manifest.sources) and source_from_dict(records[-1]) == manifest.sources[-1]
    except (tomllib.TOMLDecodeError, NcmecQaError, TypeError, ValueError):
        ok = False
    if ok:
        atomic_write_text(manifest.path, new)
    else:  # a layout that appending cannot extend (e.g. `source = [...]` inline): write it out whole
        save_manifest(manifest)


@corpus.command("remove")
@click.argument("source_id")
@click.option("--delete-file", is_flag=True, help="Also delete the document's file from the documents folder.")
@click.option(
    "--drop-references",
    is_flag=True,
    help="Also take SOURCE_ID out of the `supersedes`/`superseded_by` of the records that name it.",
)
@json_option
@click.pass_obj
@handle_errors
def remove_cmd(obj: Context, source_id, delete_file, drop_references, as_json):
    """Take SOURCE_ID out of the manifest (and out of the index at the next build).

    It names the file it leaves in place: the document's file stays in the documents folder unless --delete-file (`corpus check` then
    reports it as unlisted). A record that another names in `supersedes` or `superseded_by` is refused, naming
    those records, unless --drop-references (which takes it out of them too): a dangling reference would make
    every command refuse the manifest."""
    from ..corpus.curation import delete_document, remove_source
    from ..corpus.manifest import save_manifest

    ws = obj.workspace()
    src = ws.manifest.get(source_id)
    kept, refs = remove_source(ws.manifest, source_id, drop_references=drop_references)
    deleted = delete_document(ws.docs_dir, src, ws.manifest) if delete_file else None
    save_manifest(kept)
    if refs and not as_json:
        click.echo(f"dropped the reference to {source_id} from {', '.join(refs)}")
    if as_json:
        emit_json(
            {"removed": source_id, "file": src.file, "deleted": deleted is not None, "dropped_references": refs},
            "corpus_remove",
        )
    elif delete_file:
        what = f"deleted {deleted}" if deleted else f"{src.file} was not in {ws.docs_dir}"
        click.echo(f"removed {source_id}; {what}. Run `ncmec-qa index build` to drop it from the index")
    else:
        click.echo(
            f"removed {source_id}; its file {ws.docs_dir / src.file} was left in place: delete it (or "
            "remove with --delete-file), else `corpus check` reports it as unlisted. Run `ncmec-qa index "
            "build` to drop it from the index"
        )


@corpus.command("check")
@click.option(
    "--quick",
    is_flag=True,
    help="Do not extract each document's text: only where it is, its type, size "
    "and hash (a file its loader cannot read is then not reported).",
)
@json_option
@click.pass_obj
@handle_errors
def check_cmd(obj: Context, quick, as_json):
    """Report every manifest problem at once; exit 0 when clean, 1 when problems were found.

    Every document is read as `index build` reads it: inside the documents folder, a regular file,
    within the size limit, and (unless --quick) loaded as its format. Among the problems: a
    supersedes/superseded_by naming no record, and a file in the documents folder that no source lists
    (with the `corpus add … --file` that records it)."""
    from ..corpus.curation import check_corpus
    from ..corpus.manifest import load_manifest

    ws = obj.workspace()
    ws.__dict__["manifest"] = load_manifest(ws.paths.manifest, strict=False)
    problems = check_corpus(ws.manifest, ws.docs_dir, load=not quick)
    if as_json:
        emit_json(
            {"ok": not problems, "checked": len(ws.manifest.sources), "problems": [p.to_dict() for p in problems]},
            "corpus_check",
        )
    else:
        for p in problems:
            click.echo(f"{p.kind:18} {p.message}")
        click.echo(
            f"{len(ws.manifest.sources)} sources checked against {ws.docs_dir}: "
            + ("no problems" if not problems else f"{len(problems)} problem(s)")
        )
    if problems:
        click.get_current_context().exit(int(ExitStatus.FAILURE))


@corpus.command("sync")
@click.option(
    "--from",
    "mirror",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Copy from this mirror folder instead of downloading.",
)
@click.option("--accept", is_flag=True, help="Take changed downloads and record their new hashes in the manifest.")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds per HTTP request.")
@click.option("--retries", default=3, show_default=True, help="Retries per download.")
@click.option("--max-bytes", default=200 * 1024 * 1024, show_default=True, help="Largest download accepted.")
@json_option
@click.pass_obj
@handle_errors
def sync_cmd(obj: Context, mirror, accept, timeout, retries, max_bytes, as_json):
    """Obtain every listed document into the documents folder, checking each against its sha256.

    From a mirror folder (--from) or else from each source's URL. Bytes that differ from the manifest's
    sha256 are kept aside in <docs>/.drift/ (status "drift"; exit 1) unless --accept records them."""
    from ..corpus.manifest import save_manifest
    from ..corpus.sync import apply_accepted, sync_corpus

    ws = obj.workspace()
    report = sync_corpus(
        ws.manifest,
        ws.docs_dir,
        mirror=mirror,
        accept=accept,
        timeout=timeout,
        retries=retries,
        max_bytes=max_bytes,
        progress=None if obj.quiet else (lambda m: click.echo(m, err=True)),
    )
    if accept and any(r.status == "accepted" for r in report.results):
        save_manifest(apply_accepted(ws.manifest, report))
    if as_json:
        emit_json(report.to_dict(), "corpus_sync")
    else:
        for r in report.results:
            if r.status not in ("ok", "copied", "downloaded"):
                reason = r.reason if r.reason.startswith(r.file) else f"{r.file}: {r.reason}"
                click.echo(f"{r.status:10} {reason}")
        counts = ", ".join(f"{v} {k}" for k, v in sorted(report.counts().items()))
        click.echo(f"{len(report.results)} sources into {ws.docs_dir}: {counts}")
    if not report.ok:
        click.get_current_context().exit(int(ExitStatus.FAILURE))


def register(main: click.Group) -> None:
    main.add_command(corpus)
