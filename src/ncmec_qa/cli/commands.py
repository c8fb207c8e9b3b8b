"""The `ncmec-qa` command line: thin wrappers that parse, call the library, and render.

Results go to stdout, progress and logs to stderr. Errors are one line and a
non-zero exit code (see errors.ExitStatus); `--traceback` shows the detail.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Callable

import click

from .. import __version__
from ..errors import ExitStatus, NcmecQaError
from .inputs import EXIT_BROKEN_PIPE, check_source_ids, nonempty, read_questions, silence_stdout
from .output import emit_json, emit_line, exit_with, json_option, worst  # noqa: F401 (the commands' modules import them from here)


class Context:
    def __init__(self, corpus, index, docs, traceback: bool, quiet: bool, query_encoder: str = "auto"):
        self.corpus, self.index, self.docs = corpus, index, docs
        self.traceback, self.quiet = traceback, quiet
        self.query_encoder = query_encoder

    def workspace(self, **kw):
        from ..workspace import Workspace

        kw.setdefault("fast_queries", self.query_encoder != "model")
        return Workspace.open(corpus=self.corpus, index=self.index, docs=self.docs, **kw)

    def log(self, msg: str) -> None:
        if not self.quiet:
            click.echo(msg, err=True)


def stdout_console():
    """rich on a terminal; plain text (and no rich import) when stdout is a pipe or file."""
    if not sys.stdout.isatty():
        from ..render.render import PlainConsole

        return PlainConsole()
    from rich.console import Console

    return Console(soft_wrap=True, highlight=False)


def handle_errors(f: Callable) -> Callable:
    """Turn library errors into one line on stderr and the error's exit status."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        obj: Context | None = ctx.find_object(Context)
        try:
            return f(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except BrokenPipeError:  # the reader went away (`ask … | head -1`): stop quietly, as Unix tools do
            silence_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)
        except NcmecQaError as e:
            if obj and obj.traceback:
                raise
            click.echo(f"Error: {e}", err=True)
            ctx.exit(int(e.exit_status))
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except (OSError, ValueError, RuntimeError) as e:
            if obj and obj.traceback:
                raise
            click.echo(f"Error: {type(e).__name__}: {e} (run with --traceback for detail)", err=True)
            ctx.exit(int(ExitStatus.ERROR))

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ncmec-qa")
# environment and config file are read by config.resolve_paths (so `ncmec-qa config` can say which won)
@click.option(
    "--corpus",
    type=click.Path(path_type=Path),
    help="The manifest (sources.toml). Default: NCMEC_QA_CORPUS, the config file's `corpus`, "
    "corpus/sources.toml in the checkout, or the user data folder's (`ncmec-qa config`).",
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path),
    help="The index folder. Default: NCMEC_QA_INDEX, the config file's `index`, index/ in the checkout, "
    "or the user data folder's.",
)
@click.option(
    "--docs",
    type=click.Path(path_type=Path),
    help="The documents folder the manifest's paths point into. Default: NCMEC_QA_DOCS, the config "
    "file's `docs`, or the manifest's `documents`.",
)
@click.option(
    "--query-encoder",
    type=click.Choice(["auto", "model"]),
    default="auto",
    show_default=True,
    envvar="NCMEC_QA_QUERY_ENCODER",
    help="auto: the index's ONNX encoder when it has one; model: load the embedding model itself "
    "(sentence-transformers). [env NCMEC_QA_QUERY_ENCODER]",
)
@click.option("--traceback", is_flag=True, help="Show the full traceback on errors.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or notes on stderr.")
@click.pass_context
def main(ctx, corpus, index_dir, docs, query_encoder, traceback, quiet):
    """Answer questions about NCMEC's CyberTipline from a curated corpus, only in cited, verbatim quotes."""
    ctx.obj = Context(corpus, index_dir, docs, traceback, quiet, query_encoder)


# -- index -------------------------------------------------------------------------------------
@main.group()
def index():
    """Build and inspect the search index."""


