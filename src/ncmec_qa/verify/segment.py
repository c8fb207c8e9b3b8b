"""An article's sentences with their offsets: each one checkable (with its claims) or skipped with the reason."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..answer.quantities import extract_quantities
from .assess import clean_claim
from .clauses import split_clauses
from .terms import terms

MIN_TERMS = 4  # content words (a figure counts as two) a claim needs to be checked

_BOILERPLATE = re.compile(
    r"^(?:checked on\b|disclaimer\b|want to dive deeper|learn more\b|share\b|updated\b|"
    r"published\b|please\b|subscribe\b|sign up\b|click\b|read more\b)",
    re.IGNORECASE,
)
_BOLD_HEADING = re.compile(r"^\*\*[^*]+\*\*:?$")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*\)")  # [text](url) -> text
_QUOTATION = re.compile(r"^[“\"]([^“”\"]+)[”\"][.!]?$")

# why a sentence was not checked: code -> the reason shown
REASONS = {
    "heading": "a heading",
    "title": "a title (one line without closing punctuation)",
    "boilerplate": "boilerplate (a site's notice, not a claim)",
    "question": "a question",
    "quotation": "a quotation standing alone (someone's words, not the article's claim)",
    "too_short": "too short to check",
    "no_claim": "no checkable claim",
    "empty": "no text (only citation markers or markup)",
    "code": "a code block",
    "table": "a table",
    "html": "an HTML block",
}


@dataclass(frozen=True)
class ArticleClaim:
    """One claim of a sentence: the text checked, and the span of the article it was read from."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class ArticleSentence:
    """A sentence (or a block: heading, code, table) of the article, at article[start:end]."""

    n: int
    text: str
    start: int
    end: int
    claims: tuple[ArticleClaim, ...] = ()
    skip: str = ""  # a REASONS code when not checked
    detail: str = ""  # what the reason adds ("2 content words; 4 needed")

    @property
    def reason(self) -> str:
        if not self.skip:
            return ""
        return REASONS[self.skip] + (f" ({self.detail})" if self.detail else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "sentence": self.n,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "skip": self.skip or None,
            "reason": self.reason or None,
            "claims": len(self.claims),
        }


def _weight(text: str) -> int:
    return len(terms(text)) + 2 * len(extract_quantities(text))


def _checkable(text: str) -> bool:
    return _weight(clean_claim(_LINK.sub(r"\1", text))) >= MIN_TERMS


def _is_title(text: str) -> bool:
    """A paragraph of one short line with no closing punctuation: a title or heading."""
    s = text.strip()
    return "\n" not in s and not re.search(r"[.!?:;\"”)\]]$", s) and len(s.split()) <= 25


@dataclass
class _Builder:
    article: str
    out: list[ArticleSentence] = field(default_factory=list)

    def add(
        self, text: str, start: int, end: int, skip: str = "", detail: str = "", claims: tuple[ArticleClaim, ...] = ()
    ) -> None:
        self.out.append(ArticleSentence(len(self.out) + 1, " ".join(text.split()), start, end, claims, skip, detail))

    def block(self, start_line: int, end_line: int, skip: str, line_starts: list[int]) -> None:
        a, b = line_starts[start_line], line_starts[min(end_line, len(line_starts) - 1)]
        text = self.article[a:b].rstrip()
        lead = len(text) - len(text.lstrip())
        if text.strip():
            self.add(text, a + lead, a + len(text), skip)

    def paragraph(self, lines: list[tuple[int, str]]) -> None:
        """Sentences of a paragraph given as (article offset, line text) pairs."""
        group: list[tuple[int, str]] = []
        for at, line in lines:  # a line "**Title**:" is a heading inside a paragraph
            if _BOLD_HEADING.match(line.strip()):
                if group:
                    self._prose(group)
                group = []
                self.add(line, at, at + len(line), "heading")
            else:
                group.append((at, line))
        if group:
            self._prose(group)

    def _prose(self, lines: list[tuple[int, str]]) -> None:
        # a line's own indent is not its text (markdown-it keeps it on a continuation line after "\r\n")
        lines = [(at + len(line) - len(line.lstrip()), line.strip()) for at, line in lines]
        lines = [(at, line) for at, line in lines if line]
        if not lines:
            return
        para = " ".join(line for _, line in lines)  # one space for each line break: offsets map 1:1
        pos: list[int] = []
        for at, line in lines:
            pos.extend(range(at, at + len(line) + 1))
        whole = "\n".join(line for _, line in lines)
        from ..ingest.chunking import split_sentences

        boiler = bool(_BOILERPLATE.match(para.strip()))
        if _is_title(whole) and not boiler:
            self.add(para, pos[0], pos[len(para) - 1] + 1, "title")
            return
        spans = split_sentences(para, 0, len(para), limit=2000)
        for a, b in spans:
            self._sentence(para[a:b], pos[a], pos[b - 1] + 1, "boilerplate" if boiler else "", pos[a:b])

    def _sentence(self, raw: str, start: int, end: int, skip: str, pos: list[int]) -> None:
        s = clean_claim(_LINK.sub(r"\1", raw))
        if not skip:
            if not s:
                skip = "empty"
            elif s.endswith("?"):
                skip = "question"
            elif _BOILERPLATE.match(s):
                skip = "boilerplate"
            elif _QUOTATION.match(s):
                skip = "quotation"
        if skip:
            self.add(raw, start, end, skip)
            return
        parts = split_clauses(raw, _checkable)
        if len(parts) == 1:
            n = _weight(s)
            if n < MIN_TERMS:
                words = len(s.split())
                if words < MIN_TERMS:
                    self.add(raw, start, end, "too_short", f"{words} word{'s' * (words != 1)}")
                else:
                    self.add(
                        raw,
                        start,
                        end,
                        "no_claim",
                        f"{n} content word{'s' * (n != 1)} or figures; {MIN_TERMS} needed, a figure counts as two",
                    )
                return
            self.add(raw, start, end, claims=(ArticleClaim(s, start, end),))
            return
        claims = tuple(ArticleClaim(clean_claim(_LINK.sub(r"\1", t)), pos[a], pos[b - 1] + 1) for a, b, t in parts)
        self.add(raw, start, end, claims=claims)


