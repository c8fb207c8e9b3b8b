"""`ncmec-qa index build`: the build's options (model, limits) and its exit status (0, 4 partial, 5 none indexed)."""

from __future__ import annotations

from typing import Callable, cast

import click

from ..errors import ExitStatus
from .commands import Context, _progress_factory, emit_json, handle_errors, json_option


def limit_options(f: Callable) -> Callable:
    """The per-document ingest limits of `index build` (ingest.guard.Limits); each has an environment variable."""
    from ..ingest.chunking import ChunkConfig
    from ..ingest.guard import MB, Limits

    d, c = Limits(), ChunkConfig()
    f = click.option(
        "--max-seconds",
        type=click.FloatRange(min=0),
        default=d.max_seconds,
        show_default=True,
        envvar="NCMEC_QA_MAX_SECONDS",
        help="Seconds to read and chunk one document (0: no limit). [env NCMEC_QA_MAX_SECONDS]",
    )(f)
    f = click.option(
        "--max-passages",
        type=click.IntRange(min=1),
        default=d.max_passages,
        show_default=True,
        envvar="NCMEC_QA_MAX_PASSAGES",
        help="Passages of one document. [env NCMEC_QA_MAX_PASSAGES]",
    )(f)
    f = click.option(
        "--max-paragraph-chars",
        type=click.IntRange(min=100),
        default=c.max_paragraph_chars,
        show_default=True,
        envvar="NCMEC_QA_MAX_PARAGRAPH_CHARS",
        help="Longer runs of prose are cut into pieces of this size before sentence splitting "
        "(part of the chunking: changing it re-chunks everything). [env NCMEC_QA_MAX_PARAGRAPH_CHARS]",
    )(f)
    f = click.option(
        "--max-pages",
        type=click.IntRange(min=1),
        default=d.max_pages,
        show_default=True,
        envvar="NCMEC_QA_MAX_PAGES",
        help="Pages of one PDF. [env NCMEC_QA_MAX_PAGES]",
    )(f)
    f = click.option(
        "--max-file-mb",
        type=click.FloatRange(min=0, min_open=True),
        default=d.max_file_bytes / MB,
        show_default=True,
        envvar="NCMEC_QA_MAX_FILE_MB",
        help="Size of one document file, in MB. [env NCMEC_QA_MAX_FILE_MB]",
    )(f)
    return f


@click.command("build")
@click.option("--full", is_flag=True, help="Re-embed everything instead of reusing unchanged documents.")
@click.option(
    "--model",
    envvar="NCMEC_QA_MODEL",
    help="Embedding model: the bundled all-MiniLM-L6-v2 (default) or a local sentence-transformers folder. [env NCMEC_QA_MODEL]",
)
@limit_options
@json_option
@click.pass_obj
@handle_errors
def index_build(
    obj: Context, full, model, max_file_mb, max_pages, max_paragraph_chars, max_passages, max_seconds, as_json
):
    """Index the documents the manifest lists (incremental by content hash), skipping by name and with
    the reason any document it cannot or may not read.

    One build per index folder: a second waits for it (NCMEC_QA_BUILD_WAIT seconds, default 600). A
    document is skipped when it lies outside the documents folder, is not a regular file, cannot be read,
    or exceeds a limit (the --max-* options; README "Hostile input").

    Exit status: 0 every document indexed; 4 some were skipped (each named on stderr, and under
    "failures" and "skipped" in --json), the rest indexed; 5 none could be indexed (the current
    index is left as it was).
    """
    from dataclasses import replace

    from ..errors import BuildFailed
    from ..ingest.guard import MB, Limits

    ws = obj.workspace(model=model)
    ws.chunking = replace(ws.chunking, max_paragraph_chars=max_paragraph_chars)
    limits = Limits(
        max_file_bytes=int(max_file_mb * MB), max_pages=max_pages, max_passages=max_passages, max_seconds=max_seconds
    )
    obj.log(f"indexing {len(ws.manifest.sources)} documents from {ws.docs_dir} into {ws.paths.index}")
    report = ws.build(full=full, log=obj.log, progress_factory=_progress_factory(obj), limits=limits)
    for f in report.failures:
        click.echo(f"skipped {f.file}: {f.reason}", err=True)
    for w in report.warnings:
        obj.log(f"warning: {w}")
    if report.documents == 0:
        if as_json:
            emit_json(report.to_dict(), "index_build")
        what = "every document failed (see the lines above)" if report.failures else "the manifest lists no documents"
        raise BuildFailed(f"nothing could be indexed: {what}; the current index is left as it was")
    if as_json:
        emit_json(report.to_dict(), "index_build")
    else:
        skipped = f" (skipped: {', '.join(f.source_id for f in report.failures)})" if report.failures else ""
        click.echo(
            f"indexed {report.documents} documents, {report.passages} passages "
            f"({report.embedded} embedded, {report.reused} reused, {report.dropped} dropped) "
            f"in {report.seconds:.1f} s; {len(report.failures)} failed{skipped}"
        )
    if report.exit_status != ExitStatus.OK:
        click.get_current_context().exit(int(report.exit_status))


def register(main: click.Group) -> None:
    cast(click.Group, main.commands["index"]).add_command(index_build)
