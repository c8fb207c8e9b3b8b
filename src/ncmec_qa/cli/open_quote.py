"""`ncmec-qa open PASSAGE_ID`: open a cited passage's source in the browser at the quote (or print the URL)."""

from __future__ import annotations

import click

from ..errors import NcmecQaError
from .commands import Context, emit_json, handle_errors, json_option


@click.command("open")
@click.argument("passage_id")
@click.option("--quote", help="Open at this verbatim part of the passage (whitespace may differ).")
@click.option("--print", "print_only", is_flag=True, help="Print the URL instead of opening a browser.")
@json_option
@click.pass_obj
@handle_errors
def open_cmd(obj: Context, passage_id, quote, print_only, as_json):
    """Open the source of PASSAGE_ID (as `search`/`ask`/`verify --json` give it) at the quote, in the
    browser (or --print the URL).

    A web page opens at a text fragment (#:~:text=first words,last words), a PDF at its page (#page=N;
    on its URL when that is the PDF, else the local copy), a CSV or JSON row at its source's URL; with no
    URL, the local copy in the documents folder (file://). The browser is Python's `webbrowser` choice
    (set BROWSER to change it); exit 2 when no browser starts."""
    from ..render.citations import cite_passage
    from ..render.links import link_for

    ws = obj.workspace()
    c = cite_passage(ws, passage_id, quote=quote)
    link = link_for(c, ws.docs_dir)
    if not link.url:
        raise NcmecQaError(
            f"{c.source.id} has no url in {ws.paths.manifest} and its file {c.source.file} is not in "
            f"{ws.docs_dir}: record a url (`corpus add --url`) or run `ncmec-qa corpus sync`"
        )
    opened = False
    if not print_only:
        import webbrowser

        opened = webbrowser.open(link.url)
        if not opened:
            raise NcmecQaError(
                f"no web browser could be started to open {link.url}: set BROWSER, or pass --print to print the URL"
            )
    if as_json:
        emit_json(
            {"passage_id": c.passage.passage_id, "source_id": c.source.id, **link.to_dict(), "opened": opened}, "open"
        )
    elif print_only:
        click.echo(link.url)
    else:
        obj.log(f"opened {link.url}")


def register(main: click.Group) -> None:
    main.add_command(open_cmd)
