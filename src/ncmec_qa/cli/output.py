"""What commands print for scripts: versioned JSON documents, JSON Lines for streams, and the exit status a run ends with."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

import click

from ..errors import ExitStatus
from ..schemas import document

# When several things went wrong in one run, the status says the most serious: an index problem (its
# results may be out of date), then refused input (some input got no result), then a check's finding.
PRECEDENCE = (ExitStatus.INDEX, ExitStatus.ERROR, ExitStatus.FAILURE)


def json_option(f: Callable) -> Callable:
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print the result as JSON (schema in docs/json.md; JSON Lines where results stream).",
    )(f)


def emit_json(obj: Any, kind: str | None = None) -> None:
    """One JSON document (indented), with `schema_version` and `type` first."""
    click.echo(json.dumps(document(kind, obj), indent=2, ensure_ascii=False))


def json_line(obj: dict[str, Any], kind: str) -> str:
    """One document of a JSON Lines stream: a single line, `schema_version` and `type` first."""
    return json.dumps(document(kind, obj), ensure_ascii=False)


def emit_line(obj: dict[str, Any], kind: str) -> None:
    click.echo(json_line(obj, kind))
    sys.stdout.flush()  # a reader of the stream gets each result as soon as it is ready


def worst(*statuses: ExitStatus | int | None) -> ExitStatus:
    """The exit status of a run from what happened in it (OK when nothing did)."""
    got = {int(s) for s in statuses if s}
    for s in PRECEDENCE:
        if int(s) in got:
            return s
    return ExitStatus(max(got)) if got else ExitStatus.OK


def exit_with(status: ExitStatus | int) -> None:
    if int(status):
        click.get_current_context().exit(int(status))
