"""Documents to passages and sentences, every span an exact slice of the document's text.

Sentences come from pysbd (rule-based, offsets kept); a passage packs consecutive
sentences of one section and page up to `max_chars` (MiniLM sees at most 256 word
pieces, about 1,000 characters of English prose; numbers and citations cost more),
a heading starts a new passage and is kept in it, and within a long run
passages slide over each other by about `overlap` of their size (so a statement
that straddles two passages stands whole in a third). Table rows from CSV and JSON are a
passage each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .models import Block, Document, Passage, Sentence


@dataclass(frozen=True)
class ChunkConfig:
    version: int = 2  # bump when the chunking code changes what it makes (invalidates reuse)
    max_chars: int = 700
    overlap: float = 0.5  # share of max_chars that the next passage repeats
    max_sentence_chars: int = 400


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


def _units(doc: Document, cfg: ChunkConfig) -> list[tuple[int, int, Block]]:
    units = []
    for b in doc.blocks:
        if b.kind in ("heading", "row", "table_header"):
            units.append((*_trim(doc.text, b.start, b.end), b))
        else:
            units.extend((s, e, b) for s, e in split_sentences(doc.text, b.start, b.end, cfg.max_sentence_chars))
    return units


def _overlap_tail(group: list[tuple[int, int, Block]], next_end: int, cfg: ChunkConfig) -> list[tuple[int, int, Block]]:
    """The trailing sentences of `group` that the next passage repeats (sliding window)."""
    budget = int(cfg.max_chars * cfg.overlap)
    tail: list[tuple[int, int, Block]] = []
    for u in reversed(group):
        if u[2].kind == "heading" or group[-1][1] - u[0] > budget or next_end - u[0] > cfg.max_chars:
            break
        tail.insert(0, u)
    return tail if len(tail) < len(group) else tail[1:]


def chunk_document(doc: Document, cfg: ChunkConfig = ChunkConfig()) -> list[Passage]:
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

    one_row_each = doc.format in ("csv", "json")
    for unit in _units(doc, cfg):
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
            elif size > cfg.max_chars and not only_headings:
                emit(group)
                group = _overlap_tail(group, e, cfg)
        group.append(unit)
    emit(group)
    return passages
