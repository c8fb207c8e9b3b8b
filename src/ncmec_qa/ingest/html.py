"""HTML: main text and headings through BeautifulSoup (lxml parser).

Scripts, styles, navigation, headers and footers are dropped; every block-level
element becomes a block whose whitespace is collapsed, and headings give the
section path. `<pre>` text is split at its blank lines.
"""

from __future__ import annotations

import re
from typing import Iterator

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from ..models import Document
from ._util import TextBuilder, collapse

SKIP = {"script", "style", "nav", "noscript", "template", "svg", "button", "form", "head", "iframe"}
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "aside",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "caption",
    "blockquote",
    "figure",
    "figcaption",
    "body",
    "html",
    "center",
    "address",
    "details",
    "summary",
    "br",
    "hr",
}


class _Walker:
    def __init__(self) -> None:
        self.b = TextBuilder()
        self.buf: list[str] = []
        self.stack: list[tuple[int, str]] = []

    def section(self) -> str:
        return " > ".join(t for _, t in self.stack)

    def flush(self, kind: str = "text") -> None:
        text = collapse("".join(self.buf))
        self.buf = []
        if text:
            self.b.add(text, self.section(), kind=kind)

    def walk(self, node: Tag) -> None:
        """Depth first over the tree with a stack of its own (deeply nested HTML is valid HTML)."""
        stack: list[tuple[Iterator, bool]] = [(iter(node.children), False)]  # (children, flush when done)
        while stack:
            child = next(stack[-1][0], None)
            if child is None:
                if stack.pop()[1]:
                    self.flush()
                continue
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                self.buf.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower()
            if name in SKIP or (name in ("header", "footer") and child.find_parent("article") is None):
                continue
            if name in HEADINGS:
                self.flush()
                title = collapse(child.get_text(" "))
                if title:
                    level = HEADINGS[name]
                    while self.stack and self.stack[-1][0] >= level:
                        self.stack.pop()
                    self.stack.append((level, title))
                    self.b.add(title, self.section(), kind="heading")
            elif name == "tr":
                self.flush()
                cells = [collapse(c.get_text(" ")) for c in child.find_all(["td", "th"])]
                row = " | ".join(c for c in cells if c)
                if row:
                    self.b.add(row, self.section(), kind="row")
            elif name == "pre":
                self.flush()
                for para in re.split(r"\n[ \t]*\n", child.get_text()):
                    self.buf.append(para)
                    self.flush()
            elif name in BLOCKS:
                self.flush()
                stack.append((iter(child.children), True))
            else:
                stack.append((iter(child.children), False))


def load(data: bytes, source_id: str, file: str) -> Document:
    soup = BeautifulSoup(data, "lxml")
    root = soup.body or soup
    w = _Walker()
    w.walk(root)
    w.flush()
    return Document(source_id, file, w.b.text(), tuple(w.b.blocks), "html")