def _md():
    from markdown_it import MarkdownIt

    # indented code blocks off: a plain-text article's indented paragraph is prose
    return MarkdownIt("commonmark").enable("table").disable("code")


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer(r"\n", text):
        starts.append(m.end())
    starts.append(len(text))
    return starts


def _content_lines(article: str, line_starts: list[int], first_line: int, content: str) -> Iterator[tuple[int, str]]:
    """Each line of a block's inline content with its offset in the article (the content is the source lines
    without their container markers: "> ", list bullets, indentation)."""
    for i, line in enumerate(content.split("\n")):
        ln = first_line + i
        if ln >= len(line_starts) - 1:
            break
        a = line_starts[ln]
        src = article[a : line_starts[ln + 1]].rstrip("\r\n")
        at = src.find(line) if line else -1
        if at < 0:  # tabs expanded by the parser: fall back to the line without its markers
            stripped = src.lstrip(" \t>")
            stripped = re.sub(r"^(?:[-*+]|\d{1,9}[.)])\s+", "", stripped)
            at, line = len(src) - len(stripped), stripped.rstrip()
        yield a + at, line


def segment_article(article: str) -> list[ArticleSentence]:
    """Every sentence of an article (Markdown or plain text), in order, with its claims or why it is skipped.

    markdown-it-py finds the blocks: headings, code, tables and HTML are skipped as blocks; paragraphs
    (also inside lists and block quotes) are cut into sentences by pysbd. A one-line paragraph without
    closing punctuation is a title; a paragraph opening "Checked on …", "Disclaimer: …" is boilerplate;
    questions, lone quotations and sentences with too little to check are skipped; a compound sentence
    becomes several claims (`clauses.split_clauses`).
    """
    b = _Builder(article)
    starts = _line_starts(article)
    tokens = _md().parse(article)
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.type == "heading_open" and t.map:
            inline = tokens[i + 1]
            lines = list(_content_lines(article, starts, t.map[0], inline.content))
            if lines:
                a = lines[0][0]
                z = lines[-1][0] + len(lines[-1][1])
                b.add(article[a:z], a, z, "heading")
            i += 3
            continue
        if t.type == "paragraph_open" and t.map:
            inline = tokens[i + 1]
            b.paragraph(list(_content_lines(article, starts, t.map[0], inline.content)))
            i += 3
            continue
        if t.type in ("fence", "code_block") and t.map:
            b.block(t.map[0], t.map[1], "code", starts)
        elif t.type == "html_block" and t.map:
            b.block(t.map[0], t.map[1], "html", starts)
        elif t.type == "table_open" and t.map:
            b.block(t.map[0], t.map[1], "table", starts)
            while i < len(tokens) and tokens[i].type != "table_close":
                i += 1
        i += 1
    return b.out
