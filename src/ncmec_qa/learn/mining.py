"""Examples for fitting and measuring the learned models, mined from the tool's own retrieval.

`mine_questions` runs the first stage of retrieval (the expensive part: embedding, vector and
FTS5 search, reading passages) once per question and keeps everything the later stages need:
the candidate pool of the whole question and of each of its parts, the question's terms, and
where its gold quotes stand in the documents. Ranking, answer selection and abstention can then
be replayed under any fitted model without touching the index again (`replay.py`), so that
cross-validation costs seconds. Hard negatives for the ranker are the pool's non-gold passages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..evaluation import Evidence, evidence_of, gold_spans, load_jsonl
from ..search.query import question_parts
from ..search.rank_features import Candidate, QueryTerms


@dataclass(frozen=True)
class Example:
    """A question or claim of a training or evaluation set."""

    id: str
    text: str
    group: str  # the part of the corpus it was written from ("dev" for the evaluation sets)
    answerable: bool = True  # questions
    label: str = ""  # claims: supported | contradicted | not_in_corpus
    kind: str = ""
    evidence: tuple[Evidence, ...] = ()
    note: str = ""


def load_examples(path: Path) -> list[Example]:
    """Questions or claims of a JSONL set (../shared/train or ../shared/eval)."""
    return load_jsonl(
        path,
        lambda r: Example(
            str(r["id"]),
            r.get("question") or r["claim"],
            str(r.get("group") or "dev"),
            bool(r.get("answerable", True)),
            str(r.get("label", "")),
            str(r.get("kind", "")),
            evidence_of(r),
            str(r.get("note", "")),
        ),
        "a question or claim record",
    )


@dataclass
class Pool:
    """One search's candidates: the question's (or a part's) terms and its fused candidate pool."""

    query: QueryTerms
    candidates: list[Candidate]
    gold: list[bool]  # the candidate contains a whole gold quote
    _rows: list[dict[str, float]] | None = None

    def rows(self) -> list[dict[str, float]]:
        """The candidates' ranking features (computed once)."""
        if self._rows is None:
            from ..search.rank_features import feature_matrix

            self._rows = feature_matrix(self.query, self.candidates)
        return self._rows


@dataclass
class MinedQuestion:
    example: Example
    whole: Pool
    parts: list[Pool] = field(default_factory=list)
    spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # source id -> gold quote spans

    @property
    def id(self) -> str:
        return self.example.id

    @property
    def group(self) -> str:
        return self.example.group

    def cosines(self) -> dict[str, tuple[float, ...]]:
        """Sentence cosines of every mined passage, by passage id (for replaying answers)."""
        out: dict[str, tuple[float, ...]] = {}
        for pool in [self.whole, *self.parts]:
            for c in pool.candidates:
                out.setdefault(c.passage.passage_id, c.sentence_cosines)
        return out


def locate_gold(
    ex: Example, file_to_source: dict[str, str], document_text: Callable[[str], str | None]
) -> dict[str, list[tuple[int, int]]]:
    spans: dict[str, list[tuple[int, int]]] = {}
    for e in ex.evidence:
        sid = file_to_source.get(e.file)
        text = document_text(sid) if sid else None
        if sid and text:
            spans.setdefault(sid, []).extend(gold_spans(text, [e.quote]))
    return spans


def _gold(cands: Sequence[Candidate], spans: dict[str, list[tuple[int, int]]]) -> list[bool]:
    return [
        any(c.passage.start <= a and b <= c.passage.end for a, b in spans.get(c.passage.source_id, ())) for c in cands
    ]


def mine_questions(
    ws: Any, examples: Sequence[Example], split_parts: bool = True, progress: Callable[[int, int], None] | None = None
) -> list[MinedQuestion]:
    """The candidate pools of every question, searched as the workspace's retriever searches."""
    r = ws.first_stage()
    files = {s.file: s.id for s in ws.manifest.sources}
    out = []
    for i, ex in enumerate(examples):
        spans = locate_gold(ex, files, ws.index.document_text)
        qv = ws.embed_query(ex.text)
        whole = r.candidates(ex.text, qv)
        parts = question_parts(ex.text) if split_parts else [ex.text]
        part_pools = []
        if len(parts) > 1:
            for p in parts:
                pc = r.candidates(p, ws.embed_query(p))
                part_pools.append(Pool(r.query_terms(p), pc, _gold(pc, spans)))
        out.append(MinedQuestion(ex, Pool(r.query_terms(ex.text), whole, _gold(whole, spans)), part_pools, spans))
        if progress:
            progress(i + 1, len(examples))
    return out


def ranking_rows(mined: Sequence[MinedQuestion], depth: int) -> tuple[list[dict[str, float]], np.ndarray, np.ndarray]:
    """Feature rows, gold labels and question index of every candidate within `depth` of the answerable
    questions' pools (whole questions and parts): the ranker's training data."""
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    qidx: list[int] = []
    for qi, m in enumerate(mined):
        if not m.example.answerable:
            continue
        for pool in [m.whole, *m.parts]:
            cands = pool.candidates[:depth]
            rows.extend(pool.rows()[:depth])
            labels.extend(int(g) for g in pool.gold[:depth])
            qidx.extend([qi] * len(cands))
    return rows, np.asarray(labels), np.asarray(qidx)
