"""Articles: every sentence accounted for, each claim checked, and the report as Markdown."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..models import Verdict
from .assess import CONTRADICTED, NOT_FOUND, SUPPORTED, VERDICTS, VerifyConfig
from .check import verify_claim
from .segment import ArticleClaim, ArticleSentence, segment_article

# -- articles ------------------------------------------------------------------------------------


def split_claims(text: str) -> list[str]:
    """The claims of an article (plain text or Markdown), in order: those of `segment_article`'s checkable
    sentences (a compound sentence gives several; headings, titles, questions, boilerplate and sentences
    with too little to check give none; citation markers ([1]) and emphasis are removed)."""
    return [c.text for s in segment_article(text) for c in s.claims]


@dataclass(frozen=True)
class ArticleReport:
    """The verdicts of an article's claims, in order, and every sentence they came from (or why it was skipped)."""

    verdicts: tuple[Verdict, ...]
    source: str = ""
    sentences: tuple[ArticleSentence, ...] = ()

    def counts(self) -> dict[str, int]:
        c = {v: 0 for v in VERDICTS}
        for v in self.verdicts:
            c[v.verdict] += 1
        return c

    @property
    def ok(self) -> bool:
        return not any(v.verdict == CONTRADICTED for v in self.verdicts)

    @property
    def skipped(self) -> list[ArticleSentence]:
        return [s for s in self.sentences if s.skip]

    def summary(self) -> str:
        c = self.counts()
        of = f" of {len(self.sentences)} sentences ({len(self.skipped)} skipped)" if self.sentences else ""
        return (
            f"{len(self.verdicts)} claims checked{of}: "
            f"{c[SUPPORTED]} supported, {c[CONTRADICTED]} contradicted, {c[NOT_FOUND]} not found"
        )

    def by_sentence(self) -> Iterator[tuple[ArticleSentence, list[tuple[int, ArticleClaim, Verdict]]]]:
        """Each sentence with its claims: (claim number from 1, the claim, its verdict)."""
        k = 0
        for s in self.sentences:
            items = []
            for c in s.claims:
                items.append((k + 1, c, self.verdicts[k]))
                k += 1
            yield s, items

    def to_list(self) -> list[dict[str, Any]]:
        """The verdicts as dicts, each with its sentence's number and its span in the article."""
        out = []
        for s, items in self.by_sentence():
            for _, c, v in items:
                out.append({**v.to_dict(), "sentence": s.n, "article_start": c.start, "article_end": c.end})
        return out

    def records(self) -> Iterator[dict[str, Any]]:
        """JSON Lines records in article order: a `claim` per checked claim, a `skipped` per sentence not
        checked (with its reason), then one `summary` with the counts."""
        for s, items in self.by_sentence():
            if s.skip:
                yield {"type": "skipped", "sentence": s.n, "text": s.text, "article_start": s.start,
                       "article_end": s.end, "skip": s.skip, "reason": s.reason}
            for _, c, v in items:
                yield {"type": "claim", **v.to_dict(), "sentence": s.n, "article_start": c.start,
                       "article_end": c.end}
        yield {"type": "summary", "source": self.source, "sentences": len(self.sentences),
               "skipped": len(self.skipped), "claims": len(self.verdicts), "counts": self.counts(), "ok": self.ok}


def verify_article(
    ws,
    text: str,
    *,
    exclude: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    k: int | None = None,
    cfg: VerifyConfig | None = None,
    source: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> ArticleReport:
    """Account for every sentence of an article and check each claim of the checkable ones."""
    sentences = segment_article(text)
    claims = [c.text for s in sentences for c in s.claims]
    out = []
    for i, c in enumerate(claims):
        out.append(verify_claim(ws, c, exclude=exclude, sources=sources, k=k, cfg=cfg))
        if progress:
            progress(i + 1, len(claims))
    return ArticleReport(tuple(out), source, tuple(sentences))


# -- Markdown ------------------------------------------------------------------------------------

_MARK = {SUPPORTED: "supported", CONTRADICTED: "**contradicted**", NOT_FOUND: "not found"}


def short_quote(quote: str, limit: int = 240) -> str:
    q = " ".join(quote.split())
    return q if len(q) <= limit else q[: limit - 1].rstrip() + "…"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def verdict_markdown(v: Verdict, quote_limit: int = 240) -> str:
    from ..render import citation_line

    lines = [f"**Claim:** {v.claim}", "", f"**Verdict:** {_MARK[v.verdict]} — {v.reason}", ""]
    if v.verdict == NOT_FOUND and v.evidence:
        lines += ["Nearest passages:", ""]
    for c in v.evidence:
        lines.append(f"> “{short_quote(c.quote, quote_limit)}” [{c.n}]")
        lines.append("")
    for c in v.evidence:
        lines.append(f"- {citation_line(c)}")
    return "\n".join(lines).rstrip() + "\n"


def report_markdown(report: ArticleReport, command: str = "", quote_limit: int = 160,
                    article: str | None = None, pinpoints_only: bool = False) -> str:
    """A verdict table, then each claim's evidence as short verbatim quotes with citations.

    pinpoints_only: name claims by their place in `article` and evidence by passage and offsets,
    quoting no text (for reports published about documents whose text may not be copied)."""
    from ..render import location

    out = [f"# Claim check: {report.source}" if report.source else "# Claim check", ""]
    if command:
        out += [f"Produced by: `{command}`", ""]
    out += [
        "Every sentence of the article, each claim of it checked against the corpus by `ncmec-qa verify` (a heuristic "
        "checker: it compares figures, years, durations and negation, and never infers). "
        + ("Claims are named by their character offsets in the article and evidence by passage id and offsets "
           "in the cited document's extracted text (`ncmec-qa cite ID` prints a quote); no text is reproduced."
           if pinpoints_only else
           "Quotes are verbatim from the cited documents, shortened with …; a `not found` claim lists the "
           "nearest passages."),
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
        for c in v.evidence:
            loc = location(c.passage.section, c.passage.page)
            where = (
                f"{c.source.title}"
                + (f", {loc}" if loc else "")
                + f" (`{c.passage.passage_id}`, chars {c.start}-{c.end})"
            )
            out.append(f"- {where}" if pinpoints_only else f"- “{short_quote(c.quote, quote_limit)}” — {where}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
