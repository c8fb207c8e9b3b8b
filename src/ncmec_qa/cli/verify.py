"""`ncmec-qa verify …` and `ncmec-qa cite …`: check claims against the corpus, export citations."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click

from ..errors import ExitStatus, NcmecQaError
from ..render.citations import FORMATS
from ..schemas import document
from .commands import Context, handle_errors, retrieval_options, stdout_console
from .inputs import check_source_ids, nonempty, read_questions, read_text_arg
from .output import emit_json, exit_with, json_line, json_option, worst

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
    from ..render.render import _escape, citation_line
    from ..render.report_md import short_quote

    console.print(f"{_mark(v.verdict)}: {_escape(v.reason)}", highlight=False)
    if v.verdict == "not_found" and v.evidence:
        console.print("  nearest passages:", highlight=False)
    for c in v.evidence:
        console.print(f"  “{_escape(short_quote(c.quote, 400))}” {_escape(f'[{c.n}]')}", highlight=False)
    for c in v.evidence:
        console.print("  " + _escape(citation_line(c)), highlight=False)
    for w in v.warnings:
        console.print(f"  note: {_escape(w)}", highlight=False)


def _print_report(console, report) -> None:
    """Every sentence in order: a checked one with each claim's verdict under it, a skipped one with the reason."""
    from ..render.render import _escape

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


class _Sink:
    """Where the output goes: stdout as each piece is ready, or (with -o) the file, written once at the end."""

    def __init__(self, obj: Context, output: Path | None):
        self.obj, self.output = obj, output
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        if self.output is None:
            click.echo(text.rstrip("\n"))
            sys.stdout.flush()
        else:
            self.parts.append(text.rstrip("\n"))

    def close(self) -> None:
        if self.output is not None and self.parts:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            self.output.write_text("\n".join(self.parts) + "\n", encoding="utf-8")
            self.obj.log(f"wrote {self.output}")


def _verdict_json(v, cite_format) -> dict:
    from ..render.citations import export

    d = v.to_dict()
    if cite_format:
        d["export"] = {"format": cite_format, "text": export(v.evidence, cite_format)}
    return d


def _summary_json(report, status: ExitStatus) -> dict:
    return {
        "source": report.source or None,
        "checked": len(report.verdicts),
        "counts": report.counts(),
        "ok": report.ok,
        "exit_status": int(status),
    }


def _status(report, stale: ExitStatus, bad_lines: int, fail_on_not_found: bool) -> ExitStatus:
    counts = report.counts()
    failed = counts["contradicted"] or (fail_on_not_found and counts["not_found"])
    return worst(stale, ExitStatus.ERROR if bad_lines else None, ExitStatus.FAILURE if failed else None)


