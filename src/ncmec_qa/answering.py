"""Extractive answers: the few retrieved sentences that best answer a question, verbatim, cited.

Sentences of the top passages are scored by cosine similarity to the question plus a
small bonus for the question's content words they contain; the best few are kept
(never a heading, at most two from one passage, no near-repeats). The answer is
withheld when the best evidence is weaker than a threshold fitted on the dev questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .models import Answer, AnswerSentence, Citation, Hit, Passage, Sentence, Source
from .store import STOPWORDS

NOT_ANSWERED = "The corpus does not answer this question; the nearest passages are listed below."


@dataclass(frozen=True)
class AnswerConfig:
    passages: int = 5  # top passages whose sentences are candidates
    max_sentences: int = 3
    per_passage: int = 2
    min_chars: int = 25
    lexical_bonus: float = 0.15
    margin: float = 0.12  # keep sentences within this of the best one
    threshold: float = 0.45  # abstain when the best sentence scores below this


_WORD = re.compile(r"[a-z0-9]+")


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 2 or w.isdigit()}


def _overlap(q: set[str], s: str) -> float:
    if not q:
        return 0.0
    return len(q & content_words(s)) / len(q)


@dataclass(frozen=True)
class ScoredSentence:
    hit_rank: int
    passage: Passage
    sentence: Sentence
    score: float
    cosine: float


def score_sentences(
    question: str, hits: Sequence[Hit], embed: Callable[[list[str]], np.ndarray], cfg: AnswerConfig
) -> list[ScoredSentence]:
    cands: list[tuple[int, Passage, Sentence]] = []
    for rank, h in enumerate(hits[: cfg.passages]):
        for s in h.passage.sentences:
            if s.kind in ("heading", "table_header") or len(s.text.strip()) < cfg.min_chars:
                continue
            cands.append((rank, h.passage, s))
    if not cands:
        return []
    vecs = embed([question] + [s.text for _, _, s in cands])
    q, m = vecs[0], vecs[1:]
    cos = m @ q
    qw = content_words(question)
    out = [
        ScoredSentence(rank, p, s, float(c) + cfg.lexical_bonus * _overlap(qw, s.text), float(c))
        for (rank, p, s), c in zip(cands, cos)
    ]
    return sorted(out, key=lambda x: (-x.score, x.hit_rank, x.sentence.start))


def _norm(s: str) -> str:
    return " ".join(s.split()).lower()


def select(scored: Sequence[ScoredSentence], cfg: AnswerConfig) -> list[ScoredSentence]:
    if not scored:
        return []
    best = scored[0].score
    chosen: list[ScoredSentence] = []
    per: dict[str, int] = {}
    for s in scored:
        if s.score < best - cfg.margin or len(chosen) >= cfg.max_sentences:
            break
        if per.get(s.passage.passage_id, 0) >= cfg.per_passage:
            continue
        t = _norm(s.sentence.text)
        if any(t in _norm(c.sentence.text) or _norm(c.sentence.text) in t for c in chosen):
            continue
        chosen.append(s)
        per[s.passage.passage_id] = per.get(s.passage.passage_id, 0) + 1
    return chosen


def source_warnings(sources: Sequence[Source]) -> list[str]:
    out = []
    for s in {s.id: s for s in sources}.values():
        if s.superseded_by:
            out.append(f"{s.id} may be superseded: {s.superseded_by}")
    return out


def answer_question(
    question: str,
    hits: Sequence[Hit],
    sources: dict[str, Source],
    embed: Callable[[list[str]], np.ndarray],
    cfg: AnswerConfig = AnswerConfig(),
) -> Answer:
    scored = score_sentences(question, hits, embed, cfg)
    confidence = scored[0].score if scored else 0.0
    if not scored or confidence < cfg.threshold:
        return Answer(question, False, (), (), tuple(hits), NOT_ANSWERED, confidence)
    chosen = select(scored, cfg)
    # keep document order within a source so quoted sentences read naturally
    chosen.sort(key=lambda s: (s.hit_rank, s.sentence.start))
    citations: list[Citation] = []
    answer: list[AnswerSentence] = []
    for s in chosen:
        c = Citation(len(citations) + 1, sources[s.passage.source_id], s.passage, s.sentence.start, s.sentence.end, s.sentence.text)
        citations.append(c)
        answer.append(AnswerSentence(" ".join(s.sentence.text.split()), (c.n,)))
    warnings = source_warnings([c.source for c in citations])
    return Answer(question, True, tuple(answer), tuple(citations), tuple(hits), "", confidence, tuple(warnings))
