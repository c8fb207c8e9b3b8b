"""APA and Chicago citations: the CSL-JSON the tool builds, rendered by citeproc-py with the bundled CSL styles.

Each citation is three lines: the quote with its in-text citation (author or title, year, and the
pinpoint: "p. 4" as CSL's locator, a section such as "§ 2258A(h)" as it stands), the reference-list entry, and,
for a superseded text, the manifest's note. The styles are the Citation Style Language project's
`apa.csl` and `chicago-author-date.csl` (CC BY-SA 3.0; see `csl/README.md`), parsed once per process.
"""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path
from typing import Any, Sequence

from ..models import Citation
from .citations import CitationError, _one_line, pinpoint, superseded_note, to_csl

STYLES = {"apa": "apa.csl", "chicago": "chicago-author-date.csl"}
CSL_DIR = Path(__file__).resolve().parent.parent / "csl"
# CSL 1.0.2 types that citeproc-py (CSL 1.0.1) does not know, as the nearest type it does
_TYPE_1_0_1 = {"dataset": "report", "document": "manuscript"}


@functools.lru_cache(maxsize=None)
def _style(name: str):
    from citeproc import CitationStylesStyle

    path = CSL_DIR / STYLES[name]
    if not path.is_file():
        raise CitationError(f"the {name} citation style is missing: {path} (reinstall ncmec-qa)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # citeproc-py warns about CSL 1.0.2 elements it skips
        return CitationStylesStyle(str(path), validate=False)


def _item(c: Citation) -> dict[str, Any]:
    """The CSL-JSON item as citeproc-py takes it: no `custom`, no `note` (the quote is printed beside it).
    A work with no person recorded is cited by its publisher as group author (APA 7 § 9.11; a statute
    by its title), and a publisher that is only the author's name is said once, as the author."""
    item = {k: v for k, v in to_csl(c).items() if k not in ("custom", "note", "section", "page")}
    item["type"] = _TYPE_1_0_1.get(item["type"], item["type"])
    if not item.get("author") and item["type"] != "legislation" and item.get("publisher"):
        item["author"] = [{"literal": item["publisher"]}]
    names = {a.get("literal") or f"{a.get('given', '')} {a['family']}".strip() for a in item.get("author", [])}
    if item.get("publisher") in names:
        del item["publisher"]
    if item.get("edition") and item["edition"].lower() in item["title"].lower():
        del item["edition"]  # "… (8-page draft)": the title says it already
    return item


def _locator(c: Citation):
    """A page as CSL's locator. A section ("§ 2258A(h)", a heading, a table row) is written after the
    year as it stands: citeproc-py would call "2258A(h)(1)" plural ("§§") and label a heading "sec."."""
    from citeproc.source import Locator

    return Locator("page", str(c.passage.page)) if c.passage.page else None


def render_one(c: Citation, style: str) -> tuple[str, str]:
    """(in-text citation with the pinpoint, reference-list entry) for one citation, as plain text."""
    from citeproc import Citation as CpCitation
    from citeproc import CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    if style not in STYLES:
        raise CitationError(f"unknown citation style {style!r}: use one of {', '.join(STYLES)}")
    item = _item(c)
    key = item["id"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bib = CitationStylesBibliography(_style(style), CiteProcJSON([item]), formatter.plain)
        loc = _locator(c)
        cite = CpCitation([CitationItem(key, locator=loc) if loc else CitationItem(key)])
        bib.register(cite)
        in_text = _tidy(str(bib.cite(cite, lambda _item: None)))
        entry = _tidy(str(bib.bibliography()[0]))
    where = pinpoint(c.passage)
    if loc is None and where and in_text.endswith(")"):  # a statute's section, a heading, a table row
        in_text = f"{in_text[:-1]}, {where})"
    return in_text, entry


def _tidy(text: str) -> str:
    """citeproc-py's plain text: entities decoded, runs of spaces and doubled stops closed up."""
    import html

    text = _one_line(html.unescape(text))
    return re.sub(r"\.\.(?!\.)", ".", re.sub(r" ([,.;:)])", r"\1", text))


def render(cs: Sequence[Citation], style: str) -> str:
    """Each citation as the quote with its in-text citation, its reference entry and any superseded note."""
    blocks = []
    for c in cs:
        in_text, entry = render_one(c, style)
        lines = [f"“{_one_line(c.quote)}” {in_text}", entry]
        note = superseded_note(c.source)
        if note:
            lines.append(note)
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
