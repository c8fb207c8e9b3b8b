"""`verify --file --annotate`: the article written back with a Markdown footnote per claim (verdict, quotes, citations)."""

from __future__ import annotations

from ..models import Verdict
from ..verify.article import ArticleReport
from .render import citation_line
from .report_md import short_quote

_WORD = {"supported": "supported", "contradicted": "contradicted", "not_found": "not found"}


def footnote_label_prefix(article: str) -> str:
    """ "" for [^1], [^2] …, or "v" ([^v1] …) when the article has footnotes of its own."""
    return "v" if "[^" in article else ""


def footnote_text(v: Verdict, quote_limit: int = 200) -> str:
    """One line: the verdict, each deciding (or nearest) quote with its citation, and the reason."""
    bits = [_WORD[v.verdict]]
    if v.evidence:
        quotes = "; ".join(
            f"“{short_quote(c.quote, quote_limit)}” — {citation_line(c).split('] ', 1)[-1]}" for c in v.evidence
        )
        bits.append(("nearest: " if v.verdict == "not_found" else "") + quotes)
    bits.append(f"reason: {v.reason}")
    return " — ".join(" ".join(b.split()) for b in bits)


def annotate_markdown(article: str, report: ArticleReport, quote_limit: int = 200) -> str:
    """The article unchanged but for a footnote reference after each claim ("…ninety days.[^1]") and the
    footnotes at the end, one per claim; skipped sentences get none."""
    prefix = footnote_label_prefix(article)
    marks: list[tuple[int, str]] = []
    notes: list[str] = []
    for _, items in report.by_sentence():
        for i, c, v in items:
            label = f"[^{prefix}{i}]"
            marks.append((c.end, label))
            notes.append(f"{label}: {footnote_text(v, quote_limit)}")
    out, pos = [], 0
    for at, label in sorted(marks, key=lambda m: m[0]):
        out.append(article[pos:at])
        out.append(label)
        pos = at
    out.append(article[pos:])
    text = "".join(out).rstrip("\n")
    if notes:
        text += "\n\n" + "\n".join(notes)
    return text + "\n"
