"""Documents to passages and sentences, every span an exact slice of the document's text.

Sentences come from pysbd (rule-based, offsets kept); a passage packs consecutive
sentences of one section and page up to `max_chars` (MiniLM sees at most 256 word
pieces, about 1,000 characters of English prose; numbers and citations cost more),
a heading starts a new passage and is kept in it, and within a long run
passages slide over each other by about `overlap` of their size (so a statement
that straddles two passages stands whole in a third). Table rows from CSV and JSON are a
passage each. A table printed as text (three or more lines in a row that each end in figures,
as on the PDF pages of counts by company or country) is cut into its lines, each a unit of its
own (kind "line"), packed into passages of at most `table_max_chars`: MiniLM reads a few rows
under the document's title far better than a page of forty, and an answer can quote one row.

A run of prose longer than `max_paragraph_chars` (a file that is one endless paragraph) is cut
into pieces of at most that size, at a sentence end or a space where there is one, before
sentence splitting, so the cost of chunking grows linearly with the text (pysbd's grows with
the square of what it is given). A `Budget` (ingest.guard) stops a document that makes too
many passages or takes too long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator

from ..models import Block, Document, Passage, Sentence

if TYPE_CHECKING:
    from .guard import Budget


@dataclass(frozen=True)
class ChunkConfig:
    version: int = 4  # bump when the chunking code (or a loader) changes what it makes (invalidates reuse)
    max_chars: int = 700
    overlap: float = 0.5  # share of max_chars that the next passage repeats
    max_sentence_chars: int = 400
    # A run of `table_min_lines` or more lines that each end in figures ("India  8,923,738",
    # "Images 39,939,298 49,404,779") is a table printed as text: each line is a unit of its
    # own (kind "line") and such lines pack into passages of at most `table_max_chars`.
    table_min_lines: int = 3
    table_max_chars: int = 250
    # Prose runs longer than this are cut into pieces before sentence splitting (linear cost).
    # The longest run in the reference corpus is 3,215 characters, so it is not cut.
    max_paragraph_chars: int = 5000


@lru_cache(maxsize=1)
def _segmenter():  # pysbd builds its rule tables on construction; build them once
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _split_long(text: str, s: int, e: int, limit: int) -> list[tuple[int, int]]:
    """Cut an over-long 'sentence' (a table page, a list without full stops) at line breaks or '; '."""
    if e - s <= limit:
        return [(s, e)]
    cuts = [m.end() for m in re.finditer(r"\n|; ", text[s:e])]
    out, start, last = [], s, s
    for c in cuts:
        pos = s + c
        if pos - start > limit and last > start:
            out.append((start, last))
            start = last
        last = pos
    out.append((start, e))
    result = []
    for a, b in out:  # still too long (no break at all): hard cut at spaces
        while b - a > limit * 2:
            cut = text.rfind(" ", a, a + limit)
            cut = cut if cut > a else a + limit
            result.append((a, cut))
            a = cut
        result.append((a, b))
    return [t for t in (_trim(text, a, b) for a, b in result) if t[0] < t[1]]


_SOFT_BREAK = re.compile(r"(?<!\n)\n(?!\n)")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s")


def pieces(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """text[start:end] cut into consecutive spans of at most `limit` characters: at the last sentence
    end (". ") in the second half of each window, else the last whitespace, else exactly at the limit.
    The spans cover the range without gaps, so every offset stays exact."""
    if limit <= 0 or end - start <= limit:
        return [(start, end)]
    out, a = [], start
    while end - a > limit:
        lo, hi = a + limit // 2, a + limit
        cut = -1
        for m in _SENTENCE_END.finditer(text, lo, hi):
            cut = m.end()
        if cut < 0:
            ws = max(text.rfind(" ", lo, hi), text.rfind("\n", lo, hi))
            cut = ws + 1 if ws >= 0 else hi
        out.append((a, cut))
        a = cut
    out.append((a, end))
    return out


def split_sentences(text: str, start: int, end: int, limit: int = 400) -> list[tuple[int, int]]:
    """Sentence spans within text[start:end], as absolute offsets.

    A single line break is a soft wrap (PDF lines, Markdown paragraphs), so the
    segmenter sees a space there; the replacement keeps every offset unchanged.
    """
    chunk = _SOFT_BREAK.sub(" ", text[start:end])
    spans: list[tuple[int, int]] = []
    pos = 0
    for seg in _segmenter().segment(chunk):
        sent = seg.sent.strip()
        at = chunk.find(sent, pos) if sent else -1
        if at < 0:
            continue
        pos = at + len(sent)
        s, e = _trim(text, start + at, start + pos)
        if s < e:
            spans.extend(_split_long(text, s, e, limit))
    if not spans:
        s, e = _trim(text, start, end)
        if s < e:
            spans = _split_long(text, s, e, limit)
    return spans


# A label (or nothing) followed by one or more figures, optionally closed by a table bar.
_TABLE_LINE = re.compile(r"^[^\n]{0,120}?(?:^|\s|\|)[$]?\d[\d,.]*%?(?:\s+[$]?\d[\d,.]*%?)*\s*\|?\s*$")


def table_runs(text: str, start: int, end: int, min_lines: int, max_line: int = 1000) -> list[tuple[int, int, bool]]:
    """text[start:end] cut into (start, end, is_table) stretches: runs of `min_lines` or more
    consecutive lines that each end in figures are tables, the rest is prose."""
    lines: list[tuple[int, int, bool]] = []
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl
        line = text[pos:stop]
        # a line far longer than a table row is prose (and the pattern is costly on it)
        lines.append((pos, stop, len(line) <= max_line and bool(line.strip()) and bool(_TABLE_LINE.match(line))))
        pos = stop + 1
    out: list[tuple[int, int, bool]] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and lines[j][2]:
            j += 1
        if j - i >= min_lines:
            out.extend((a, b, True) for a, b, _ in lines[i:j])
            i = j
            continue
        k = max(j, i + 1)
        a, b = lines[i][0], lines[k - 1][1]
        if out and not out[-1][2]:
            a = out.pop()[0]
        out.append((a, b, False))
        i = k
    return out


def _units(doc: Document, cfg: ChunkConfig, budget: "Budget | None" = None) -> Iterator[tuple[int, int, Block]]:
    """The document's units in order, made as they are consumed (so a budget stops a long document early)."""
    for b in doc.blocks:
        if b.kind in ("heading", "row", "table_header"):
            yield (*_trim(doc.text, b.start, b.end), b)
            continue
        for a, z, is_table in table_runs(doc.text, b.start, b.end, cfg.table_min_lines, 4 * cfg.table_max_chars):
            if is_table:
                s, e = _trim(doc.text, a, z)
                if s < e:
                    yield s, e, replace(b, start=s, end=e, kind="line")
                continue
            for pa, pz in pieces(doc.text, a, z, cfg.max_paragraph_chars):
                if budget is not None:
                    budget.check_time()
                yield from ((s, e, b) for s, e in split_sentences(doc.text, pa, pz, cfg.max_sentence_chars))


