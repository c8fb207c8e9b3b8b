"""The Python API a notebook needs beside `Workspace.open`: ask, cite, verify_article (re-exported from `ncmec_qa`;
`search` and `verify` are the search/ and verify/ packages, callable)."""

from __future__ import annotations

from .models import Answer, Citation
from .render.citations import cite_passage
from .verify.article import verify_article
from .workspace import Workspace

__all__ = ["ask", "cite", "verify_article"]


def ask(
    ws: Workspace, question: str, k: int = 10, sources: set[str] | None = None, exclude: set[str] | None = None
) -> Answer:
    """Answer `question` with verbatim sentences of the corpus and their citations, or abstain with the reason
    (as `ncmec-qa ask`). `k` passages are read; `sources` keeps to, `exclude` leaves out, those source ids.

    Raises `IndexMissing` or `IndexStale` (exit status 3 at the command line) when the index is missing or
    does not match the manifest: build it with `ws.build()` or `ncmec-qa index build`."""
    return ws.ask(question, k=k, sources=sources, exclude=exclude)


def cite(ws: Workspace, passage_id: str, quote: str | None = None) -> Citation:
    """A citation of a passage (`search`'s `hit.passage.passage_id`, or a span "source:start-end" as `verify`
    gives it), its whole text or `quote` within it; `ncmec_qa.render.citations.export([c], fmt)` writes it as
    bibtex, csl-json, ris, markdown, apa or chicago (as `ncmec-qa cite`). Raises `CitationError` for an unknown id."""
    return cite_passage(ws, passage_id, quote=quote)
