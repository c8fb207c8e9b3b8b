"""Hybrid retrieval: dense (faiss) and lexical (FTS5 BM25) rankings fused by reciprocal rank,
then reranked (see `RetrievalConfig`).

Queries are rewritten deterministically before the lexical search (see `expand_query`); a
question that asks two things ("…, and how …?") is also searched part by part; results can be
filtered by source id.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from .models import Hit, Passage
from .query import asks_quantity, expand_query, has_figure, named_terms, question_parts, years_in
from .store import Index, content_terms

RRF_K = 60


def interleave(rankings: Sequence[Sequence[Hit]], k: int) -> list[Hit]:
    """Round-robin over rankings, each passage once, in the order first met. Scores still fall
    with rank: a passage's score is capped by the one above it."""
    out: list[Hit] = []
    seen: set[str] = set()
    for i in range(max((len(r) for r in rankings), default=0)):
        for r in rankings:
            if i < len(r) and r[i].passage.passage_id not in seen:
                seen.add(r[i].passage.passage_id)
                h = r[i]
                out.append(h if not out or h.score <= out[-1].score else replace(h, score=out[-1].score))
    return out[:k]


@dataclass(frozen=True)
class RetrievalConfig:
    mode: str = "hybrid"  # "hybrid", "dense", "lexical"
    depth: int = 50  # candidates from each retriever
    rrf_k: int = RRF_K
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    expand: bool = True
    # Rerank the fused top candidates by passage cosine, the best sentence (its cosine plus
    # its share of the query's words) and the share of the query's rarer words (IDF-weighted)
    # that the passage, with its title and section, contains; a passage is moved up by
    # `w_year` when it (or its title) names every year the query names and down by as much
    # when it names only other years. For a question that asks how many (`asks_quantity`), a passage
    # holding a table's line or row moves up by `w_amount` (a table is where counts are), one that
    # states an amount only in prose by half as much, and one whose line names a word the question
    # capitalises ("… from Reddit in 2022?" and the row "Reddit, Inc. 52,592") by `w_named` more.
    rerank_depth: int = 30  # 0 turns reranking off
    w_passage: float = 1.0
    w_sentence: float = 0.5
    w_coverage: float = 0.5
    w_year: float = 0.1
    w_amount: float = 0.25
    w_named: float = 0.1
    coverage_context: bool = True
    w_sentence_words: float = 0.3  # the best sentence is the best by cosine + this × its IDF-weighted word coverage
    # A question of two parts ("How long …, and what changed in 2024?") is also searched part
    # by part, and the three rankings are interleaved, so each part finds its own evidence; a
    # part's passages join only when their reranked score reaches `part_min_score` (a part too
    # vague to search alone, "…, and can it back out?", then adds nothing).
    split_parts: bool = True
    part_min_score: float = 0.85


def rrf(rankings: Sequence[Sequence[int]], weights: Sequence[float], k: int) -> list[tuple[int, float]]:
    scores: dict[int, float] = {}
    for ranking, w in zip(rankings, weights):
        for rank, rid in enumerate(ranking, start=1):
            scores[rid] = scores.get(rid, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda x: (-x[1], x[0]))