def _limit(unit: tuple[int, int, Block], cfg: ChunkConfig) -> int:
    return cfg.table_max_chars if unit[2].kind == "line" else cfg.max_chars


def _overlap_tail(
    group: list[tuple[int, int, Block]], next_end: int, limit: int, cfg: ChunkConfig
) -> list[tuple[int, int, Block]]:
    """The trailing sentences of `group` that the next passage repeats (sliding window)."""
    budget = int(limit * cfg.overlap)
    tail: list[tuple[int, int, Block]] = []
    for u in reversed(group):
        if u[2].kind == "heading" or group[-1][1] - u[0] > budget or next_end - u[0] > limit:
            break
        tail.insert(0, u)
    return tail if len(tail) < len(group) else tail[1:]


def chunk_document(doc: Document, cfg: ChunkConfig = ChunkConfig(), budget: "Budget | None" = None) -> list[Passage]:
    """The document's passages; `budget` (optional) raises LoadError past its passage or time limit."""
    passages: list[Passage] = []
    group: list[tuple[int, int, Block]] = []

    def emit(units: list[tuple[int, int, Block]]) -> None:
        if not units or all(b.kind == "heading" for _, _, b in units):
            return
        s, e = units[0][0], units[-1][1]
        body = next((b for _, _, b in units if b.kind != "heading"), units[0][2])
        sentences = tuple(Sentence(a, z, doc.text[a:z], b.kind) for a, z, b in units)
        passages.append(
            Passage(
                passage_id=f"{doc.source_id}:{s}-{e}",
                source_id=doc.source_id,
                file=doc.file,
                start=s,
                end=e,
                text=doc.text[s:e],
                section=body.section,
                page=body.page,
                sentences=sentences,
            )
        )
        if budget is not None:
            budget.check(len(passages))

    one_row_each = doc.format in ("csv", "json")
    for unit in _units(doc, cfg, budget):
        s, e, b = unit
        if group:
            gb = group[-1][2]
            size = e - group[0][0]
            only_headings = all(x[2].kind == "heading" for x in group)
            new_section = b.kind == "heading" and gb.kind != "heading"
            moved = (b.section != gb.section and not only_headings) or b.page != gb.page
            if one_row_each or new_section or moved:
                emit(group)
                group = []
            elif size > _limit(unit, cfg) and not only_headings:
                emit(group)
                group = _overlap_tail(group, e, _limit(unit, cfg), cfg)
        group.append(unit)
    emit(group)
    return passages
