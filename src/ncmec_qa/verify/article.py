"""Articles: the checkable sentences of a text, each checked, and the report as Markdown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from ..claimcheck import extract_quantities
from ..models import Verdict
from .assess import CONTRADICTED, NOT_FOUND, SUPPORTED, VERDICTS, VerifyConfig, clean_claim
from .check import verify_claim
from .terms import terms

# -- articles ------------------------------------------------------------------------------------

_HEADING_MD = re.compile(r"^\s{0,3}(?:#{1,6}\s|[-=]{3,}\s*$)")
_BOILERPLATE = re.compile(
    r"^(?:checked on\b|disclaimer\b|want to dive deeper|learn more\b|share\b|updated\b|"
    r"published\b|please\b|subscribe\b|sign up\b|click\b|read more\b)",
    re.I,
)


def _is_heading_line(line: str) -> bool:
    s = line.strip()
    return bool(s) and (bool(_HEADING_MD.match(line)) or bool(re.match(r"^\*\*[^*]+\*\*:?$", s)))


def _is_title(paragraph: str) -> bool:
    """A paragraph of one short line with no closing punctuation: a title or heading."""
    s = paragraph.strip()
    return "\n" not in s and not re.search(r"[.!?:;\"”)\]]$", s) and len(s.split()) <= 25


def split_claims(text: str, min_terms: int = 4) -> list[str]:
    """The checkable sentences of an article (plain text or Markdown).

    Headings and titles (Markdown headings, one-line paragraphs without closing punctuation),
    questions, boilerplate paragraphs ("Checked on …", "Disclaimer: …") and sentences with too
    little to check are skipped; citation markers ([1]) and emphasis are removed.
    """
    from ..chunking import split_sentences

    paragraphs: list[str] = []
    cur: list[str] = []
    in_code = False

    def flush() -> None:
        if cur:
            paragraphs.append("\n".join(cur))
            cur.clear()

    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            flush()
            continue
        if in_code:
            continue
        if not line.strip() or _is_heading_line(line):
            flush()
            continue
        if re.match(r"^\s*(?:[-*+]|\d{1,2}[.)])\s+", line):
            flush()
        cur.append(line.strip())
    flush()
    claims: list[str] = []
    for para in paragraphs:
        if _is_title(para) or _BOILERPLATE.match(para.strip()):
            continue
        para = re.sub(r"^\s*>\s?", "", para).replace("\n", " ")
        for a, b in split_sentences(para, 0, len(para), limit=2000):
            s = clean_claim(para[a:b])
            if not s or s.endswith("?") or _BOILERPLATE.match(s):
                continue
            for part in _clauses(s, min_terms):
                if len(terms(part)) + 2 * len(extract_quantities(part)) >= min_terms:
                    claims.append(part)  # else too little to check: a figure counts as two words
    return claims


def _clauses(sentence: str, min_terms: int) -> list[str]:
    """A sentence cut at "; " into clauses that are claims of their own (each checkable), else whole."""
    parts = [p.strip() for p in sentence.split("; ")]
    if len(parts) < 2 or any(len(terms(p)) < min_terms for p in parts):
        return [sentence]
    return [p[0].upper() + p[1:] + ("" if re.search(r"[.!?]$", p) else ".") for p in parts]


@dataclass(frozen=True)
class ArticleReport:
    verdicts: tuple[Verdict, ...]
    source: str = ""

    def counts(self) -> dict[str, int]:
        c = {v: 0 for v in VERDICTS}
        for v in self.verdicts:
            c[v.verdict] += 1
        return c

    @property
    def ok(self) -> bool:
        return not any(v.verdict == CONTRADICTED for v in self.verdicts)

    def summary(self) -> str:
        c = self.counts()
        return (
            f"{len(self.verdicts)} claims checked: {c[SUPPORTED]} supported, {c[CONTRADICTED]} contradicted, "
            f"{c[NOT_FOUND]} not found"
        )

    def to_list(self) -> list[dict[str, Any]]:
        return [v.to_dict() for v in self.verdicts]


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
    """Split an article into claims and check each one."""
    claims = split_claims(text)
    out = []
    for i, c in enumerate(claims):
        out.append(verify_claim(ws, c, exclude=exclude, sources=sources, k=k, cfg=cfg))
        if progress:
            progress(i + 1, len(claims))
    return ArticleReport(tuple(out), source)


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


def _claim_spans(article: str, claims: Sequence[str]) -> list[str]:
    """Where each claim stands in the article, as "chars a-b" (claims are verbatim sentences of it)."""
    def words(ws: list[str]) -> re.Pattern[str]:
        return re.compile(r"\s+".join(map(re.escape, ws)))

    out, pos = [], 0
    for c in claims:  # a claim may have lost citation markers: match its first and last words
        w = c.split()
        w[-1] = w[-1].rstrip(".;:!?") or w[-1]
        head = words(w[:8]).search(article, pos) or words(w[:8]).search(article)
        tail = words(w[-5:]).search(article, head.start()) if head else None
        out.append(f"chars {head.start()}-{tail.end()}" if head and tail else "(not located)")
        pos = tail.end() if head and tail else pos
    return out


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
        "Each checkable sentence of the article, checked against the corpus by `ncmec-qa verify` (a heuristic "
        "checker: it compares figures, years, durations and negation, and never infers). "
        + ("Claims are named by their character offsets in the article and evidence by passage id and offsets "
           "in the cited document's extracted text (`ncmec-qa cite ID` prints a quote); no text is reproduced."
           if pinpoints_only else
           "Quotes are verbatim from the cited documents, shortened with …; a `not found` claim lists the "
           "nearest passages."),
        "",
        f"**{report.summary()}**",
        "",
        "| # | verdict | claim | reason |",
        "|---|---|---|---|",
    ]
    spans = _claim_spans(article or "", [v.claim for v in report.verdicts]) if pinpoints_only else []
    for i, v in enumerate(report.verdicts, start=1):
        claim = spans[i - 1] if pinpoints_only else _md_escape(short_quote(v.claim, quote_limit))
        out.append(f"| {i} | {_MARK[v.verdict]} | {claim} | {_md_escape(v.reason)} |")
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
