"""Hybrid retrieval: dense (faiss) and lexical (FTS5 BM25) rankings fused by reciprocal rank.

Queries are rewritten deterministically before the lexical search (see `expand_query`),
and results can be filtered by source id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .models import Hit, Passage
from .store import Index, content_terms

RRF_K = 60

# Deterministic rewrites: the same thing written two ways in this corpus.
_SYNONYMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"§\s*(\d{4}[A-Z]?)"), r"section \1 § \1"),
    (re.compile(r"\besps?\b", re.I), "electronic service provider ESP"),
    (re.compile(r"\bcsam\b", re.I), "CSAM child sexual abuse material child pornography"),
    (re.compile(r"\bIP\b"), "IP Internet Protocol address"),
)


def expand_query(q: str) -> str:
    out = q
    for pat, rep in _SYNONYMS:
        out = pat.sub(rep, out)
    return out


@dataclass(frozen=True)
class RetrievalConfig:
    mode: str = "hybrid"  # "hybrid", "dense", "lexical"
    depth: int = 50  # candidates from each retriever
    rrf_k: int = RRF_K
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    expand: bool = True
    # Rerank the fused top candidates by passage cosine, best-sentence cosine and the
    # share of the query's rarer words (IDF-weighted) that the passage contains.
    rerank_depth: int = 30  # 0 turns reranking off
    w_passage: float = 1.0
    w_sentence: float = 0.5
    w_coverage: float = 0.5


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
        vecs = self.index.vectors
        out = []
        for rid in rowids:
            p = records[rid]
            pc = float(np.asarray(vecs[rid - 1]) @ qv)
            sc = self.sentence_cosines(qv, p)
            usable = [c for c, s in zip(sc, p.sentences) if s.kind not in ("heading", "table_header") and len(s.text) >= 25]
            best = float(max(usable)) if usable else pc
            cov = sum(idf[t] for t in qterms & content_terms(p.text)) / total
            out.append((rid, cfg.w_passage * pc + cfg.w_sentence * best + cfg.w_coverage * cov))
        return sorted(out, key=lambda x: (-x[1], x[0]))

    def search(self, query: str, k: int = 10, sources: set[str] | None = None, exclude: set[str] | None = None,
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
            hits.append(Hit(p, score, dense_rank.get(rid), lex_rank.get(rid), dense_score.get(rid), rid in reranked))
            if len(hits) >= k:
                break
        return hits
