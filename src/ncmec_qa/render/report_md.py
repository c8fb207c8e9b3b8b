"""The Markdown of verdicts and article reports: a verdict with its quotes and citations, the claim-check table."""

from __future__ import annotations

from ..models import Verdict
from ..verify.article import ArticleReport
from ..verify.assess import CONTRADICTED, NOT_FOUND, SUPPORTED
from .render import citation_line, location

_MARK = {SUPPORTED: "supported", CONTRADICTED: "**contradicted**", NOT_FOUND: "not found"}


def short_quote(quote: str, limit: int = 240) -> str:
    q = " ".join(quote.split())
    return q if len(q) <= limit else q[: limit - 1].rstrip() + "…"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def verdict_markdown(v: Verdict, quote_limit: int = 240) -> str:
    lines = [f"**Claim:** {v.claim}", "", f"**Verdict:** {_MARK[v.verdict]} — {v.reason}", ""]
    if v.verdict == NOT_FOUND and v.evidence:
        lines += ["Nearest passages:", ""]
    for c in v.evidence:
        lines.append(f"> “{short_quote(c.quote, quote_limit)}” [{c.n}]")
        lines.append("")
    for c in v.evidence:
        lines.append(f"- {citation_line(c)}")
    lines += [f"\n*Note: {w}*" for w in v.warnings]
    return "\n".join(lines).rstrip() + "\n"


def report_markdown(
    report: ArticleReport,
    command: str = "",
    quote_limit: int = 160,
    article: str | None = None,
    pinpoints_only: bool = False,
) -> str:
    """A verdict table, then each claim's evidence as short verbatim quotes with citations.

    pinpoints_only: name claims by their place in `article` and evidence by passage and offsets,
    quoting no text (for reports published about documents whose text may not be copied)."""
    out = [f"# Claim check: {report.source}" if report.source else "# Claim check", ""]
    if command:
        out += [f"Produced by: `{command}`", ""]
    out += [
        "Every sentence of the article, each claim of it checked against the corpus by `ncmec-qa verify` (a heuristic "
        "checker: it compares figures, years, durations and negation, and never infers). "
        + (
            "Claims are named by their character offsets in the article and evidence by passage id and offsets "
            "in the cited document's extracted text (`ncmec-qa cite ID` prints a quote); no text is reproduced."
            if pinpoints_only
            else "Quotes are verbatim from the cited documents, shortened with …; a `not found` claim lists the "
            "nearest passages."
        ),
        "",
        f"**{report.summary()}**",
        "",
        "| # | sentence | verdict | claim | reason |",
        "|---|---|---|---|---|",
    ]
    for sent, items in report.by_sentence():
        for i, c, v in items:
            claim = f"chars {c.start}-{c.end}" if pinpoints_only else _md_escape(short_quote(v.claim, quote_limit))
            out.append(f"| {i} | {sent.n} | {_MARK[v.verdict]} | {claim} | {_md_escape(v.reason)} |")
    out.append("")
    if report.skipped:
        out += ["Sentences not checked:", ""]
        for sent in report.skipped:
            what = f"chars {sent.start}-{sent.end}" if pinpoints_only else f"“{_md_escape(short_quote(sent.text, 80))}”"
            out.append(f"- sentence {sent.n}, {what}: {sent.reason}")
        out.append("")
    for i, v in enumerate(report.verdicts, start=1):
        if not v.evidence:
            continue
        out += [f"**{i}.** {_MARK[v.verdict]}" + (" (nearest passages)" if v.verdict == NOT_FOUND else ""), ""]
        for e in v.evidence:
            loc = location(e.passage.section, e.passage.page)
            where = (
                f"{e.source.title}"
                + (f", {loc}" if loc else "")
                + f" (`{e.passage.passage_id}`, chars {e.start}-{e.end})"
            )
            out.append(f"- {where}" if pinpoints_only else f"- “{short_quote(e.quote, quote_limit)}” — {where}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
