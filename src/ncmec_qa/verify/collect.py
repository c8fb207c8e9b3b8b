"""Candidate units for a claim from an index: hybrid retrieval, plus lexical searches of the claim, of its
rarest words and of each name it contains with its years; table lines that hold a rare claim word
get a cosine of their own."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Callable

import numpy as np

from ..answer.units import Unit, passage_units
from ..models import Passage, Source
from .assess import VerifyConfig
from .terms import TermStats, _figures, _names, _terms_cached, _years, index_stats, term_forms, terms


def _rare_query(claim: str, stats: TermStats, n: int) -> str:
    """The claim's rarest words (that the corpus has), its years and its figures as written."""
    forms = term_forms(claim)
    present = [(stats.idf(t), f) for t, f in forms.items() if stats.df.get(t, 0) > 0]
    present.sort(reverse=True)
    extra = [str(y) for y in _years(claim)] + [q.raw for q in _figures(claim)]
    return " ".join([f for _, f in present[:n]] + extra)


def collect_units(
    ws,
    claim: str,
    *,
    sources: set[str] | None = None,
    exclude: set[str] | None = None,
    cfg: VerifyConfig = VerifyConfig(),
) -> list[Unit]:
    """Candidate units for a claim from the workspace's index."""
    from ..search.query import expand_query

    stats = index_stats(ws.index)
    qv = ws.embed_query(claim)
    hits = ws.retriever.search(claim, k=cfg.k, sources=sources, exclude=exclude, qv=qv)
    passages: dict[int, Passage] = {}
    order: list[int] = []
    for h in hits:
        rid = ws.index.rowid_of(h.passage.passage_id)
        if rid is not None and rid not in passages:
            passages[rid] = h.passage
            order.append(rid)
    extra: list[int] = []
    found: list[list[int]] = []
    for q in (expand_query(claim), _rare_query(claim, stats, cfg.rare_terms)):
        if q.strip():
            found.append(
                [rid for rid, _ in ws.index.lexical_search(q, cfg.lexical_k * (4 if sources or exclude else 1))]
            )
    wanted = _names(claim, stats, cfg.key_idf)
    years = [str(y) for y in _years(claim)]
    for name in dict.fromkeys(f for t, f in term_forms(claim).items() if t in wanted):
        # each name with the claim's years (in the text or the title): "Discord" AND "2023"
        words = re.findall(r"\w+", name.lower())
        found.append(ws.index.match_all(words, years, cfg.lexical_k * (4 if sources or exclude else 1)))
    for rids in found:
        for rid in rids:
            if rid not in passages and rid not in extra:
                extra.append(rid)
    if extra:
        got = ws.index.passages(extra)
        kept = 0
        for rid in extra:
            p = got.get(rid)
            if p is None or (sources and p.source_id not in sources) or (exclude and p.source_id in exclude):
                continue
            passages[rid] = p
            order.append(rid)
            kept += 1
            if kept >= 4 * cfg.lexical_k:
                break
    srcs = ws.sources()
    docs: dict[str, str | None] = {}

    def doc_text(sid: str) -> Callable[[], str | None]:
        def get() -> str | None:
            if sid not in docs:
                docs[sid] = ws.index.document_text(sid)
            return docs[sid]

        return get

    units: dict[tuple[str, int, int], Unit] = {}
    for rank, rid in enumerate(order):
        p = passages[rid]
        src = srcs.get(p.source_id) or Source(p.source_id, p.file, p.source_id, "", "", "", "")
        cos = ws.retriever.sentence_cosines(qv, p)
        pc = float(np.asarray(ws.index.vectors[rid - 1]) @ qv)
        for u in passage_units(p, list(cos), src, doc_text(p.source_id), rank, cfg.units, pc):
            old = units.get(u.key)
            if old is None or u.cosine > old.cosine:
                units[u.key] = u if old is None else replace(u, rank=min(u.rank, old.rank))
    return embed_lines(list(units.values()), claim, stats, lambda texts: ws.embed(texts) @ qv, cfg)


def embed_lines(
    units: list[Unit], claim: str, stats: TermStats, cosines: Callable[[list[str]], Any], cfg: VerifyConfig
) -> list[Unit]:
    """A table line's block cosine says little about the line ("Discord Inc. 339,412" in a page of
    companies), and a statement joined from pieces is more than its best piece: those that contain
    one of the claim's rarer words get the cosine of their own text (a line read with its title)."""
    rare = {t for t in terms(claim) if stats.idf(t) >= cfg.line_idf}
    todo = [i for i, u in enumerate(units) if u.ref in ("line", "joined", "table") and rare & _terms_cached(u.text)]
    if not todo:
        return units
    todo = sorted(todo, key=lambda i: -len(rare & _terms_cached(units[i].text)))[: cfg.max_line_embeddings]
    texts = [
        (f"{units[i].context.splitlines()[0]}: " if units[i].ref == "line" else "") + " ".join(units[i].text.split())
        for i in todo
    ]
    got = cosines(texts)
    out = list(units)
    for i, c in zip(todo, got):
        out[i] = replace(units[i], cosine=max(units[i].cosine, float(c)))
    return out
