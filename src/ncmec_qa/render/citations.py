"""Citation export: a cited quote as BibTeX (pybtex), CSL-JSON, RIS (rispy), Markdown, APA or Chicago.

Everything comes from the manifest's own record of the source (title, authors, publisher, date, URL,
edition, superseded note) and from the passage (section path, page); the quote is the verbatim span,
and the pinpoint is the page for paged documents and the section (a statute's "§2258A(h)") otherwise.
APA and Chicago are rendered from the CSL-JSON item by citeproc-py (`citeproc_render`).
"""

from __future__ import annotations

import json
import re
from typing import Any, Sequence

from ..errors import NcmecQaError
from ..models import Citation, Passage, Source

FORMATS = ("markdown", "bibtex", "csl-json", "ris", "apa", "chicago")


class CitationError(NcmecQaError):
    pass


# -- what the source is, and where in it the quote stands ----------------------------------------

_LAW = re.compile(r"U\.\s?S\.\s?C\.|U\.S\. Code|United States Code|Public Law|Pub\. ?L\.", re.I)


def source_type(s: Source) -> str:
    """A CSL type: legislation, report, webpage, dataset or document."""
    if _LAW.search(s.title) or _LAW.search(s.publisher or ""):
        return "legislation"
    fmt = (s.format or "").lower()
    if fmt in ("csv", "json"):
        return "dataset"
    if fmt == "pdf":
        return "report"
    if fmt == "html":
        return "webpage"
    return "document"


def pinpoint(passage: Passage) -> str:
    """Where the quote stands: "p. 4", "§2258A(h)", or the section's last two headings."""
    parts = []
    sec = (passage.section or "").strip()
    if sec and not re.fullmatch(r"row \d+", sec):
        segs = [x.strip().rstrip(".").strip() for x in sec.split(" > ") if x.strip()]
        m = re.match(r"§\s*(\d+[A-Z]?)", segs[0]) if segs else None
        if m:
            marks = "".join(mark.group() for x in segs[1:] if (mark := re.match(r"\([A-Za-z0-9]+\)", x)))
            parts.append(f"§ {m.group(1)}{marks}")
        else:
            parts.append(" > ".join(segs[-2:]))
    elif sec:
        parts.append(sec)
    if passage.page:
        parts.append(f"p. {passage.page}")
    return ", ".join(parts)