def _progress_factory(obj: Context):
    if obj.quiet:
        return None

    def factory(total: int):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        prog = Progress(
            TextColumn("embedding"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        task = prog.add_task("embed", total=total)
        prog.start()
        done = [0]

        def advance(n: int) -> None:
            done[0] += n
            prog.update(task, advance=n)
            if done[0] >= total:
                prog.stop()

        return advance

    return factory


@index.command("path")
@json_option
@click.pass_obj
@handle_errors
def index_path(obj: Context, as_json):
    """Print where the index lives."""
    where = str(obj.workspace().paths.index)
    if as_json:
        emit_json({"index": where}, "index_path")
    else:
        click.echo(where)


# -- search / ask --------------------------------------------------------------------------------
def retrieval_options(f: Callable) -> Callable:
    f = click.option(
        "-k",
        "--top",
        "k",
        default=10,
        show_default=True,
        type=click.IntRange(min=1),
        help="How many passages to retrieve (1 or more).",
    )(f)
    f = click.option("--source", "sources", multiple=True, help="Only these source ids (repeatable).")(f)
    f = click.option("--exclude-source", "exclude", multiple=True, help="Never these source ids (repeatable).")(f)
    return f


def _warn_stale(obj: Context, ws) -> ExitStatus:
    """Warn (one line on stderr) when the index does not match the corpus or model; the run then ends with
    exit status 3 after printing its results."""
    msg = ws.staleness()
    if msg:
        click.echo(f"warning: {msg}", err=True)
        return ExitStatus.INDEX
    return ExitStatus.OK


def _flush_notes(obj: Context, ws) -> None:
    for note in ws.notes:
        obj.log(f"note: {note}")
    ws.notes.clear()


@main.command()
@click.argument("query")
@retrieval_options
@click.option(
    "--mode",
    type=click.Choice(["hybrid", "dense", "lexical"]),
    default="hybrid",
    show_default=True,
    help="Which retriever ranks the passages.",
)
@json_option
@click.pass_obj
@handle_errors
def search(obj: Context, query, k, sources, exclude, mode, as_json):
    """Rank the corpus's passages for QUERY, best first (--mode hybrid, dense or lexical; --source and
    --exclude-source narrow it; -k how many)."""
    from ..search.retrieval import RetrievalConfig

    nonempty(query, "query", "give the words to search for")
    ws = obj.workspace(retrieval=RetrievalConfig(mode=mode))
    check_source_ids(ws, sources, exclude)
    stale = _warn_stale(obj, ws)
    hits = ws.search(query, k=k, sources=set(sources) or None, exclude=set(exclude) or None)
    _flush_notes(obj, ws)
    if as_json:
        emit_json({"query": query, "passages": [h.to_dict() for h in hits]}, "search")
    else:
        from ..render.render import print_hits

        if not hits:
            click.echo("No passages matched.")
        print_hits(stdout_console(), hits)
    exit_with(stale)


@main.command()
@click.argument("question", required=False)
@retrieval_options
@click.option("--markdown", "as_markdown", is_flag=True, help="Print the answer as Markdown.")
@json_option
@click.option(
    "--cite-format",
    type=click.Choice(["markdown", "bibtex", "csl-json", "ris", "apa", "chicago"]),
    help='Also print the sources as citations in this format (with --json: an "export" field).',
)
@click.option(
    "--min-confidence",
    type=click.FloatRange(0.0, 1.0),
    help="Abstain below this estimated probability that the evidence answers the question "
    "(default: the abstainer's own threshold, chosen on the training folds).",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    help="Answer from the editions in force on DATE (YYYY, YYYY-MM or YYYY-MM-DD): sources published "
    "by then and not yet replaced (supersedes / superseded_by).",
)
@click.option(
    "--fail-on-abstain", is_flag=True, help="Exit 1 when the answer abstains (with several questions: when any does)."
)
@click.pass_obj
@handle_errors
def ask(
    obj: Context,
    question,
    k,
    sources,
    exclude,
    as_markdown,
    as_json,
    cite_format,
    min_confidence,
    as_of,
    fail_on_abstain,
):
    """Answer QUESTION with a short answer made of cited, verbatim sentences from the corpus, then the
    sources; or abstain, with the reason and the nearest passages, when the evidence is unlikely to answer
    (--min-confidence sets the bar; "confidence" in --json is the estimate).

    Primary sources are quoted before secondary ones, and an answer that quotes only secondary sources
    says so in a note and lists the primary passages nearest the question and each quote, to check the
    quotes against (not judged to answer it; "check_against" in --json). A statement several editions
    make is quoted once with every citation; one they make with different figures is quoted from each, side by side, with a note that they differ
    ("conflict" in --json). A question about a year is answered only from evidence for that year, else
    the reason names the years the evidence found is for. A table line's citation says what it is read
    with (caption, column years). An answer quoting a document indexed from a file whose sha256 differs
    from the manifest's says so in a note.

    With no QUESTION (or -), read one question per line from stdin and answer each from the same loaded
    index (reloaded, with a note, when a build makes a new generation current); with --json, JSON Lines
    (one answer per line). Exit status: 0 (also when it abstains, unless --fail-on-abstain: 1), 2 when a
    stdin line was refused, 3 when the index is stale (the answers are still printed).
    """
    from ..answer.answering import AnswerConfig

    nonempty(question, "question", "give a QUESTION, or - to read one question per line from stdin")
    ws = obj.workspace(answering=AnswerConfig(threshold=min_confidence))
    check_source_ids(ws, sources, exclude)
    stale = _warn_stale(obj, ws)
    chosen = set(sources) or None
    if as_of:
        from ..corpus.editions import in_force, parse_date

        day = parse_date(as_of)
        if day is None:
            raise click.BadParameter(f"{as_of!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)", param_hint="--as-of")
        chosen = in_force(ws.manifest.sources, day) & (chosen or {s.id for s in ws.manifest.sources})
        if not chosen:
            raise NcmecQaError(f"no source in the corpus was in force on {as_of}")
        obj.log(f"as of {as_of}: {len(chosen)} of {len(ws.manifest.sources)} sources in force")
    many = not question or question == "-"
    console = None
    bad_lines = abstained = 0
    for q, bad in read_questions(question):
        if bad:
            click.echo(f"Error: {bad}", err=True)
            bad_lines += 1
            continue
        a = ws.ask(q, k=k, sources=chosen, exclude=set(exclude) or None)
        _flush_notes(obj, ws)
        abstained += not a.answered
        if as_json:
            d = a.to_dict()
            if cite_format:
                from ..render.citations import export

                d["export"] = {"format": cite_format, "text": export(a.sources, cite_format)}
            (emit_line if many else emit_json)(d, "answer")
        elif as_markdown:
            from ..render.render import answer_markdown

            click.echo(answer_markdown(a))
        else:
            from ..render.render import print_answer, separator

            if console is not None and many:  # between two answers of a session, not before the first
                separator(console)
            console = console or stdout_console()
            print_answer(console, a)
        if cite_format and not as_json and a.sources:
            from ..render.citations import export

            click.echo(export(a.sources, cite_format))
        sys.stdout.flush()
    # every other question was answered; the exit status still says some input was refused
    exit_with(
        worst(
            stale,
            ExitStatus.ERROR if bad_lines else None,
            ExitStatus.FAILURE if fail_on_abstain and abstained else None,
        )
    )


@main.command("eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-k",
    "--top",
    "k",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help="Passages retrieved per question (1 or more).",
)
@json_option
@click.pass_obj
@handle_errors
def eval_cmd(obj: Context, questions, k, as_json):
    """Measure retrieval and abstention on a question set with gold evidence (JSONL).

    Recall@1/5/10, MRR and nDCG@10 of the gold evidence; answered and abstained counts; answer precision;
    the answers that quote a primary source first (when a primary gold quote exists), of those quoting only
    secondary sources the ones that list a primary gold passage among the primary passages to check, the
    answers quoting other years than asked, and duplicate quotes."""
    from ..evaluation import evaluate, load_questions

    ws = obj.workspace()
    stale = _warn_stale(obj, ws)
    kinds = {src.file: src.kind for src in ws.manifest.sources}
    rep = evaluate(
        load_questions(questions),
        lambda q: ws.ask(q, k=k),
        ws.index.document_text_of_file,
        kind_of_file=lambda f: kinds.get(f, "primary"),
    )
    if as_json:
        emit_json(rep.to_dict(), "eval")
        exit_with(stale)
        return
    n, u = rep.n_answerable, rep.n_unanswerable
    click.echo(f"answerable questions: {n}")
    for key, v in rep.recall.items():
        click.echo(f"  recall{key}: {v:.3f} ({rep.hits_at[key]}/{n})")
    click.echo(f"  MRR: {rep.mrr:.3f}   nDCG@10: {rep.ndcg10:.3f}")
    click.echo(f"  answered: {rep.answered_correct}/{n}   answer precision: {rep.answer_precision:.3f}")
    click.echo(
        f"  primary source quoted first: {rep.primary_first}/{rep.primary_gold_answered} answers with a "
        "primary gold quote"
    )
    click.echo(
        f"  quoting only secondary sources: {rep.secondary_only_primary_gold} with a primary gold quote, "
        f"{rep.primary_gold_listed} of them listing it among the primary passages to check"
    )
    click.echo(
        f"answers quoting other years than asked: {rep.other_year_answers}   duplicate quotes: {rep.duplicate_quotes}"
    )
    click.echo(f"unanswerable questions: {u}")
    click.echo(f"  abstained: {rep.abstained_correct}/{u}")
    exit_with(stale)


def _register_extensions() -> None:
    """Command groups that live in their own modules."""
    import importlib

    for name in ("build", "corpus", "verify", "train", "index", "open_quote", "config"):
        try:
            mod = importlib.import_module(f"ncmec_qa.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"ncmec_qa.cli.{name}":
                raise
            continue
        mod.register(main)


if __name__ != "__main__":  # as a script, the importable module below registers them (once)
    _register_extensions()

if __name__ == "__main__":  # pragma: no cover
    # run the importable module's `main`, the one the extensions registered their commands on
    from ncmec_qa.cli.commands import main as _main

    _main()
