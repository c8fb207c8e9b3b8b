"""Ranking and answering replayed on mined questions: the query path after the first stage, under any models.

`replay_hits` and `replay_answer` call the same functions as `Retriever.search` and
`Workspace.ask` (`rank_candidates`, `interleave`, `answer_question`) on the pools that
`mining` kept, so that a model fitted on some folds can be measured on the others in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..answer.answering import AnswerConfig, Evidence, answer_question, candidate_units, weigh_evidence
from ..evaluation import Question
from ..models import Answer, Hit, Source
from ..search.retrieval import RetrievalConfig, config_ranker, hits_of, interleave, part_floor, rank_candidates
from .linear import LinearModel
from .mining import MinedQuestion
from .shipped import Judgment


def replay_hits(m: MinedQuestion, ranker: LinearModel | None, cfg: RetrievalConfig, k: int = 10) -> list[Hit]:
    whole = hits_of(rank_candidates(m.whole.query, m.whole.candidates, ranker, cfg, _rows(m.whole, ranker, cfg)), k)
    if not (cfg.split_parts and m.parts):
        return whole
    floor = part_floor(cfg, ranker)
    parts = [
        [
            h
            for h in hits_of(rank_candidates(p.query, p.candidates, ranker, cfg, _rows(p, ranker, cfg)), k)
            if h.score >= floor
        ]
        for p in m.parts
    ]
    return interleave([whole, *parts], k)


def _rows(pool, ranker: LinearModel | None, cfg: RetrievalConfig):
    """The pool's cached features (they do not depend on the model)."""
    return pool.rows() if ranker is not None and cfg.rerank_depth and cfg.mode != "lexical" else None


@dataclass
class Replayer:
    """Replays answers of mined questions over one index's sources and documents."""

    sources: dict[str, Source]
    doc_text: Callable[[str], str | None]

    def cosines(self, m: MinedQuestion) -> Callable:
        table = m.cosines()
        return lambda p: np.asarray(table.get(p.passage_id, (0.0,) * len(p.sentences)))

    def answer(
        self, m: MinedQuestion, models: Judgment, rcfg: RetrievalConfig, acfg: AnswerConfig, k: int = 10
    ) -> Answer:
        hits = replay_hits(m, config_ranker(rcfg, models.ranker), rcfg, k)
        return answer_question(
            m.example.text, hits, self.sources, self.cosines(m), acfg, models, self.doc_text, m.whole.query
        )

    def evidence(
        self, m: MinedQuestion, models: Judgment, rcfg: RetrievalConfig, acfg: AnswerConfig, k: int = 10
    ) -> tuple[list[Hit], Evidence]:
        """The hits and the weighed evidence (selector and abstainer) of one question."""
        hits = replay_hits(m, config_ranker(rcfg, models.ranker), rcfg, k)
        cands = candidate_units(hits, self.cosines(m), self.sources, self.doc_text, acfg)
        return hits, weigh_evidence(m.whole.query, hits, cands, models, acfg)


def as_questions(mined: Sequence[MinedQuestion]) -> list[Question]:
    return [Question(m.id, m.example.text, m.example.answerable, m.example.evidence, m.example.kind) for m in mined]