def _write_article_reports(obj: Context, text: str, report, annotate, html_out, command: str) -> None:
    """--annotate and --html: the article with a footnote per claim, and the HTML page."""
    if annotate is not None:
        from ..render.annotate import annotate_markdown

        _write(obj, annotate, annotate_markdown(text, report))
    if html_out is not None:
        from ..render.report_html import report_html

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
@click.option(
    "--annotate",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --file: write the article to this file with a Markdown footnote per claim.",
)
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --file: write a self-contained HTML report, each claim coloured by its verdict.",
)
@retrieval_options
@click.option("--markdown", "as_markdown", is_flag=True, help="Print the verdict (or the report) as Markdown.")
@json_option
@click.option("--cite-format", type=click.Choice(FORMATS), help="Also print the evidence as citations in this format.")
@click.option(
    "--pinpoints-only",
    is_flag=True,
    help="In a Markdown report, cite claims and evidence by offsets only, quoting no text.",
)
@click.option("--fail-on-not-found", is_flag=True, help="Exit 1 also when a claim is not found in the corpus.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the output to this file instead of stdout.",
)
@click.pass_obj
@handle_errors
def verify(
    obj: Context,
    claim,
    file_,
    annotate,
    html_out,
    k,
    sources,
    exclude,
    as_markdown,
    as_json,
    cite_format,
    pinpoints_only,
    fail_on_not_found,
    output,
):
    """Check CLAIM (or every sentence of an article with --file) against the corpus: supported,
    contradicted or not found, with a one-line reason and the deciding quotes.

    Each claim gets a verdict (supported, contradicted or not_found), a one-line reason and the deciding
    sentences as verbatim, cited quotes. With no CLAIM (or -), check one claim per line from stdin;
    --file - reads an article from stdin. With --file every sentence is listed: checked (a compound
    sentence as several claims) or skipped with the reason; --annotate and --html write the article back
    with a footnote per claim, or as a page coloured by verdict.

    With --json, one claim prints one document; stdin claims and --file print JSON Lines: a "verdict" per
    claim (with --file also a "skipped" per sentence not checked), then a last "summary" line with the
    counts. Exit status 1 when a claim is contradicted (or, with --fail-on-not-found, not found), 2 when
    a stdin line was refused, 3 when the index is stale (verdicts still printed), else 0.
    """
    from ..render.citations import export
    from ..render.report_md import report_markdown, verdict_markdown
    from ..verify import ArticleReport, verify_article, verify_claim

    nonempty(claim, "claim", "give a CLAIM, - to read one claim per line from stdin, or --file ARTICLE")
    if claim and file_:
        raise click.UsageError("give either a CLAIM or --file ARTICLE, not both")
    for flag, value in (("--annotate", annotate), ("--html", html_out)):
        if value is not None and not file_:
            raise click.UsageError(f"{flag} writes an annotated article: give --file ARTICLE with it")
    ws = obj.workspace()
    check_source_ids(ws, sources, exclude)
    msg = ws.staleness()
    if msg:
        click.echo(f"warning: {msg}", err=True)
    stale = ExitStatus.INDEX if msg else ExitStatus.OK
    kw = dict(exclude=set(exclude) or None, sources=set(sources) or None, k=k)
    sink = _Sink(obj, output)
    if claim and claim != "-":
        v = verify_claim(ws, claim, **kw)
        if as_json:
            sink.add(json.dumps(document("verdict", _verdict_json(v, cite_format)), indent=2, ensure_ascii=False))
        elif as_markdown or output is not None:
            sink.add(verdict_markdown(v))
        else:
            _print_verdict(stdout_console(), v)
        if cite_format and not as_json and v.evidence:
            sink.add(export(v.evidence, cite_format))
        sink.close()
        exit_with(_status(ArticleReport((v,)), stale, 0, fail_on_not_found))
        return
    if not file_:  # claims, one per line from stdin: each printed as soon as it is checked
        verdicts, bad_lines, console = [], 0, None
        for line, bad in read_questions(None, prompt="claim> "):
            if bad:
                click.echo(f"Error: {bad}", err=True)
                bad_lines += 1
                continue
            v = verify_claim(ws, line, **kw)
            verdicts.append(v)
            if as_json:
                sink.add(json_line(_verdict_json(v, cite_format), "verdict"))
            elif as_markdown or output is not None:
                sink.add(verdict_markdown(v))
            else:
                console = console or stdout_console()
                _print_verdict(console, v)
                console.print()
            if cite_format and not as_json and v.evidence:
                sink.add(export(v.evidence, cite_format))
        report = ArticleReport(tuple(verdicts), "")
        status = _status(report, stale, bad_lines, fail_on_not_found)
        sink.add(json_line(_summary_json(report, status), "summary") if as_json else report.summary())
        sink.close()
        exit_with(status)
        return
    text, name = read_text_arg(file_)

    def progress(i: int, n: int) -> None:
        obj.log(f"checked {i}/{n} claims")

    report = verify_article(ws, text, source=name, progress=None if obj.quiet else progress, **kw)
    status = _status(report, stale, 0, fail_on_not_found)
    if as_json:  # every sentence in article order: a verdict per claim, a skipped record per sentence not checked
        in_order = iter(report.verdicts)
        for rec in report.records():
            kind = rec.pop("type")
            if kind == "claim":
                v = next(in_order)
                sink.add(
                    json_line(
                        {
                            **_verdict_json(v, cite_format),
                            **{k_: rec[k_] for k_ in ("sentence", "article_start", "article_end")},
                        },
                        "verdict",
                    )
                )
            elif kind == "skipped":
                sink.add(json_line(rec, "skipped"))
            else:
                sink.add(
                    json_line(
                        {
                            **_summary_json(report, status),
                            "source": str(file_),
                            "sentences": rec["sentences"],
                            "skipped": rec["skipped"],
                        },
                        "summary",
                    )
                )
    elif as_markdown or output is not None:
        flags = "--markdown --pinpoints-only" if pinpoints_only else "--markdown"
        sink.add(
            report_markdown(
                report,
                command=_command_line(file_, exclude, sources, k, flags, output),
                article=text,
                pinpoints_only=pinpoints_only,
            )
        )
    else:
        _print_report(stdout_console(), report)
    _write_article_reports(obj, text, report, annotate, html_out, _command_line(file_, exclude, sources, k, "", None))
    if cite_format and not as_json:
        cites = [c for v in report.verdicts for c in v.evidence]
        if cites:
            sink.add(export(cites, cite_format))
    sink.close()
    exit_with(status)


@click.command()
@click.argument("passage_ids", nargs=-1, required=True)
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True, help="Citation format."
)
@click.option("--quote", help="Cite only this verbatim part of the passage (whitespace may differ).")
@json_option
@click.pass_obj
@handle_errors
def cite(obj: Context, passage_ids, fmt, quote, as_json):
    """Export a citation of PASSAGE_ID (as `search`/`ask`/`verify --json` give it): the source from
    the manifest, the pinpoint (page or section) and the quote, in --format markdown, bibtex, csl-json,
    ris, apa or chicago.

    A span inside a passage ("source:start-end", the `start`/`end` of a quote) cites just that span.
    With --json: each citation's fields, and the text in --format under "export".

    The citation carries the manifest's `authors` (BibTeX author, RIS AU, CSL author) and, for a
    superseded text, the manifest's note in every format (BibTeX note, RIS N1, CSL note, a last line in
    APA and Chicago). apa and chicago (author-date) are rendered by citeproc-py from the CSL-JSON item:
    the quote, the in-text citation with the pinpoint ("(Grimm, 2024, p. 4)"), the reference entry; a
    work with no person recorded is cited by its publisher as group author, a statute by its title.
    """
    from ..render.citations import cite_passage, export

    ws = obj.workspace()
    if quote and len(passage_ids) > 1:
        raise NcmecQaError("--quote applies to one passage: give a single PASSAGE_ID with it")
    cs = [cite_passage(ws, pid, quote=quote, n=i) for i, pid in enumerate(passage_ids, start=1)]
    if as_json:
        emit_json({"citations": [c.to_dict() for c in cs], "export": {"format": fmt, "text": export(cs, fmt)}}, "cite")
    else:
        click.echo(export(cs, fmt), nl=False)


def register(main: click.Group) -> None:
    main.add_command(verify)
    main.add_command(cite)
