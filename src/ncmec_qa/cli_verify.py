"""`ncmec-qa verify …` and `ncmec-qa cite …`: check claims against the corpus, export citations."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from .citations import FORMATS
from .cli import Context, handle_errors, json_option, retrieval_options, stdout_console
from .cli_input import check_source_ids, read_text_arg
from .errors import ExitStatus, NcmecQaError

# only tags that render.PlainConsole strips for pipes and files
_STYLE = {"supported": "cyan", "contradicted": "bold", "not_found": "yellow"}


def _mark(verdict: str) -> str:
    tag = _STYLE[verdict]
    return f"[{tag}]{verdict}[/{tag}]"


def _command_line(file, exclude, sources, k, fmt_flag: str, output=None) -> str:
    args = ["ncmec-qa", "verify", "--file", str(file)]
    for e in exclude:
        args += ["--exclude-source", e]
    for s in sources:
        args += ["--source", s]
    if k != 10:
        args += ["-k", str(k)]
    if fmt_flag:
        args += fmt_flag.split()
    if output is not None:
        args += ["-o", str(output)]
    return " ".join(shlex.quote(a) for a in args)


def _print_verdict(console, v) -> None:
    from .render import _escape, citation_line
    from .verify import short_quote

    console.print(f"{_mark(v.verdict)}: {_escape(v.reason)}", highlight=False)
    if v.verdict == "not_found" and v.evidence:
        console.print("  nearest passages:", highlight=False)
    for c in v.evidence:
        console.print(f"  “{_escape(short_quote(c.quote, 400))}” {_escape(f'[{c.n}]')}", highlight=False)
    for c in v.evidence:
        console.print("  " + _escape(citation_line(c)), highlight=False)


def _print_report(console, report) -> None:
    """Every sentence in order: a checked one with each claim's verdict under it, a skipped one with the reason."""
    from .render import _escape

    for s, items in report.by_sentence():
        if s.skip:
            console.print(f"{s.n:>3}. [dim]skipped, {_escape(s.reason)}:[/dim] {_escape(s.text)}", highlight=False)
            continue
        console.print(f"{s.n:>3}. {_escape(s.text)}", highlight=False)
        if len(items) == 1:  # the sentence is the claim
            i, _, v = items[0]
            console.print(f"     claim {i}: {_mark(v.verdict)}: {_escape(v.reason)}", highlight=False)
            continue
        for i, _, v in items:
            console.print(f"     claim {i}: {_mark(v.verdict)}: {_escape(v.claim)}", highlight=False)
            console.print(f"       {_escape(v.reason)}", highlight=False)
    console.print(report.summary(), highlight=False)


def _write_article_reports(obj: Context, text: str, report, annotate, html_out, command: str) -> None:
    """--annotate and --html: the article with a footnote per claim, and the HTML page."""
    if annotate is not None:
        from .verify.annotate import annotate_markdown

        _write(obj, annotate, annotate_markdown(text, report))
    if html_out is not None:
        from .verify.report_html import report_html

        _write(obj, html_out, report_html(text, report, command=f"{command} --html {shlex.quote(str(html_out))}"))


