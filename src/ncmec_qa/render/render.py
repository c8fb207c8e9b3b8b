"""Output: terminal text through rich, JSON, and Markdown.

Results go to stdout; progress and logs go to stderr (the CLI decides which console). Terminal
text is wrapped at word boundaries to the console's width (a rich console's `width`; for a pipe,
`COLUMNS` when set, else not wrapped): a quote is never cut inside a word and a URL, like any
word longer than the line, stands whole on its own line.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from typing import Any, Sequence

from ..models import Answer, Citation, Hit


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
    """ "[1] says 4,560 where [2] says 2,772 (the same statement otherwise)"."""
    (a, b), (fa, fb) = x.citations, x.figures
    return f"[{a}] says {fa} where [{b}] says {fb} (the same statement otherwise)"


def _escape(text: str) -> str:
    """Escape rich markup in corpus text (a quote may contain "[1]")."""
    return re.sub(r"(\\*)(\[[a-z#/@])", r"\1\1\\\2", text)


_TAG = re.compile(r"(?<!\\)\[/?(?:bold|cyan|dim|yellow)\]")


class PlainConsole:
    """rich's `Console.print` for pipes and files: the same calls, no styling, no rich import.
    `width`: where `print_*` wrap lines (`COLUMNS` when set, else None: one line per item)."""

    def __init__(self, file=None, width: int | None = None):
        self.file = file
        self.width = width if width is not None else columns()

    def print(self, text: str = "", highlight: bool = False) -> None:
        import click

        click.echo(_TAG.sub("", text).replace("\\[", "["), file=self.file)


def columns() -> int | None:
    """`COLUMNS` from the environment when it is a positive number, else None."""
    try:
        n = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return None
    return n if n > 0 else None


def wrap(text: str, width: int | None, indent: str = "", first: str = "") -> list[str]:
    """`text` as lines of at most `width` columns, broken only at spaces (never inside a word, a URL or
    after a hyphen); a word longer than the line stands alone on it. No width: one line."""
    if not width:
        return [first + text]
    w = textwrap.TextWrapper(
        width=width, initial_indent=first, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    )
    return w.wrap(text) or [first]


def emit(
    console,
    text: str,
    indent: str = "",
    first: str = "",
    styles: Sequence[tuple[str, str]] = (),
    style: str | None = None,
) -> None:
    """Print plain `text` wrapped to the console's width; each (substring, style) in `styles` is marked
    up where it stands whole on one line, `style` marks up every line (the text itself is escaped,
    never read as markup)."""
    width = getattr(console, "width", None)
    for line in wrap(text, width, indent, first):
        if style:
            console.print(f"[{style}]{_escape(line)}[/{style}]", highlight=False)
            continue
        out, pos = [], 0
        for piece, style in styles:
            i = line.find(piece, pos)
            if i < 0 or not piece:
                continue
            out += [_escape(line[pos:i]), f"[{style}]{_escape(piece)}[/{style}]"]
            pos = i + len(piece)
        out.append(_escape(line[pos:]))
        console.print("".join(out), highlight=False)


def separator(console) -> None:
    """The line between two answers of an `ask -` session."""
    console.print("─" * min(getattr(console, "width", None) or 40, 80), highlight=False)


def print_hits(console, hits: Sequence[Hit], width: int = 300) -> None:
    for i, h in enumerate(hits, start=1):
        p = h.passage
        loc = location(p.section, p.page)
        score = f"score {h.score:.4f}"
        emit(
            console,
            f"{i}. {p.passage_id}  {loc}  {score}",
            indent="   ",
            styles=[(f"{i}.", "bold"), (p.passage_id, "cyan"), (score, "dim")],
        )
        emit(console, clip(p.text, width), indent="   ", first="   ")


def clip(text: str, limit: int) -> str:
    """`text` on one line, cut at the last space within `limit` characters, with "…" when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


CHECK_AGAINST = (
    "Primary passages to check the quotes against (nearest the question and each quote; not judged to answer it)"
)


def print_answer(console, a: Answer) -> None:
    if not a.answered:
        emit(console, a.reason, style="yellow")
        console.print()
        console.print("[bold]Nearest passages[/bold]")
        print_hits(console, a.passages[:5])
        return
    wrapped = bool(getattr(console, "width", None))
    for s in a.answer:
        marks = "".join(f"[{n}]" for n in s.citations)
        text = " ".join(s.text.split()) if wrapped else s.text  # wrapped: the quote's line breaks become spaces
        emit(console, f"“{text}” {marks}", indent=" ")
    console.print()
    console.print("[bold]Sources[/bold]")
    for c in a.sources:
        emit(console, citation_line(c), indent="    ")
    for x in a.conflicts:
        emit(
            console,
            f"the sources differ: {conflict_line(x)}",
            indent="    ",
            styles=[("the sources differ:", "yellow")],
        )
    for w in a.warnings:
        emit(console, f"note: {w}", indent="    ", styles=[("note:", "yellow")])
    if a.check_against:
        console.print()
        console.print(f"[bold]{CHECK_AGAINST}[/bold]")
        print_hits(console, a.check_against)


def _markdown_hits(hits: Sequence[Hit]) -> list[str]:
    lines = []
    for h in hits:
        loc = location(h.passage.section, h.passage.page)
        lines.append(f"- `{h.passage.passage_id}`" + (f" {loc}" if loc else ""))
        lines.append("")
        lines.append(f"  > {clip(h.passage.text, 400)}")
        lines.append("")
    return lines


def answer_markdown(a: Answer) -> str:
    lines = [f"**Q:** {a.question}", ""]
    if not a.answered:
        lines += [a.reason, "", "Nearest passages:", ""] + _markdown_hits(a.passages[:5])
        return "\n".join(lines).rstrip("\n") + "\n"
    for s in a.answer:
        lines.append(f"> {s.text} " + "".join(f"[{n}]" for n in s.citations))
        lines.append("")
    for c in a.sources:
        lines.append(f"{citation_line(c)}")
    if a.warnings or a.conflicts:
        lines.append("")
        lines += [f"*The sources differ: {conflict_line(x)}*" for x in a.conflicts]
        lines += [f"*Note: {w}*" for w in a.warnings]
    if a.check_against:
        lines += ["", f"{CHECK_AGAINST}:", ""] + _markdown_hits(a.check_against)
    return "\n".join(lines).rstrip("\n") + "\n"
