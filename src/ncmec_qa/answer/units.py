"""Evidence units: the verbatim spans of a passage that can be quoted whole, with what is read beside them.

A unit is a sentence, or a statement pysbd cut in pieces joined again ("Nothing in subsections (a)
or" | "(b) requires …", a list and its lead-in, a closed list "One of: Login Upload …" with the
sentence that names what it lists), or a line of a table with its caption and its line of years
(read as context, never spliced into the quote), or a whole table the chunker cut into lines.
Answers (`answering`) and verdicts (`verify`) quote units, so that what is shown is a complete
statement, and every unit's offsets slice the document's extracted text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..models import Passage, Sentence, Source
from .quantities import Quantity, closed_list, extract_quantities, has_list_intro


@dataclass(frozen=True)
class UnitConfig:
    min_chars: int = 20  # shorter sentences are not units (unless joined, or a table row)
    max_join: int = 6  # sentences joined into one unit where pysbd cut a statement
    max_unit_chars: int = 700
    api_elements: bool = True  # an API element's entry is one unit (answers); verify judges claims by its lines
    list_items: bool = True  # a list item is also a unit of its own, read with its lead-in (answers)


def _figures(text: str) -> list[Quantity]:
    return [q for q in extract_quantities(text) if q.kind != "year"]


def _years(text: str) -> list[int]:
    return list(dict.fromkeys(int(q.value) for q in extract_quantities(text) if q.kind == "year"))


@dataclass(frozen=True)
class Unit:
    """A verbatim span that can be quoted, with what is known about it."""

    text: str  # the quote, verbatim
    context: str = ""  # read with it but not quoted: source title, section, table header
    cosine: float = 0.0
    source_id: str = ""
    start: int = 0  # offsets in the document's extracted text
    end: int = 0
    passage: Passage | None = None
    rank: int = 0  # rank of its passage among the candidates
    ref: Any = None  # caller's handle (a sentence index in benchmarks)
    label: str = ""  # a short pinpoint for reasons: "§ 2258A(h)", "CY 2023 Report…, p. 4"
    doc_year: int | None = None  # the year the document reports on (its title's, else its date's)
    reads_with: str = ""  # what a reader needs beside the quote: a table's caption and column years or header

    @property
    def key(self) -> tuple:
        return (self.source_id, self.start, self.end) if self.source_id else ("", repr(self.ref), self.start)


_WORD = re.compile(r"[^\W_]+")


def statement_words(text: str) -> tuple[str, ...]:
    """The words of a statement, lower-cased, with what PDF extraction varies (spaces, hyphens, quotes) gone."""
    return tuple(w.lower() for w in _WORD.findall(text.replace("\u00ad", "")))


def same_statement(a: str, b: str, min_ratio: float = 0.95) -> bool:
    """Whether two quotes say the same thing in the same words: one edition's sentence and the next's,
    a footnote repeated, a word split by extraction ("interna tional"). Figures must agree exactly."""
    wa, wb = statement_words(a), statement_words(b)
    if not wa or not wb:
        return False
    if wa == wb or "".join(wa) == "".join(wb):
        return True
    if [w for w in wa if any(c.isdigit() for c in w)] != [w for w in wb if any(c.isdigit() for c in w)]:
        return False
    from difflib import SequenceMatcher

    return SequenceMatcher(None, wa, wb, autojunk=False).ratio() >= min_ratio


_NUMBER = re.compile(r"\d(?:[\d,.]*\d)?")
_A_YEAR = re.compile(r"(?:19|20)\d\d")
# a footnote marker glued to a word or its punctuation ("the CyberTipline.3", "by law12 "): not a figure
_FOOTNOTE = re.compile(r"(?<=[A-Za-z][.,;:)\u201d\u2019\"])\d{1,2}(?![\d,])|(?<=[a-z])\d{1,2}(?=[\s.,;:]|$)")


def figures_apart(a: str, b: str) -> tuple[str, str] | None:
    """When `a` and `b` are one statement in the same words but for a figure ("in CY 1998, NCMEC
    received 4,560 reports" / "… 2,772 reports"): the figures of each that the other lacks. Statements
    that differ in a year are about different years, not in conflict."""
    words_a = [w for w in statement_words(a) if not any(ch.isdigit() for ch in w)]
    words_b = [w for w in statement_words(b) if not any(ch.isdigit() for ch in w)]
    na, nb = _NUMBER.findall(_FOOTNOTE.sub("", a)), _NUMBER.findall(_FOOTNOTE.sub("", b))
    if not words_a or words_a != words_b or len(na) != len(nb):
        return None
    pairs = [(x, y) for x, y in zip(na, nb) if x != y]
    if not pairs or any(_A_YEAR.fullmatch(x) or _A_YEAR.fullmatch(y) for x, y in pairs):
        return None
    return ", ".join(x for x, _ in pairs), ", ".join(y for _, y in pairs)


def evidence_years(text: str, reads_with: str, section: str, year: int | None) -> frozenset[str]:
    """The years a quote is evidence for: those it, what it is read with or its section state, else
    `year`, the year its document reports on."""
    from ..search.query import years_in

    own = years_in(" ".join((text, reads_with, section or "")))
    return frozenset(own) if own else frozenset([str(year)] if year else [])


def doc_year(source: Source) -> int | None:
    ys = _years(source.title)
    if ys:
        return max(ys)
    m = re.match(r"(19|20)\d\d", source.date or "")
    return int(m.group()) if m else None


_TERMINAL = re.compile(r"[.!?:;”\"')\]]\s*$")
_HEADER_YEARS = re.compile(
    r"^[^\n\d]{0,40}(?:(?:CY|FY)\s?)?(?:19|20)\d{2}(?:[\s|,;/]+(?:(?:CY|FY)\s?)?(?:19|20)\d{2})+[^\n\d]{0,10}$", re.M
)


def short_label(source: Source, passage: Passage) -> str:
    """A short label for reasons: "§ 2258A(h)", "API docs > 6.2 …", "CY 2023 Report …, p. 4"."""
    sec = passage.section or ""
    if sec.startswith("§"):
        segs = [x.strip() for x in sec.split(" > ")]
        m = re.match(r"§\s*(\d+[A-Z]?)", segs[0])
        if m:
            marks = "".join(mark.group() for x in segs[1:] if (mark := re.match(r"\([A-Za-z0-9]+\)", x)))
            return f"§{m.group(1)}{marks}"
    title = source.title if len(source.title) <= 40 else source.title[:38].rstrip() + "…"
    if passage.page:
        return f"{title}, p. {passage.page}"
    if sec and not sec.startswith("row "):
        last = sec.split(" > ")[-1].strip()
        return f"{title}, {last[:40]}" if last != source.title else title
    return title


_ALPHA = re.compile(r"[A-Za-z][A-Za-z.'’&-]*")


def _is_row(line: str) -> bool:
    """A table row: a label of a few words and figures ("Discord Inc. 339,412", "U.S. 724,503 2.5% …")."""
    figs = _figures(line)
    if not figs:
        return False
    rest = line
    for q in reversed(figs):
        rest = rest[: q.start] + " " + rest[q.end :]
    words = _ALPHA.findall(rest)
    if not words or len(words) > 7:
        return False
    return len(figs) >= 2 or line.rstrip().endswith(figs[-1].raw)


def _segments(block: str, start: int) -> list[tuple[int, int, bool]]:
    """A multi-line block cut into table rows (one each) and runs of other lines (joined):
    (start, end, is_row), as absolute offsets."""
    out: list[tuple[int, int, bool]] = []
    run: tuple[int, int] | None = None
    pos = 0
    for line in block.split("\n"):
        a = pos + (len(line) - len(line.lstrip()))
        b = pos + len(line.rstrip())
        pos += len(line) + 1
        if b <= a:
            continue
        if _is_row(block[a:b]):
            if run:
                out.append((start + run[0], start + run[1], False))
                run = None
            out.append((start + a, start + b, True))
        else:
            run = (run[0], b) if run else (a, b)
    if run:
        out.append((start + run[0], start + run[1], False))
    return out


def _header_before(doc: str, at: int, reach: int = 1500) -> str:
    """The nearest line of years ("CY 2021 CY 2022 CY 2023") before offset `at` in the document."""
    lo = max(0, at - reach)
    found = None
    for m in _HEADER_YEARS.finditer(doc, lo, at):
        found = m
    return " ".join(found.group().split()) if found else ""


def _caption(block: str, upto: int) -> str:
    """Lines without figures above offset `upto` in a table block: its caption and column names."""
    lines = [ln.strip() for ln in block[:upto].split("\n")]
    return " ".join(ln for ln in lines if ln and not _figures(ln) and not _HEADER_YEARS.fullmatch(ln))


def _caption_above(text: str, max_lines: int = 4) -> str:
    """The lines without figures just above the table that ends `text` (its caption), skipping
    the table's own rows and its line of years; "" when a blank line or prose comes first."""
    lines = text.rstrip().split("\n")
    while lines and (_is_row(lines[-1].strip()) or _HEADER_YEARS.fullmatch(lines[-1].strip())):
        lines.pop()
    out: list[str] = []
    while lines and len(out) < max_lines:
        ln = lines.pop().strip()
        if not ln or _figures(ln) or _TERMINAL.search(ln):
            break
        out.insert(0, ln)
    return " ".join(out)


def _joins_previous(prev: Sentence, cur_text: str) -> bool:
    """Did pysbd cut a statement in two here ("Nothing in subsections (a) or" | "(b) requires …")?"""
    if prev.kind in ("heading", "table_header", "row", "line"):
        return False
    if closed_list(cur_text) and re.match(r"(?:must\s+be\s+)?one\s+of|(?:possible|valid|allowed)", cur_text, re.I):
        return True  # "The type of event …" + "One of: Login Registration …"
    prev_text = prev.text.strip()
    if _LIST_ITEM.match(cur_text) and re.search(r"(?:[;:,—]|--|;\s*(?:or|and))\s*$", prev_text):
        return True  # "(1) monitor any user …;" + "(2) monitor the content …"
    return not _TERMINAL.search(prev_text) and bool(re.match(r"[a-z0-9(]", cur_text))


_LIST_ITEM = re.compile(r"\(\w{1,4}\)\s")
# a statement cut inside a citation: "… as required by subsection" + "(a) of that section, shall be fined …"
_CITES_NEXT = re.compile(r"\b(?:sub)?(?:sections?|paragraphs?|clauses?)\s*$", re.I)
# an API element's or attribute's line in the reference documentation: "<ipCaptureEvent>0+", "disabledDate0|1attribute"
_ELEMENT = re.compile(r"<(?P<name>[A-Za-z][\w.-]*)>(?:0\|1|0\+|1\+|1)?|(?P<attr>[a-z][\w]*)(?:0\|1|1)attribute")
_DOC_HEADING = re.compile(r"^(?:Appendix [A-Z]:|[A-Z]\.\d+(?:\.\d+)*\.|\d+(?:\.\d+)*\.)\s", re.M)


def element_entries(sents: Sequence[Sentence]) -> list[tuple[int, int]]:
    """(first, last) sentence of each API element's entry: its line with its cardinality, its
    description, its type and validation lines, up to the next element, attribute or heading."""
    heads = [i for i, s in enumerate(sents) if s.kind == "text" and _ELEMENT.fullmatch(s.text.strip())]
    out = []
    for n, i in enumerate(heads):
        k = i
        stop = heads[n + 1] if n + 1 < len(heads) else len(sents)
        while k + 1 < stop and sents[k + 1].kind == "text" and not _DOC_HEADING.match(sents[k + 1].text.strip() + " "):
            k += 1
        out.append((i, k))
    return out


def element_children(doc: str, after: int, limit: int = 12) -> str:
    """The elements listed after offset `after` up to the next heading: a container's children, by name."""
    m = _DOC_HEADING.search(doc, after)
    names = list(
        dict.fromkeys(
            x.group(1)
            for x in re.finditer(
                r"^(<[A-Za-z][\w.-]*>)(?:0\|1|0\+|1\+|1)?$", doc[after : m.start() if m else len(doc)], re.M
            )
        )
    )
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"child elements: {', '.join(names[:limit])}{more}" if names else ""


def passage_units(
    p: Passage,
    cosines: Sequence[float],
    source: Source,
    doc_text: Callable[[], str | None],
    rank: int,
    cfg: UnitConfig,
    passage_cosine: float = 0.0,
) -> list[Unit]:
    """The quotable units of one passage (see the module docstring). Table lines carry
    `ref="line"` so that the caller may give them a cosine of their own; a line that the
    chunker cut out of a table page starts from the cosine of its passage (the table with its
    title), as a line inside a multi-line block starts from the block's."""
    label = short_label(source, p)
    year = doc_year(source)
    sec = p.section
    if sec.startswith("row "):  # a CSV row: "row 3 (columns: year, reports)" is read by its columns
        sec = sec[sec.index("(") + 1 : -1] if sec.endswith(")") and "(" in sec else ""
    base_ctx = ". ".join(x for x in (source.title, source.publisher, source.edition or "", sec) if x)
    sents = list(p.sentences)
    cos_of = [float(cosines[i]) if i < len(cosines) else 0.0 for i in range(len(sents))]
    out: list[Unit] = []

    def span(a: int, b: int) -> str:
        return p.text[a - p.start : b - p.start]

    def unit(a: int, b: int, cos: float, extra: str = "", ref: Any = None) -> Unit:
        ctx = base_ctx + ("\n" + extra if extra else "")
        return Unit(span(a, b), ctx, cos, p.source_id, a, b, p, rank, ref, label, year, " ".join(extra.split()))

    # An API element is one unit: its line, description, type and validation; a container element
    # (no type of its own) is read with the names of its children. Its lines are no units of their own.
    inside: set[int] = set()
    for i, k in element_entries(sents) if cfg.api_elements else ():
        inside.update(range(i, k + 1))
        if i == 0 and p.start > 0 and k == len(sents) - 1:
            continue
        lines = [x.text.strip() for x in sents[i : k + 1]]
        extra = ""
        if not any(x.startswith("type ") for x in lines) and k > i:
            extra = element_children(doc_text() or "", sents[k].end)
        if k > i:  # an element line alone says nothing
            out.append(unit(sents[i].start, sents[k].end, max(cos_of[i : k + 1]), extra, ref="element"))
    for i, s in enumerate(sents):
        if s.kind in ("heading", "table_header") or i in inside:
            continue
        text = s.text.strip()
        if text.endswith("?"):
            continue
        if i == 0 and p.start > 0 and re.match(r"[a-z]", text) and "\n" not in text:
            continue  # the tail of a statement cut by the passage boundary: an overlapping passage has it whole
        a, b, cos = s.start, s.end, cos_of[i]
        if s.kind == "line" and _HEADER_YEARS.fullmatch(text):
            continue  # a table's line of years: context of the rows below, not a statement
        if s.kind == "line" and _is_row(text):  # a line of a table printed as text (see chunking)
            header = _header_before(span(p.start, a), a - p.start)
            caption = _caption_above(span(p.start, a))
            if not (header and caption):
                doc = doc_text() or ""
                header = header or _header_before(doc, a)
                caption = caption or _caption_above(doc[max(0, a - 1500) : a])
            out.append(unit(a, b, max(cos, passage_cosine), " ".join(x for x in (caption, header) if x), ref="line"))
            continue
        j = f = i
        if s.kind not in ("row", "line"):
            # join what pysbd cut: back to the start of the statement (a list's lead-in included) …
            while (
                j > 0
                and i - j < cfg.max_join
                and b - sents[j - 1].start <= cfg.max_unit_chars
                and _joins_previous(sents[j - 1], sents[j].text.strip())
            ):
                j -= 1
                a, cos = sents[j].start, max(cos, cos_of[j])
            # … and forward to its end ("… described in sections" + "(a) and" + "(b).")
            while (
                f + 1 < len(sents)
                and f - i < cfg.max_join
                and sents[f + 1].end - a <= cfg.max_unit_chars
                and not _TERMINAL.search(sents[f].text.strip())
                and sents[f + 1].kind == s.kind
                and (not _LIST_ITEM.match(sents[f + 1].text.strip()) or _CITES_NEXT.search(sents[f].text))
                and re.match(r"[a-z(]", sents[f + 1].text.strip())
            ):
                f += 1
                b = sents[f].end
        if has_list_intro(text) and len(text) < 40:
            # "The type of event …" / "One of:" / "Login" / "Registration" …: one unit
            k = i
            while k + 1 < len(sents) and re.fullmatch(r"[A-Z][\w-]*", sents[k + 1].text.strip()):
                k += 1
            if i > 0 and k > i:
                out.append(unit(sents[i - 1].start, sents[k].end, max(cos_of[i - 1], cos)))
            continue
        if j == i == f and s.kind != "row" and len(text) < cfg.min_chars:
            continue
        block = span(s.start, s.end)
        segs = _segments(block, s.start) if "\n" in text and s.kind != "row" else []
        if sum(r for _, _, r in segs) >= 2:
            whole: str | None = None  # the document's text, read once when a line has no header in its passage
            for la, lb, row in segs:
                if not row:
                    if la == segs[0][0] and j < i:
                        la = a  # keep the fragment joined above
                    if lb - la >= cfg.min_chars and len(_ALPHA.findall(span(la, lb))) >= 4:
                        out.append(unit(la, lb, cos))
                    continue
                header = _header_before(span(p.start, la), la - p.start)
                if not header:
                    whole = whole if whole is not None else (doc_text() or "")
                    header = _header_before(whole, la) if whole else ""
                extra = " ".join(x for x in (_caption(block, la - s.start), header) if x)
                out.append(unit(la, lb, cos, extra, ref="line"))
            continue
        if s.kind == "row":  # a CSV/JSON row: its column names are in the passage's header line
            hdr = next((x.text for x in sents if x.kind == "table_header"), "")
            out.append(unit(a, b, cos, hdr))
            continue
        if cfg.list_items and j < i and _LIST_ITEM.match(text) and len(text) >= cfg.min_chars:
            # a list item is also a statement of its own ("(6) the term “provider” means …"), read with
            # its list's lead-in ("In sections 2258A through 2258E"), which is not spliced into it
            lead = next((x.text.strip() for x in reversed(sents[j:i]) if not _LIST_ITEM.match(x.text.strip())), "")
            b_item = sents[f].end if f > i else s.end
            out.append(unit(s.start, b_item, cos_of[i], lead if len(lead) <= 200 else "", ref="item"))
            if _LIST_ITEM.match(sents[j].text.strip()):
                continue  # items without their lead-in (the passage starts inside the list): not one statement
        out.append(unit(a, b, cos, ref="joined" if (j, f) != (i, i) else None))
    # A table the chunker cut into lines is also one unit (ref="table"), with the caption above it in the
    # passage, so that a claim with two figures of one table ("36,210,368 reports, 35,944,826 of them
    # from …") finds both in one place. Answers quote its lines, not the whole table.
    i = 0
    while i < len(sents):
        if sents[i].kind != "line":
            i += 1
            continue
        j = i
        while j + 1 < len(sents) and sents[j + 1].kind == "line":
            j += 1
        first = i - 1 if i > 0 and sents[i - 1].kind == "text" and not _figures(sents[i - 1].text) else i
        if j > i:
            out.append(
                unit(sents[first].start, sents[j].end, max([passage_cosine, *cos_of[first : j + 1]]), ref="table")
            )
        i = j + 1
    return out