def _write(obj: Context, path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise NcmecQaError(f"cannot write {path}: {e.strerror or e}; choose a path in a writable folder")
    obj.log(f"wrote {path}")


@click.command()
@click.argument("claim", required=False)
@click.option(
    "--file",
    "file_",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
    help="Check every sentence of this article (plain text or Markdown; - reads it from stdin).",
)
@click.option("--annotate", type=click.Path(dir_okay=False, path_type=Path),
              help="With --file: write the article to this file with a Markdown footnote per claim.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="With --file: write a self-contained HTML report, each claim coloured by its verdict.")
@retrieval_options
@click.option("--markdown", "as_markdown", is_flag=True, help="Print the verdict (or the report) as Markdown.")
@json_option
@click.option("--cite-format", type=click.Choice(FORMATS), help="Also print the evidence as citations in this format.")
@click.option("--pinpoints-only", is_flag=True,
              help="In a Markdown report, cite claims and evidence by offsets only, quoting no text.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the output to this file instead of stdout.",
)
@click.pass_obj
@handle_errors
def verify(obj: Context, claim, file_, annotate, html_out, k, sources, exclude, as_markdown, as_json, cite_format,
           pinpoints_only, output):
    """Check CLAIM (or every sentence of an article with --file) against the corpus.

    Each claim gets a verdict (supported, contradicted or not_found), a one-line reason and
    the deciding sentences as verbatim, cited quotes. With --file every sentence is listed:
    checked (a compound sentence as several claims) or skipped with the reason; --json prints
    JSON Lines (a "claim" or "skipped" record per sentence, then a "summary"). Exit status 1
    when a claim is contradicted, 0 otherwise.
    """
    from .citations import export
    from .verify import report_markdown, verdict_markdown, verify_article, verify_claim

    if claim is not None and not claim.strip() and not file_:
        raise NcmecQaError("the claim is empty; give a CLAIM, or --file ARTICLE")
    if bool(claim) == bool(file_):
        raise click.UsageError("give either a CLAIM or --file ARTICLE")
    for flag, value in (("--annotate", annotate), ("--html", html_out)):
        if value is not None and not file_:
            raise click.UsageError(f"{flag} writes an annotated article: give --file ARTICLE with it")
    ws = obj.workspace()
    check_source_ids(ws, sources, exclude)
    msg = ws.staleness()
    if msg:
        click.echo(f"warning: {msg}", err=True)
    kw = dict(exclude=set(exclude) or None, sources=set(sources) or None, k=k)
    out: list[str] = []
    console = None
    if claim:
        v = verify_claim(ws, claim, **kw)
        failed = v.verdict == "contradicted"
        if as_json:
            d = v.to_dict()
            if cite_format:
                d["export"] = {"format": cite_format, "text": export(v.evidence, cite_format)}
            import json

            out.append(json.dumps(d, indent=2, ensure_ascii=False))
        elif as_markdown:
            out.append(verdict_markdown(v))
        elif output is None:
            console = stdout_console()
            _print_verdict(console, v)
        else:
            out.append(verdict_markdown(v))
        if cite_format and not as_json and v.evidence:
            out.append(export(v.evidence, cite_format))
    else:
        text, name = read_text_arg(file_)

        def progress(i: int, n: int) -> None:
            obj.log(f"checked {i}/{n} claims")

        report = verify_article(ws, text, source=name, progress=None if obj.quiet else progress, **kw)
        failed = not report.ok
        if as_json:
            import json

            records = list(report.records())
            if cite_format:
                verdicts = iter(report.verdicts)
                for d in records:
                    if d["type"] == "claim":
                        d["export"] = {"format": cite_format, "text": export(next(verdicts).evidence, cite_format)}
            out.append("\n".join(json.dumps(d, ensure_ascii=False) for d in records))
        elif as_markdown or output is not None:
            flags = "--markdown --pinpoints-only" if pinpoints_only else "--markdown"
            out.append(report_markdown(report, command=_command_line(file_, exclude, sources, k, flags, output),
                                       article=text, pinpoints_only=pinpoints_only))
        else:
            console = stdout_console()
            _print_report(console, report)
        _write_article_reports(obj, text, report, annotate, html_out,
                               _command_line(file_, exclude, sources, k, "", None))
        if cite_format and not as_json:
            cites = [c for v in report.verdicts for c in v.evidence]
            if cites:
                out.append(export(cites, cite_format))
    if out:
        text = "\n".join(s.rstrip("\n") for s in out) + "\n"
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            obj.log(f"wrote {output}")
        else:
            click.echo(text, nl=False)
    if failed:
        click.get_current_context().exit(int(ExitStatus.FAILURE))


@click.command()
@click.argument("passage_ids", nargs=-1, required=True)
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True, help="Citation format."
)
@click.option("--quote", help="Cite only this verbatim part of the passage (whitespace may differ).")
@click.pass_obj
@handle_errors
def cite(obj: Context, passage_ids, fmt, quote):
    """Export a citation of PASSAGE_ID (as `search`/`ask`/`verify --json` give it): the source from
    the manifest, the pinpoint (page or section) and the quote.

    A span inside a passage ("source:start-end", the `start`/`end` of a quote) cites just that span.
    """
    from .citations import cite_passage, export

    ws = obj.workspace()
    if quote and len(passage_ids) > 1:
        raise NcmecQaError("--quote applies to one passage: give a single PASSAGE_ID with it")
    cs = [cite_passage(ws, pid, quote=quote, n=i) for i, pid in enumerate(passage_ids, start=1)]
    click.echo(export(cs, fmt), nl=False)


def register(main: click.Group) -> None:
    main.add_command(verify)
    main.add_command(cite)