class Retriever:
    def __init__(self, index: Index, embed_query: Callable[[str], np.ndarray], cfg: RetrievalConfig = RetrievalConfig()):
        self.index = index
        self.embed_query = embed_query
        self.cfg = cfg

    def sentence_cosines(self, qv: np.ndarray, passage: Passage) -> np.ndarray:
        """Cosine of the query with each of the passage's sentences (stored vectors)."""
        rows = [s.row - 1 for s in passage.sentences if s.row is not None]
        if len(rows) != len(passage.sentences):
            return np.zeros(len(passage.sentences), dtype=np.float32)
        return np.asarray(self.index.sentence_vectors[rows]) @ qv

    def rerank(self, query: str, qv: np.ndarray, rowids: list[int], records: dict[int, Passage]) -> list[tuple[int, float]]:
        cfg = self.cfg
        qterms = content_terms(query)
        idf = self.index.idf(qterms)
        total = sum(idf.values()) or 1.0
        years = set(years_in(query))
        quantity = asks_quantity(query) and bool(cfg.w_amount or cfg.w_named)
        names = named_terms(query) if quantity else set()
        vecs = self.index.vectors
        contexts = dict(zip(rowids, self.index.contexts(rowids))) if (cfg.coverage_context or years) else {}
        out = []
        for rid in rowids:
            p = records[rid]
            pc = float(np.asarray(vecs[rid - 1]) @ qv)
            sc = self.sentence_cosines(qv, p)
            usable = [(float(c), s) for c, s in zip(sc, p.sentences)
                      if s.kind not in ("heading", "table_header") and len(s.text) >= 25]
            # the best sentence: its cosine plus its share of the query's words
            best = max((c + cfg.w_sentence_words * sum(idf[t] for t in qterms & content_terms(s.text)) / total
                        for c, s in usable), default=pc)
            seen = f"{contexts[rid]}\n{p.text}" if cfg.coverage_context else p.text
            cov = sum(idf[t] for t in qterms & content_terms(seen)) / total
            score = cfg.w_passage * pc + cfg.w_sentence * best + cfg.w_coverage * cov
            if years and cfg.w_year:
                named = set(years_in(f"{contexts[rid]}\n{p.text}"))
                score += cfg.w_year if years <= named else -cfg.w_year if named and not years & named else 0.0
            if quantity:
                score += self._amount_term(p, names)
            out.append((rid, score))
        return sorted(out, key=lambda x: (-x[1], x[0]))

    def _amount_term(self, p: Passage, names: set[str]) -> float:
        """What a how-many question adds to a passage: see `RetrievalConfig.w_amount`."""
        lines = [s for s in p.sentences if s.kind in ("line", "row")]
        if lines:
            named = any(names & content_terms(s.text) for s in lines)
            return self.cfg.w_amount + (self.cfg.w_named if named else 0.0)
        return self.cfg.w_amount / 2 if has_figure(p.text) else 0.0

    def search(self, query: str, k: int = 10, sources: set[str] | None = None, exclude: set[str] | None = None,
               qv: np.ndarray | None = None) -> list[Hit]:
        parts = question_parts(query) if self.cfg.split_parts else [query]
        if len(parts) == 1:
            return self._search(query, k, sources, exclude, qv)
        whole = self._search(query, k, sources, exclude, qv)
        floor = self.cfg.part_min_score
        return interleave([whole] + [[h for h in self._search(p, k, sources, exclude) if h.score >= floor]
                                     for p in parts], k)

    def _search(self, query: str, k: int, sources: set[str] | None, exclude: set[str] | None,
                qv: np.ndarray | None = None) -> list[Hit]:
        cfg = self.cfg
        depth = max(cfg.depth, k) * (4 if (sources or exclude) else 1)
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        if cfg.mode in ("hybrid", "dense"):
            qv = self.embed_query(query) if qv is None else qv
        if cfg.mode in ("hybrid", "dense"):
            dense = self.index.dense_search(qv, depth)
        if cfg.mode in ("hybrid", "lexical"):
            lexical = self.index.lexical_search(expand_query(query) if cfg.expand else query, depth)
        dense_score = dict(dense)
        if cfg.mode == "dense":
            fused = dense
        elif cfg.mode == "lexical":
            fused = lexical
        else:
            fused = rrf([[r for r, _ in dense], [r for r, _ in lexical]], [cfg.dense_weight, cfg.lexical_weight], cfg.rrf_k)
        dense_rank = {r: i for i, (r, _) in enumerate(dense, start=1)}
        lex_rank = {r: i for i, (r, _) in enumerate(lexical, start=1)}
        if sources or exclude:
            keep = self.index.passages(r for r, _ in fused[: depth * 2])
            fused = [(r, sc) for r, sc in fused if r in keep and (not sources or keep[r].source_id in sources)
                     and not (exclude and keep[r].source_id in exclude)]
        records = self.index.passages(r for r, _ in fused[: max(depth, cfg.rerank_depth)])
        reranked: set[int] = set()
        if cfg.rerank_depth and qv is not None and cfg.mode != "lexical":
            head = [r for r, _ in fused[: cfg.rerank_depth]]
            reranked = set(head)
            fused = self.rerank(query, qv, head, records) + fused[cfg.rerank_depth :]
        hits: list[Hit] = []
        for rid, score in fused:
            p = records.get(rid)
            if p is None or (sources and p.source_id not in sources) or (exclude and p.source_id in exclude):
                continue
            cos = dense_score.get(rid)
            if cos is None and rid in reranked:
                cos = float(np.asarray(self.index.vectors[rid - 1]) @ qv)
            hits.append(Hit(p, score, dense_rank.get(rid), lex_rank.get(rid), cos, rid in reranked))
            if len(hits) >= k:
                break
        return hits
