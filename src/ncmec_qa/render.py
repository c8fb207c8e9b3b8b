"""Output: terminal text through rich, JSON, and Markdown.

Results go to stdout; progress and logs go to stderr (the CLI decides which console).
"""

from __future__ import annotations

import json
import re
from typing import Any, Sequence

from .models import Answer, Citation, Hit


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False)


def location(section: str | None, page: int | None, short: bool = True) -> str:
    parts = []
    if section:
        segs = section.split(" > ")
        parts.append(" > ".join(segs[-2:]) if short and len(segs) > 2 else section)
    if page:
        parts.append(f"p. {page}")
    return ", ".join(parts)


def citation_line(c: Citation) -> str:
    s = c.source
    bits = [s.title, s.publisher, s.date]
    if s.edition and s.edition != s.date:  # an edition named by its date is said once
        bits.append(s.edition)
    loc = location(c.passage.section, c.passage.page)
    if loc:
        bits.append(loc)
    if c.reads_with:  # what the quote is read with (a table's caption, its column years), never part of the quote
        bits.append(f"read with: {c.reads_with}")
    bits.append(f"chars {c.start}-{c.end}")
    if s.url:
        bits.append(s.url)
    line = f"[{c.n}] " + ". ".join(b.rstrip(".") for b in bits if b)
    tags = []
    if s.kind == "secondary":
        tags.append("secondary source")
    if s.superseded_by:
        tags.append("superseded text")
    return line + (f"  ({'; '.join(tags)})" if tags else "")


def conflict_line(x) -> str:
    """"[1] says 4,560 where [2] says 2,772 (the same statement otherwise)"."""
    (a, b), (fa, fb) = x.citations, x.figures
    return f"[{a}] says {fa} where [{b}] says {fb} (the same statement otherwise)"


def _escape(text: str) -> str:
    """Escape rich markup in corpus text (a quote may contain "[1]")."""
    return re.sub(r"(\\*)(\[[a-z#/@])", r"\1\1\\\2", text)


_TAG = re.compile(r"(?<!\\)\[/?(?:bold|cyan|dim|yellow)\]")


class PlainConsole:
    """rich's `Console.print` for pipes and files: the same calls, no styling, no rich import."""

    def __init__(self, file=None):
        self.file = file

    def print(self, text: str = "", highlight: bool = False) -> None:
        import click

        click.echo(_TAG.sub("", text).replace("\\[", "["), file=self.file)


def print_hits(console, hits: Sequence[Hit], width: int = 300) -> None:
    for i, h in enumerate(hits, start=1):
        p = h.passage
        loc = location(p.section, p.page)
        console.print(f"[bold]{i}.[/bold] [cyan]{_escape(p.passage_id)}[/cyan]  {_escape(loc)}  [dim]score {h.score:.4f}[/dim]")
        text = " ".join(p.text.split())
        console.print("   " + _escape(text[:width] + ("…" if len(text) > width else "")), highlight=False)


def print_answer(console, a: Answer) -> None:
    if not a.answered:
        console.print(f"[yellow]{_escape(a.reason)}[/yellow]")
        console.print()
        console.print("[bold]Nearest passages[/bold]")
        print_hits(console, a.passages[:5])
        return
    for s in a.answer:
        marks = "".join(f"[{n}]" for n in s.citations)
        console.print(f"“{_escape(s.text)}” {_escape(marks)}", highlight=False)
    console.print()
    console.print("[bold]Sources[/bold]")
    for c in a.sources:
        console.print(_escape(citation_line(c)), highlight=False)
    for x in a.conflicts:
        console.print(f"[yellow]the sources differ:[/yellow] {conflict_line(x)}", highlight=False)
    for w in a.warnings:
        console.print(f"[yellow]note:[/yellow] {_escape(w)}", highlight=False)


def answer_markdown(a: Answer) -> str:
    lines = [f"**Q:** {a.question}", ""]
    if not a.answered:
        lines += [a.reason, ""]
        for h in a.passages[:5]:
            lines.append(f"- `{h.passage.passage_id}` {location(h.passage.section, h.passage.page)}")
        return "\n".join(lines) + "\n"
    for s in a.answer:
        lines.append(f"> {s.text} " + "".join(f"[{n}]" for n in s.citations))
        lines.append("")
    for c in a.sources:
        lines.append(f"{citation_line(c)}")
    if a.warnings or a.conflicts:
        lines.append("")
        lines += [f"*The sources differ: {conflict_line(x)}*" for x in a.conflicts]
        lines += [f"*Note: {w}*" for w in a.warnings]
    return "\n".join(lines) + "\n"
