"""Hybrid retrieval: candidates from three first-stage rankings fused by reciprocal rank, then ranked.

First stage (`Retriever.candidates`): the passages nearest the question (dense, MiniLM), the
best FTS5 BM25 matches of the rewritten question (lexical, see `expand_query`) and the passages
of the sentences nearest the question (sentence, the stored sentence vectors), fused by
reciprocal rank (k=60). Second stage: the top `rerank_depth` candidates are scored by a linear
model over `rank_features` — by default the ranker fitted on the training questions
(`learn/params/ranker.json`, the probability that a passage holds a gold quote), or the
hand-set reranker of earlier releases (`ranker="rules"`). A question that asks two things
("…, and how …?") is also searched part by part and the rankings interleaved; results can be
filtered by source id.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from ..index.store import Index
from ..learn.linear import LinearModel
from ..models import Hit
from .query import expand_query, question_parts
from .rank_features import Candidate, QueryTerms, feature_matrix, rules_ranker, score

RRF_K = 60
SENTENCE_FLAT_MAX = 500_000  # above this many sentences the sentence ranking is skipped (exact search only)


def interleave(rankings: Sequence[Sequence[Hit]], k: int, cap: bool = True) -> list[Hit]:
    """Round-robin over rankings, each passage once, in the order first met. With `cap`, scores still
    fall with rank: a passage's score is capped by the one above it (else each keeps its own ranking's)."""
    out: list[Hit] = []
    seen: set[str] = set()
    for i in range(max((len(r) for r in rankings), default=0)):
        for r in rankings:
            if i < len(r) and r[i].passage.passage_id not in seen:
                seen.add(r[i].passage.passage_id)
                h = r[i]
                out.append(h if not cap or not out or h.score <= out[-1].score else replace(h, score=out[-1].score))
    return out[:k]


@dataclass(frozen=True)
class RetrievalConfig:
    mode: str = "hybrid"  # "hybrid", "dense", "lexical"
    depth: int = 50  # candidates from each first-stage ranking
    rrf_k: int = RRF_K
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    sentence_weight: float = 1.0  # the sentence ranking in the fusion; 0 leaves it out (as before 0.2)
    expand: bool = True
    rerank_depth: int = 50  # candidates the second stage scores; 0 keeps the fused order
    # "learned": the fitted ranker (the workspace's, `learn/params/ranker.json`); "rules": the hand-set
    # weights below, fitted on the 40 dev questions in earlier releases (see `rank_features.rules_ranker`)
    ranker: str = "learned"
    w_passage: float = 1.0
    w_sentence: float = 0.5
    w_coverage: float = 0.5
    w_year: float = 0.1
    w_amount: float = 0.25
    w_named: float = 0.1
    coverage_context: bool = True
    w_sentence_words: bool = True
    # A question of two parts ("How long …, and what changed in 2024?") is also searched part by part
    # and the three rankings are interleaved, so each part finds its own evidence; a part's passages
    # join only when their score reaches `part_min_score` (None: the ranker's own `part_min_score`).
    split_parts: bool = True
    part_min_score: float | None = None


def config_ranker(cfg: RetrievalConfig, learned: LinearModel | None) -> LinearModel | None:
    """The model the second stage scores with: `learned` (the fitted ranker), or the hand-set rules."""
    if cfg.ranker == "rules":
        rules = rules_ranker(
            cfg.w_passage,
            cfg.w_sentence,
            cfg.w_coverage,
            cfg.w_year,
            cfg.w_amount,
            cfg.w_named,
            cfg.coverage_context,
            cfg.w_sentence_words,
        )
        return replace(rules, meta={**rules.meta, "part_min_score": 0.85})
    if cfg.ranker == "learned":
        return learned
    raise ValueError(f"unknown ranker {cfg.ranker!r} (learned or rules)")


def rrf(rankings: Sequence[Sequence[int]], weights: Sequence[float], k: int) -> list[tuple[int, float]]:
    scores: dict[int, float] = {}
    for ranking, w in zip(rankings, weights):
        if not w:
            continue
        for rank, rid in enumerate(ranking, start=1):
            scores[rid] = scores.get(rid, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda x: (-x[1], x[0]))


class Retriever:
    def __init__(
        self,
        index: Index,
        embed_query: Callable[[str], np.ndarray],
        cfg: RetrievalConfig = RetrievalConfig(),
        ranker: LinearModel | None = None,
        secondary: frozenset[str] = frozenset(),
    ):
        """`ranker`: the fitted model used when `cfg.ranker == "learned"`; `secondary`: ids of secondary sources."""
        self.index = index
        self.embed_query = embed_query
        self.cfg = cfg
        self.secondary = secondary
        self.model = config_ranker(cfg, ranker)

    def sentence_cosines(self, qv: np.ndarray, passage) -> np.ndarray:
        """Cosine of the query with each of the passage's sentences (stored vectors)."""
        rows = [s.row - 1 for s in passage.sentences if s.row is not None]
        if len(rows) != len(passage.sentences):
            return np.zeros(len(passage.sentences), dtype=np.float32)
        return np.asarray(self.index.sentence_vectors[rows]) @ qv

    def query_terms(self, query: str) -> QueryTerms:
        return QueryTerms.of(query, self.index.idf, self.index.unseen)

    # -- first stage -----------------------------------------------------------------------------
    def _sentence_ranking(self, qv: np.ndarray, depth: int) -> list[int]:
        """Passages by the cosine of their best sentence, best first."""
        owners = self.index.sentence_passages()
        if not len(owners) or len(owners) > SENTENCE_FLAT_MAX:
            return []
        cos = np.asarray(self.index.sentence_vectors) @ qv
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])  # sentences are stored passage by passage
        best = np.maximum.reduceat(cos, starts)
        ids = owners[starts]
        top = np.argsort(-best, kind="stable")[:depth]
        return [int(ids[i]) for i in top]

    def candidates(
        self,
        query: str,
        qv: np.ndarray | None,
        sources: set[str] | None = None,
        exclude: set[str] | None = None,
        k: int = 10,
    ) -> list[Candidate]:
        """The fused first-stage candidates, best first, filtered by source."""
        cfg = self.cfg
        depth = max(cfg.depth, k) * (4 if (sources or exclude) else 1)
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        by_sentence: list[int] = []
        if cfg.mode in ("hybrid", "dense"):
            qv = self.embed_query(query) if qv is None else qv
            dense = self.index.dense_search(qv, depth)
            if cfg.mode == "hybrid" and cfg.sentence_weight:
                by_sentence = self._sentence_ranking(qv, depth)
        if cfg.mode in ("hybrid", "lexical"):
            lexical = self.index.lexical_search(expand_query(query) if cfg.expand else query, depth)
        if cfg.mode == "dense":
            fused = dense
        elif cfg.mode == "lexical":
            fused = lexical
        else:
            fused = rrf(
                [[r for r, _ in dense], [r for r, _ in lexical], by_sentence],
                [cfg.dense_weight, cfg.lexical_weight, cfg.sentence_weight],
                cfg.rrf_k,
            )
        keep = max(depth, cfg.rerank_depth, k)
        if sources or exclude:
            recs = self.index.passages(r for r, _ in fused[: depth * 2])
            fused = [
                (r, s)
                for r, s in fused
                if r in recs
                and (not sources or recs[r].source_id in sources)
                and not (exclude and recs[r].source_id in exclude)
            ]
        fused = fused[:keep]
        rowids = [r for r, _ in fused]
        records = self.index.passages(rowids)
        contexts = dict(zip(rowids, self.index.contexts(rowids)))
        dense_rank = {r: i for i, (r, _) in enumerate(dense, start=1)}
        lex_rank = {r: i for i, (r, _) in enumerate(lexical, start=1)}
        lex_score = dict(lexical)
        sent_rank = {r: i for i, r in enumerate(by_sentence, start=1)}
        vecs = self.index.vectors
        out = []
        for rid, f in fused:
            p = records.get(rid)
            if p is None:
                continue
            if qv is not None:
                cos = float(np.asarray(vecs[rid - 1]) @ qv)
                scos = tuple(float(x) for x in self.sentence_cosines(qv, p))
            else:
                cos, scos = 0.0, tuple(0.0 for _ in p.sentences)
            out.append(
                Candidate(
                    rid,
                    p,
                    contexts.get(rid, ""),
                    cos,
                    scos,
                    f,
                    dense_rank.get(rid),
                    lex_rank.get(rid),
                    sent_rank.get(rid),
                    lex_score.get(rid, 0.0),
                    p.source_id in self.secondary,
                )
            )
        return out

    # -- second stage ----------------------------------------------------------------------------
    def rank(self, query: str, cands: Sequence[Candidate]) -> list[tuple[Candidate, float, bool]]:
        return rank_candidates(self.query_terms(query), cands, self.model, self.cfg)

    def search(
        self,
        query: str,
        k: int = 10,
        sources: set[str] | None = None,
        exclude: set[str] | None = None,
        qv: np.ndarray | None = None,
    ) -> list[Hit]:
        parts = question_parts(query) if self.cfg.split_parts else [query]
        if len(parts) == 1:
            return self._search(query, k, sources, exclude, qv)
        whole = self._search(query, k, sources, exclude, qv)
        floor = self.part_floor()
        return interleave(
            [whole] + [[h for h in self._search(p, k, sources, exclude) if h.score >= floor] for p in parts], k
        )

    def _search(
        self, query: str, k: int, sources: set[str] | None, exclude: set[str] | None, qv: np.ndarray | None = None
    ) -> list[Hit]:
        if self.cfg.mode in ("hybrid", "dense") and qv is None:
            qv = self.embed_query(query)
        return hits_of(self.rank(query, self.candidates(query, qv, sources, exclude, k)), k, qv is not None)

    def part_floor(self) -> float:
        return part_floor(self.cfg, self.model)