def _date_parts(date: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", date or "")[:3]]


def cite_key(c: Citation) -> str:
    return re.sub(r"[^A-Za-z0-9_:-]+", "-", f"{c.source.id}:{c.start}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- who wrote it, and whether it still stands ----------------------------------------------------


def person(name: str) -> dict[str, str]:
    """ "Grimm, Robert" as CSL's {"family": "Grimm", "given": "Robert"}."""
    family, _, given = (x.strip() for x in name.partition(","))
    return {"family": family, "given": given} if given else {"family": family}


def superseded_note(s: Source) -> str:
    """The manifest's `superseded_by` as a sentence for every format ("" when the text still stands)."""
    ref = (s.superseded_by or "").strip()
    if not ref:
        return ""
    return f"Superseded by {ref}." if re.fullmatch(r"[a-z0-9][a-z0-9.-]*", ref) else f"Superseded: {ref.rstrip('.')}."


def _note(c: Citation, quote: str) -> str:
    """Pinpoint, quote and superseded note, as one note (BibTeX `note`, CSL `note`)."""
    where = pinpoint(c.passage)
    return " ".join(x for x in ((f"{where}." if where else ""), f"Quote: {quote}", superseded_note(c.source)) if x)


# -- formats -------------------------------------------------------------------------------------

# pybtex's writer encodes &, %, #, _ and ~ (latexcodec) and refuses unbalanced braces; the rest is escaped
# here, braces as commands with balanced braces (BibTeX counts braces even after a backslash)
_BIB_ESC = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "$": r"\$",
    "^": r"\textasciicircum{}",
}


def _bib(text: str) -> str:
    return "".join(_BIB_ESC.get(ch, ch) for ch in _one_line(text))


_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()


def to_bibtex(c: Citation) -> str:
    """One BibTeX entry written by pybtex (authors as `author`, the note with pinpoint, quote, superseded)."""
    from pybtex.database import BibliographyData, Entry, Person

    s = c.source
    entry = "techreport" if source_type(s) == "report" else "misc"
    dp = _date_parts(s.date)
    fields: list[tuple[str, str]] = [("title", "{" + _bib(s.title) + "}")]  # {…}: keeps its capitals
    fields.append(("institution" if entry == "techreport" else "publisher", _bib(s.publisher)))
    if dp:
        fields.append(("year", str(dp[0])))
    if len(dp) > 1:
        fields.append(("month", _MONTHS[dp[1] - 1]))
    if s.date:
        fields.append(("date", _bib(s.date)))
    if s.edition:
        fields.append(("edition", _bib(s.edition)))
    if c.passage.page:
        fields.append(("pages", str(c.passage.page)))
    if s.url:
        fields.append(("url", s.url))
    fields.append(("note", _bib(_note(c, f"``{c.quote}''"))))
    fields.append(("annote", _bib(f"ncmec-qa passage {c.passage.passage_id}, characters {c.start}-{c.end}")))
    persons = {"author": [Person(_bib(a)) for a in s.authors]} if s.authors else None
    data = BibliographyData(entries={cite_key(c): Entry(entry, fields=fields, persons=persons)})
    return data.to_string("bibtex")


def to_csl(c: Citation) -> dict[str, Any]:
    s = c.source
    item: dict[str, Any] = {"id": cite_key(c), "type": source_type(s), "title": s.title}
    if s.authors:
        item["author"] = [person(a) for a in s.authors]
    item["publisher"] = s.publisher
    dp = _date_parts(s.date)
    if dp:
        item["issued"] = {"date-parts": [dp]}
    if s.url:
        item["URL"] = s.url
    if s.edition:
        item["edition"] = s.edition
    if c.passage.page:
        item["page"] = str(c.passage.page)
    if c.passage.section:
        item["section"] = c.passage.section
    where = pinpoint(c.passage)
    item["note"] = _note(c, f"“{_one_line(c.quote)}”")
    item["custom"] = {
        "passage_id": c.passage.passage_id,
        "start": c.start,
        "end": c.end,
        "quote": c.quote,
        "source_id": s.id,
        "file": s.file,
        "pinpoint": where,
        "superseded": superseded_note(s),
    }
    return item


def to_csl_json(cs: Sequence[Citation]) -> str:
    return json.dumps([to_csl(c) for c in cs], indent=2, ensure_ascii=False) + "\n"


_RIS_TYPE = {"legislation": "STAT", "report": "RPRT", "webpage": "ELEC", "dataset": "DATA", "document": "GEN"}


def _ris_record(c: Citation) -> dict[str, Any]:
    """A record in rispy's field names (its writer puts them in RIS tags)."""
    s = c.source
    rec: dict[str, Any] = {
        "type_of_reference": _RIS_TYPE[source_type(s)],
        "id": cite_key(c),
        "title": _one_line(s.title),
    }
    if s.authors:
        rec["authors"] = [_one_line(a) for a in s.authors]
    rec["publisher"] = _one_line(s.publisher)
    dp = _date_parts(s.date)
    if dp:
        rec["year"] = str(dp[0])
        mm, dd = (f"{dp[1]:02d}" if len(dp) > 1 else ""), (f"{dp[2]:02d}" if len(dp) > 2 else "")
        rec["date"] = f"{dp[0]}/{mm}/{dd}/"  # RIS: YYYY/MM/DD/other, empty parts kept
    if s.edition:
        rec["edition"] = _one_line(s.edition)
    if c.passage.page:
        rec["start_page"] = str(c.passage.page)
    if s.url:
        rec["urls"] = [s.url]
    where = pinpoint(c.passage)
    notes = [f"Pinpoint: {where}"] if where else []
    notes.append(f"Quote: “{_one_line(c.quote)}”")
    if s.superseded_by:
        notes.append(superseded_note(s))
    notes.append(f"ncmec-qa passage {c.passage.passage_id}, characters {c.start}-{c.end}")
    rec["notes"] = notes
    return rec


def to_ris(c: Citation) -> str:
    """One RIS record written by rispy (TY first, no numbered header line)."""
    return ris_text([c])


def ris_text(cs: Sequence[Citation]) -> str:
    import rispy

    class _Writer(rispy.RisWriter):
        def set_header(self, count: int) -> str:
            return ""  # rispy numbers records ("1."); RIS readers need none, and TY starts a record

    return rispy.dumps([_ris_record(c) for c in cs], implementation=_Writer)


def to_markdown(c: Citation) -> str:
    s = c.source
    bits = [f"*{s.title}*", s.publisher, s.date]
    if s.edition and s.edition != s.date:
        bits.append(s.edition)
    where = pinpoint(c.passage)
    if where:
        bits.append(where)
    line = ", ".join(b.rstrip(".") for b in bits if b)
    if s.authors:
        line = " & ".join(s.authors) + ". " + line
    if s.url:
        line += f". <{s.url}>"
    note = superseded_note(s)
    tail = f"\n>\n> {note}" if note else ""
    return f"> “{_one_line(c.quote)}”\n>\n> — {line} (`{c.passage.passage_id}`, characters {c.start}–{c.end}){tail}\n"


def export(cs: Sequence[Citation], fmt: str) -> str:
    """All citations in one format (CSL-JSON: one array; the others: one entry after another)."""
    if fmt == "csl-json":
        return to_csl_json(cs)
    if fmt == "ris":
        return ris_text(cs)
    if fmt in ("apa", "chicago"):
        from .citeproc_render import render

        return render(cs, fmt)
    one = {"bibtex": to_bibtex, "ris": to_ris, "markdown": to_markdown}.get(fmt)
    if one is None:
        raise CitationError(f"unknown citation format {fmt!r}: use one of {', '.join(FORMATS)}")
    return "\n".join(one(c) for c in cs)


# -- from the index ------------------------------------------------------------------------------

_SPAN_ID = re.compile(r"^(?P<sid>.+):(?P<a>\d+)-(?P<b>\d+)$")


def _find(text: str, quote: str) -> tuple[int, int] | None:
    """Offsets of `quote` in `text`, exactly or with any run of whitespace matching any other."""
    i = text.find(quote)
    if i >= 0:
        return i, i + len(quote)
    words = quote.split()
    if not words:
        return None
    m = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return (m.start(), m.end()) if m else None


def cite_passage(ws, passage_id: str, quote: str | None = None, n: int = 1) -> Citation:
    """A citation of a passage (its whole text, or `quote` within it), from the index and manifest.

    `passage_id` may also name a span inside a passage ("usc-18-2258a:12600-12700", as
    `verify --json` gives it with `start`/`end`): the passage holding it is cited with that
    span as the quote."""
    index = ws.index
    rowid = index.rowid_of(passage_id)
    span: tuple[int, int] | None = None
    if rowid is None:
        m = _SPAN_ID.match(passage_id)
        if m:
            a, b = int(m["a"]), int(m["b"])
            r = index.rowid_holding(m["sid"], a, b)
            if r is not None and b > a:
                rowid, span = r, (a, b)
    if rowid is None:
        raise CitationError(
            f"no passage {passage_id!r} in the index at {ws.paths.index}; passage ids look like "
            "'usc-18-2258a:12376-12961' (see `ncmec-qa search --json` or `verify --json`)"
        )
    p = index.passages([rowid])[rowid]
    sources = ws.sources()
    src = sources.get(p.source_id)
    if src is None:
        raise CitationError(f"source {p.source_id!r} of passage {p.passage_id} is not in the manifest")
    if quote:
        found = _find(p.text, quote)
        if found is None:
            raise CitationError(
                f"the quote is not in passage {p.passage_id}: cite a verbatim part of it (whitespace may differ)"
            )
        a, b = p.start + found[0], p.start + found[1]
    elif span:
        a, b = span
    else:
        a, b = p.start, p.end
    text = p.text[a - p.start : b - p.start]
    lead = len(text) - len(text.lstrip())
    trail = len(text) - len(text.rstrip())
    a, b = a + lead, b - trail
    return Citation(n, src, p, a, b, p.text[a - p.start : b - p.start])
