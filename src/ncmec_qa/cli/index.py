"""`ncmec-qa index status` and `index verify`: whether the index matches the corpus, and whether it is intact."""

from __future__ import annotations

from typing import cast

import click

from ..errors import ExitStatus
from .commands import Context, emit_json, handle_errors, json_option


@click.command("status")
@json_option
@click.pass_obj
@handle_errors
def index_status(obj: Context, as_json):
    """What is indexed, with which model, and whether it matches the corpus (compared by the sha256 of the
    files): skipped documents, files changed since they were indexed, drift from the manifest's sha256, new,
    removed and missing sources. Exit 3 when it does not."""
    ws = obj.workspace()
    meta = ws.index.meta
    stale = ws.staleness()
    issues = ws.document_issues()
    info = {
        "path": str(ws.index.path),
        "model": meta.get("model"),
        "dimension": meta.get("dimension"),
        "built_at": meta.get("built_at"),
        "counts": meta.get("counts"),
        "vector_index": meta.get("vector_index"),
        "manifest_hash": meta.get("manifest_hash"),
        "stale": bool(stale),
        "stale_reason": stale,
        "failures": meta.get("failures", []),
        "encoder": meta.get("encoder"),
        "integrity_record": bool(meta.get("integrity")),
        "documents": [i.to_dict() for i in issues],
        "matches_corpus": not stale and not issues,
    }
    if as_json:
        emit_json(info, "index_status")
    else:
        c = meta.get("counts", {})
        click.echo(f"index:     {info['path']}")
        click.echo(f"built:     {info['built_at']}")
        click.echo(f"model:     {info['model']} ({info['dimension']} dimensions)")
        click.echo(
            f"contents:  {c.get('documents')} documents, {c.get('passages')} passages, {c.get('sentences')} sentences"
        )
        click.echo(f"vectors:   {(info['vector_index'] or {}).get('type', 'flat')}")
        enc = info["encoder"] or {}
        if enc.get("files"):
            agree = ", ".join(
                f"{p} min cosine {f['min_cosine']} (needs {f['threshold']})" for p, f in enc["files"].items()
            )
            click.echo(f"encoder:   ONNX, queries use {enc.get('query') or 'the model (no usable encoder)'}; {agree}")
        else:
            click.echo("encoder:   none: queries load the embedding model (sentence-transformers)")
        if not info["integrity_record"]:
            click.echo("integrity: no record (built by an earlier ncmec-qa); `ncmec-qa index build --full` adds one")
        for i in issues:
            click.echo(f"document:  {i.line()}")
        if stale:
            click.echo(f"status:    STALE: {stale}")
        elif issues:
            kinds = sorted({i.kind for i in issues})
            click.echo(f"status:    DOES NOT MATCH THE CORPUS: {len(issues)} document problem(s) ({', '.join(kinds)})")
        else:
            click.echo(f"status:    up to date with {ws.paths.manifest} and the documents in {ws.docs_dir}")
    if not info["matches_corpus"]:
        click.get_current_context().exit(int(ExitStatus.INDEX))


@click.command("verify")
@click.option(
    "--no-documents",
    is_flag=True,
    help="Skip re-reading the document files (their sha256 and extracted text); check the index alone.",
)
@json_option
@click.pass_obj
@handle_errors
def index_verify(obj: Context, no_documents, as_json):
    """Recompute what the build recorded and compare: sha256, shapes and finiteness of the vectors, the ONNX
    encoder and tokenizer, SQLite's integrity, every passage against its document's text at its offsets, and
    the document files still on disk. One line per problem naming the file and the fix; exit 3 if any."""
    ws = obj.workspace()
    rep = ws.verify_index(documents=not no_documents)
    if as_json:
        emit_json(rep.to_dict(), "index_verify")
    else:
        for p in rep.problems:
            click.echo(p)
        c = rep.checked
        click.echo(
            f"{rep.generation}: {c['files']} files, {c['documents']} documents, {c['passages']} passages, "
            f"{c['sentences']} sentences, {c['document_files']} document files checked; "
            + (f"{len(rep.problems)} problem(s)" if rep.problems else "no problems")
        )
    if rep.problems:
        click.get_current_context().exit(int(ExitStatus.INDEX))


def register(main: click.Group) -> None:
    index = cast(click.Group, main.commands["index"])
    index.add_command(index_status)
    index.add_command(index_verify)
