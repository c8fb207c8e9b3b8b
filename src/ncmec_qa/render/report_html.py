"""`verify --file --html`: the article as a self-contained page, each claim coloured by verdict, its quotes beside it."""

from __future__ import annotations

from typing import Any

from ..verify.article import ArticleReport
from .render import citation_line
from .report_md import short_quote

# the colours a claim is painted (the screenshot test looks for the first two)
COLOURS = {"supported": "#b7ebb0", "contradicted": "#f4a6a6", "not_found": "#d9d9d9"}
_WORD = {"supported": "supported", "contradicted": "contradicted", "not_found": "not found"}

_TEMPLATE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ncmec-qa verify --html">
<title>Claim check{% if source %}: {{ source }}{% endif %}</title>
<style>
body { font: 16px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem; color: #1b1b1b;
       background: #ffffff; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; }
.summary { margin: 0 0 .6rem; font-weight: 600; }
.legend span { padding: .1rem .4rem; margin-right: .4rem; }
table { border-collapse: collapse; width: 100%; margin-top: .8rem; }
td { vertical-align: top; padding: .45rem .6rem; border-top: 1px solid #e3e3e3; }
td.n { width: 2.5rem; color: #777; text-align: right; font-variant-numeric: tabular-nums; }
td.sentence { width: 50%; }
.claim { padding: .05rem .15rem; border-radius: 2px; }
.claim sup { color: #333; font-size: .7em; margin-left: .1rem; }
{% for v, colour in colours.items() %}.{{ v }} { background: {{ colour }}; }
{% endfor %}
tr.skipped td.sentence { color: #444; }
tr.heading td.sentence { font-weight: 700; }
.skip { color: #666; font-style: italic; }
.verdict { margin: 0 0 .6rem; }
.verdict .word { padding: .05rem .35rem; border-radius: 2px; font-weight: 600; }
blockquote { margin: .3rem 0 .2rem 1rem; padding-left: .6rem; border-left: 3px solid #bbb; }
.cite { margin: 0 0 .3rem 1rem; font-size: .85rem; color: #444; overflow-wrap: anywhere; }
footer { margin-top: 1rem; font-size: .8rem; color: #666; }
</style>
</head>
<body>
<h1>Claim check{% if source %}: {{ source }}{% endif %}</h1>
<p class="summary">{{ summary }}</p>
<p class="legend">{% for v in colours %}<span class="{{ v }}">{{ words[v] }}</span>{% endfor %}<span>not checked (unstyled)</span></p>
<table>
{% for row in rows %}
<tr id="s{{ row.n }}" class="{{ 'skipped' if row.skip else 'checked' }}{% if row.skip == 'heading' or row.skip == 'title' %} heading{% endif %}">
<td class="n">{{ row.n }}</td>
<td class="sentence">{% for seg in row.segments %}{% if seg.claim %}<span class="claim {{ seg.verdict }}" id="c{{ seg.claim }}" title="claim {{ seg.claim }}: {{ words[seg.verdict] }}">{{ seg.text }}<sup>{{ seg.claim }}</sup></span>{% else %}{{ seg.text }}{% endif %}{% endfor %}</td>
<td class="evidence">
{% if row.skip %}<span class="skip">not checked: {{ row.reason }}</span>{% endif %}
{% for c in row.claims %}<div class="verdict">
<span class="word {{ c.verdict }}">{{ c.n }}. {{ words[c.verdict] }}</span>{% if row.claims|length > 1 %} <q>{{ c.text }}</q>{% endif %} — {{ c.reason }}
{% if c.evidence and c.verdict == 'not_found' %}<div class="skip">nearest passages:</div>{% endif %}
{% for e in c.evidence %}<blockquote>“{{ e.quote }}”</blockquote>
<p class="cite">{% if e.url %}<a href="{{ e.url }}" rel="noreferrer">{{ e.citation }}</a>{% else %}{{ e.citation }}{% endif %}</p>
{% endfor %}</div>
{% endfor %}</td>
</tr>
{% endfor %}
</table>
{% if command %}<footer>Produced by <code>{{ command }}</code>: a heuristic checker that compares figures, years, durations and negation with the corpus and never infers; quotes are verbatim from the cited documents.</footer>{% endif %}
</body>
</html>
"""


def _safe_url(url: str | None) -> str:
    """Only http(s) links: a `javascript:` or `data:` URL in a manifest never becomes a link."""
    u = (url or "").strip()
    return u if u.lower().startswith(("https://", "http://")) else ""


def _rows(article: str, report: ArticleReport, quote_limit: int) -> list[dict[str, Any]]:
    rows = []
    for s, items in report.by_sentence():
        segs, pos = [], s.start
        for i, c, v in items:
            if c.start > pos:
                segs.append({"text": article[pos : c.start], "claim": 0})
            segs.append({"text": article[c.start : c.end], "claim": i, "verdict": v.verdict})
            pos = max(pos, c.end)
        if pos < s.end:
            segs.append({"text": article[pos : s.end], "claim": 0})
        claims = [
            {
                "n": i,
                "text": v.claim,
                "verdict": v.verdict,
                "reason": v.reason,
                "evidence": [
                    {
                        "quote": short_quote(e.quote, quote_limit),
                        "url": _safe_url(e.source.url),
                        "citation": citation_line(e).split("] ", 1)[-1],
                    }
                    for e in v.evidence
                ],
            }
            for i, _, v in items
        ]
        rows.append({"n": s.n, "skip": s.skip, "reason": s.reason, "segments": segs, "claims": claims})
    return rows


def report_html(article: str, report: ArticleReport, command: str = "", quote_limit: int = 600) -> str:
    """The page: every sentence in order (claims coloured by verdict, skipped ones unstyled with the reason),
    beside it each claim's verdict, reason and deciding quotes linked to their sources. Everything from the
    article and the corpus is escaped (jinja2 autoescaping); the page loads nothing and runs no script."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True)
    return env.from_string(_TEMPLATE).render(
        source=report.source,
        summary=report.summary(),
        rows=_rows(article, report, quote_limit),
        colours=COLOURS,
        words=_WORD,
        command=command,
    )
