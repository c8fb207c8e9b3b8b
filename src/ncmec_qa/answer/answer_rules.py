"""The answer rules of earlier releases, kept as a baseline for the benchmarks (`AnswerConfig(selection="rules")`).

Sentences of the top passages are scored by cosine similarity to the question plus a small
bonus for the question's content words they contain; the best few are kept (never a heading or
a table's caption, at most two from one passage, no near-repeats). A line of a table read alone
says little, so one that names what the question names counts as much as its passage. The answer
is withheld when the best evidence is weaker than a threshold fitted on the dev questions, when
the question names a year that no retrieved passage names, or when it asks how many and no
sentence states an amount of something it names (a sentence with a figure must share a word
with the question, years aside).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from ..index.store import content_terms
from ..models import Hit, Passage, Sentence, Source
from ..search.query import asks_quantity, has_figure, years_in

if TYPE_CHECKING:
    from .answering import AnswerConfig

content_words = content_terms


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


def usable(s: Sentence, title: str, cfg: "AnswerConfig") -> bool:
    """Can this sentence stand as an answer? Not a heading, a question, or the document's own title."""
    text = s.text.strip()
    if s.kind in ("heading", "table_header") or (s.kind not in ("row", "line") and len(text) < cfg.min_chars):
        return False
    if text.endswith("?") or _norm(text) == _norm(title):
        return False
    return True


def score_sentences(
    question: str,
    hits: Sequence[Hit],
    cosines: Callable[[Passage], np.ndarray],
    cfg: "AnswerConfig",
    titles: dict[str, str] | None = None,
) -> list[ScoredSentence]:
    """Candidate sentences of the top passages; `cosines(p)` gives each sentence's cosine to the question."""
    titles = titles or {}
    qw = content_words(question)
    number_bonus = cfg.number_bonus if asks_quantity(question) else 0.0
    out: list[ScoredSentence] = []
    for rank, h in enumerate(hits[: cfg.passages]):
        sents = h.passage.sentences
        lines = [content_words(x.text) for x in sents if x.kind == "line"]
        common = {w for w in set().union(*lines) if 2 * sum(w in t for t in lines) > len(lines)} if lines else set()
        for i, (s, c) in enumerate(zip(sents, cosines(h.passage))):
            if not usable(s, titles.get(h.passage.source_id, ""), cfg):
                continue
            if s.kind == "text" and i + 1 < len(sents) and sents[i + 1].kind == "line" and not _CLOSED.search(s.text):
                continue  # the caption or column heads of the table below: context, not a statement
            overlap = _overlap(qw, s.text)
            if s.kind == "line" and h.cosine is not None and (qw & content_words(s.text)) - common:
                # a line of a table ("Reddit, Inc. 52,592") means little alone: one that names what the
                # question names, unlike most of its neighbours, counts as much as its passage
                c = max(float(c), h.cosine)
            score = float(c) + cfg.lexical_bonus * overlap
            if number_bonus and has_figure(s.text):
                score += number_bonus
            out.append(ScoredSentence(rank, h.passage, s, score, float(c)))
    return sorted(out, key=lambda x: (-x.score, x.hit_rank, x.sentence.start))


_CLOSED = re.compile(r"[.!?:;)\]\"”’]\s*$")


def _norm(s: str) -> str:
    return " ".join(s.split()).lower()


def select(scored: Sequence[ScoredSentence], cfg: "AnswerConfig") -> list[ScoredSentence]:
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


def abstention_reason(
    question: str,
    hits: Sequence[Hit],
    chosen: Sequence[ScoredSentence],
    best_cosine: float,
    sources: dict[str, Source],
    cfg: "AnswerConfig",
) -> str | None:
    """Why the evidence does not answer the question, or None when it may."""
    if not chosen:
        return "no sentence of the retrieved passages can serve as an answer"
    if best_cosine < cfg.min_cosine:
        return f"the closest sentence is a weak match (similarity {best_cosine:.2f}, below {cfg.min_cosine:.2f})"
    if hits and hits[0].reranked and hits[0].score < cfg.min_evidence:
        return f"the best passage is a weak match (score {hits[0].score:.2f}, below {cfg.min_evidence:.2f})"
    if cfg.check_years:
        seen = " ".join(
            f"{h.passage.text} {h.passage.section} {sources[h.passage.source_id].title if h.passage.source_id in sources else ''}"
            for h in hits
        )
        missing = [y for y in years_in(question) if y not in seen]
        if missing:
            return f"no retrieved passage mentions {', '.join(missing)}"
    if cfg.check_quantity and asks_quantity(question):
        amounts = [c.sentence.text for c in chosen if has_figure(c.sentence.text)]
        if not amounts:
            return "the question asks for a number and no retrieved sentence gives one"
        asked = content_words(question) - set(years_in(question))
        if cfg.quantity_words and not any(asked & content_words(t) for t in amounts):
            return "the question asks for a number and no sentence that gives one shares a word with it, years aside"
    return None


def rules_answer(
    question: str,
    hits: Sequence[Hit],
    sources: dict[str, Source],
    cosines: Callable[[Passage], np.ndarray],
    cfg: "AnswerConfig",
) -> tuple[list[ScoredSentence], str | None, float]:
    """The sentences to quote, in answer order, the reason to abstain (or None) and the best cosine."""
    scored = score_sentences(question, hits, cosines, cfg, {k: v.title for k, v in sources.items()})
    confidence = max((s.cosine for s in scored), default=0.0)
    chosen = select(scored, cfg)
    why = abstention_reason(question, hits, chosen, confidence, sources, cfg)
    # keep document order within a source so quoted sentences read naturally
    return sorted(chosen, key=lambda s: (s.hit_rank, s.sentence.start)), why, confidence
