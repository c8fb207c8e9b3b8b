"""Articles: every sentence accounted for and each claim checked, gathered in one report (its Markdown: render/report_md)."""

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
                yield {
                    "type": "skipped",
                    "sentence": s.n,
                    "text": s.text,
                    "article_start": s.start,
                    "article_end": s.end,
                    "skip": s.skip,
                    "reason": s.reason,
                }
            for _, c, v in items:
                yield {"type": "claim", **v.to_dict(), "sentence": s.n, "article_start": c.start, "article_end": c.end}
        yield {
            "type": "summary",
            "source": self.source,
            "sentences": len(self.sentences),
            "skipped": len(self.skipped),
            "claims": len(self.verdicts),
            "counts": self.counts(),
            "ok": self.ok,
        }


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
