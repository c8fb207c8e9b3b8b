"""Markdown: the file's own text, with blocks and heading paths from markdown-it-py's token map.

Offsets point into the Markdown source itself, so a quote can be checked against the
file as it is. Tables become one block per row, with the header row kept as context.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

from ..models import Block, Document
from ._util import collapse, decode_utf8

_LEAF_BLOCKS = {"paragraph_open", "fence", "code_block", "html_block"}


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    starts.append(len(text))
    return starts


def _span(text: str, starts: list[int], first: int, last: int) -> tuple[int, int]:
    """Char span of lines [first, last) without surrounding whitespace."""
    s, e = starts[first], starts[min(last, len(starts) - 1)]
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _common_prefix(paths: list[tuple[str, ...]]) -> int:
    if not paths:
        return 0
    n = min(len(p) for p in paths)
    i = 0
    while i < n and len({p[i] for p in paths}) == 1:
        i += 1
    return i


def load(data: bytes, source_id: str, file: str) -> Document:
    text = decode_utf8(data, file)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    starts = _line_starts(text)
    stack: list[tuple[int, str]] = []  # (level, heading text)
    raw: list[tuple[int, int, tuple[str, ...], str]] = []
    in_table = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open" and tok.map:
            level = int(tok.tag[1:])
            title = collapse(tokens[i + 1].content) if i + 1 < len(tokens) else ""
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            s, e = _span(text, starts, *tok.map)
            raw.append((s, e, tuple(t for _, t in stack), "heading"))
        elif tok.type == "table_open" and tok.map:
            in_table += 1
            first, last = tok.map
            header = None
            for ln in range(first, last):
                s, e = _span(text, starts, ln, ln + 1)
                if s >= e:
                    continue
                line = text[s:e]
                if header is None:
                    header = (s, e)
                    raw.append((s, e, tuple(t for _, t in stack), "table_header"))
                elif set(line.replace("|", "").strip()) <= set("-: "):
                    continue
                else:
                    raw.append((s, e, tuple(t for _, t in stack), "row"))
        elif tok.type == "table_close":
            in_table -= 1
        elif tok.type in _LEAF_BLOCKS and tok.map and not in_table:
            s, e = _span(text, starts, *tok.map)
            if s < e:
                raw.append((s, e, tuple(t for _, t in stack), "text"))
        i += 1
    # Headings shared by every block (e.g. "Title 18 > Chapter 110" on each page) add nothing.
    body_paths = [p for _, _, p, k in raw if k != "heading" and p]
    cut = max(0, min(_common_prefix(body_paths), min((len(p) for p in body_paths), default=1)) - 1)
    blocks = tuple(Block(s, e, " > ".join(p[cut:]), None, k) for s, e, p, k in sorted(raw, key=lambda r: r[0]))
    return Document(source_id, file, text, blocks, "markdown")
