"""Where a cited quote stands, as a URL a browser opens at it: a text fragment (`#:~:text=`) or a PDF page.

Web pages (HTML, and Markdown or text whose URL is a page) get a text fragment naming the quote's
first and last words (the URL Fragment Text Directive: `#:~:text=start,end`, each term
percent-encoded, "-", "," and "&" included); a PDF gets `#page=N`, on its URL when that is the PDF
itself, else on the local copy in the documents folder; a CSV or JSON row gets its source's URL as
it is (a row is not a run of rendered text). With no URL, the local file (`file://`) is opened
with the same fragment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote as _pct
from urllib.parse import urlsplit

from ..models import Citation

EDGE_WORDS = 4  # words of the quote on each side of a text fragment's range
_MARKUP = re.compile(r"\[\^[^\]]*\]|[*_`\\]+")  # Markdown footnote marks and emphasis: not rendered text


@dataclass(frozen=True)
class Link:
    url: str
    how: str  # "text fragment", "page", "url", "file"

    def to_dict(self) -> dict[str, str]:
        return {"url": self.url, "how": self.how}


def _term(words: list[str]) -> str:
    """Words as one text-directive term: percent-encoded, with the directive's own "-", ",", "&" escaped."""
    return _pct(" ".join(words), safe="").replace("-", "%2D")


def text_fragment(quote: str, edge: int = EDGE_WORDS) -> str:
    """`:~:text=start[,end]` for `quote`: the whole quote when it has at most 2 × `edge` words, else its
    first and last `edge` words as the start and end of the range."""
    words = [w for w in (_MARKUP.sub("", x) for x in quote.split()) if w]
    if not words:
        return ""
    if len(words) <= 2 * edge:
        return ":~:text=" + _term(words)
    return f":~:text={_term(words[:edge])},{_term(words[-edge:])}"


def _with_fragment(url: str, fragment: str) -> str:
    """Append a fragment; a text directive follows an existing fragment (`#top:~:text=…`)."""
    if not fragment:
        return url
    if fragment.startswith(":~:"):
        return url + (fragment if "#" in url else "#" + fragment)
    return url.split("#", 1)[0] + "#" + fragment


def link_for(c: Citation, docs_dir: Path | None = None) -> Link:
    """The URL that shows citation `c` at its quote (see the module docstring)."""
    s = c.source
    fmt = (s.format or "").lower()
    local = None
    if docs_dir is not None and s.file:
        path = (Path(docs_dir) / s.file).resolve()
        local = path.as_uri() if path.is_file() else None
    if fmt == "pdf":
        page = f"page={c.passage.page}" if c.passage.page else ""
        if s.url and urlsplit(s.url).path.lower().endswith(".pdf"):
            return Link(_with_fragment(s.url, page), "page" if page else "url")
        if local:  # the URL is a landing page (arXiv's abstract), not the PDF that was indexed
            return Link(_with_fragment(local, page), "file")
        return Link(s.url or "", "url")
    if fmt in ("csv", "json"):
        if s.url:
            return Link(s.url, "url")
        return Link(local or "", "file")
    fragment = text_fragment(c.quote)
    if s.url:
        return Link(_with_fragment(s.url, fragment), "text fragment" if fragment else "url")
    return Link(_with_fragment(local, fragment) if local else "", "file")