def part_floor(cfg: RetrievalConfig, model: LinearModel | None) -> float:
    """The score a part's passage needs to join the answer to a two-part question."""
    if cfg.part_min_score is not None:
        return cfg.part_min_score
    return float((model.meta if model else {}).get("part_min_score", float("-inf")))


def rank_candidates(
    q: QueryTerms,
    cands: Sequence[Candidate],
    model: LinearModel | None,
    cfg: RetrievalConfig,
    rows: Sequence[dict[str, float]] | None = None,
) -> list[tuple[Candidate, float, bool]]:
    """(candidate, score, reranked) best first: the top `rerank_depth` by the ranker, then the rest in
    fused order with their fusion scores (never above a reranked one). `rows`: the candidates'
    features, when already computed (`feature_matrix(q, cands)`)."""
    n = cfg.rerank_depth if cfg.mode != "lexical" else 0
    if n and model is None:
        raise ValueError("the learned ranker has no model (Workspace supplies the shipped one)")
    head, tail = list(cands[:n]), list(cands[n:])
    out: list[tuple[Candidate, float, bool]] = []
    if head:
        assert model is not None  # checked above: a head means n > 0
        s = score(model, list(rows[:n]) if rows is not None else feature_matrix(q, head))
        order = sorted(range(len(head)), key=lambda i: (-s[i], head[i].rowid))
        out = [(head[i], float(s[i]), True) for i in order]
    floor = min((x[1] for x in out), default=None)
    out.extend((c, c.fused if floor is None else min(c.fused, floor), False) for c in tail)
    return out


def hits_of(ranked: Sequence[tuple[Candidate, float, bool]], k: int, with_cosine: bool = True) -> list[Hit]:
    return [
        Hit(c.passage, s, c.dense_rank, c.lexical_rank, c.cosine if with_cosine else None, reranked, c.context)
        for c, s, reranked in ranked[:k]
    ]
