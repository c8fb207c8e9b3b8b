"""Hybrid retrieval: dense (faiss) and lexical (FTS5 BM25) rankings fused by reciprocal rank.

Queries are rewritten deterministically before the lexical search (see `expand_query`),
and results can be filtered by source id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .models import Hit
from .store import Index

RRF_K = 60

# Deterministic rewrites: the same thing written two ways in this corpus.
_SYNONYMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"§\s*(\d{4}[A-Z]?)"), r"section \1 § \1"),
    (re.compile(r"\besps?\b", re.I), "electronic service provider ESP"),
    (re.compile(r"\bncmec\b", re.I), "NCMEC National Center for Missing Exploited Children"),
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

    def search(self, query: str, k: int = 10, sources: set[str] | None = None, exclude: set[str] | None = None) -> list[Hit]:
        cfg = self.cfg
        depth = max(cfg.depth, k) * (4 if (sources or exclude) else 1)
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        if cfg.mode in ("hybrid", "dense"):
            dense = self.index.dense_search(self.embed_query(query), depth)
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
        records = self.index.passages(r for r, _ in fused[: depth])
        hits: list[Hit] = []
        for rid, score in fused:
            p = records.get(rid)
            if p is None or (sources and p.source_id not in sources) or (exclude and p.source_id in exclude):
                continue
            hits.append(Hit(p, score, dense_rank.get(rid), lex_rank.get(rid), dense_score.get(rid)))
            if len(hits) >= k:
                break
        return hits
