"""What the rankers read about a (question, passage) pair: named, interpretable features (pure functions).

`QueryTerms` is what a question says, read once per query (its words with their IDF, years,
whether it asks how many, the names it capitalises). `Candidate` is a passage as the first-stage
retrievers found it (its cosine, its sentences' cosines, its ranks, its BM25 score).
`passage_features` turns the pair into the features below; the hand-set reranker of earlier
releases (`rules_ranker`) and the learned ranker (`learn/params/ranker.json`) are both linear
models over them.

| feature | what |
|---|---|
| `cosine` | the passage's cosine to the question (embedded with its title and section) |
| `best_sentence` | the best cosine of one of its sentences (no headings, at least 25 characters) |
| `best_sentence_words` | the best sentence by cosine + 0.3 × its IDF-weighted share of the question's words |
| `coverage` / `coverage_context` / `coverage_title` | IDF-weighted share of the question's words (by stem) in the text / text, title and section / title and section only |
| `best_sentence_exact`, `coverage_exact`, `coverage_context_exact` | the same with words matched exactly, as the hand-set reranker of earlier releases read them |
| `lexical`, `in_lexical` | its BM25 score as a share of the query's best, and whether FTS5 matched it at all |
| `dense_rr`, `lexical_rr`, `sentence_rr`, `fused` | reciprocal ranks in each retriever (passages, FTS5, best sentence) and the RRF score × 60 |
| `asks_year`, `years_named`, `other_years` | the question names a year; the passage (or its title) names all of them; only other years |
| `asks_quantity`, `amount_table`, `amount_prose`, `amount_named` | a how-many question; the passage holds table lines or rows; an amount in prose only; a line naming a name the question capitalises |
| `names`, `asks_names`, `rare` | share of the question's capitalised names in the passage with its title; the question has names; share of its three rarest words present |
| `secondary`, `table`, `length` | the source is secondary; the passage is table lines or rows; log of its length |
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

from ..index.store import content_terms
from ..learn.linear import LinearModel, hand_set
from ..models import Passage
from .query import asks_quantity, has_figure, named_terms, stem, stems, words, years_in

PASSAGE_FEATURES: tuple[str, ...] = (
    "cosine",
    "best_sentence",
    "best_sentence_words",
    "coverage",
    "coverage_context",
    "coverage_title",
    "best_sentence_exact",
    "coverage_exact",
    "coverage_context_exact",
    "lexical",
    "in_lexical",
    "dense_rr",
    "lexical_rr",
    "sentence_rr",
    "fused",
    "asks_year",
    "years_named",
    "other_years",
    "asks_quantity",
    "amount_table",
    "amount_prose",
    "amount_named",
    "names",
    "asks_names",
    "rare",
    "secondary",
    "table",
    "length",
)
SENTENCE_WORDS = 0.3  # the best sentence: cosine + this × its share of the question's words


@dataclass(frozen=True)
class QueryTerms:
    """A question's words with their inverse document frequency, and what it asks for. A word is
    found in a text when its stem is among the text's stems (`query.stems`): "fine" in "shall be fined"."""

    text: str
    idf: dict[str, float]  # content term -> IDF over the passages
    years: frozenset[str]
    quantity: bool
    names: frozenset[str]  # stems of the words it capitalises mid-sentence
    rare: tuple[str, ...]  # stems of its three rarest words
    unseen: frozenset[str] = frozenset()  # its words that no passage uses

    @classmethod
    def of(
        cls,
        text: str,
        idf: Callable[[Iterable[str]], dict[str, float]],
        unseen: Callable[[Iterable[str]], set[str]] | None = None,
    ) -> "QueryTerms":
        terms = content_terms(text)
        weights = idf(terms)
        rare = tuple(stem(t) for t in sorted(terms, key=lambda t: (-weights[t], t))[:3])
        return cls(
            text,
            weights,
            frozenset(years_in(text)),
            asks_quantity(text),
            frozenset(stem(t) for t in named_terms(text)),
            rare,
            frozenset(unseen(terms)) if unseen else frozenset(),
        )

    @property
    def terms(self) -> frozenset[str]:
        return frozenset(self.idf)

    @property
    def total(self) -> float:
        return sum(self.idf.values()) or 1.0

    @property
    def asked(self) -> frozenset[str]:
        """The stems of its words other than years: what an amount must be an amount of."""
        return frozenset(stem(t) for t in self.idf if t not in self.years)

    def coverage(self, found: frozenset[str] | set[str]) -> float:
        """IDF-weighted share of the question's words whose stems are among `found` (see `query.stems`)."""
        return sum(w for t, w in self.idf.items() if stem(t) in found) / self.total

    def exact_coverage(self, words: frozenset[str] | set[str]) -> float:
        """IDF-weighted share of the question's words among `words` (content terms, not stems)."""
        return sum(w for t, w in self.idf.items() if t in words) / self.total

    def missing(self, found: frozenset[str] | set[str]) -> list[str]:
        """The question's words (not years) whose stems are not among `found`, rarest first."""
        return sorted(
            (t for t in self.idf if stem(t) not in found and t not in self.years), key=lambda t: (-self.idf[t], t)
        )


@dataclass(frozen=True)
class Candidate:
    """A passage as the first-stage retrievers found it."""

    rowid: int
    passage: Passage
    context: str  # the title and section stored beside it
    cosine: float
    sentence_cosines: tuple[float, ...]
    fused: float  # reciprocal rank fusion score
    dense_rank: int | None = None  # 1-based
    lexical_rank: int | None = None
    sentence_rank: int | None = None
    lexical_score: float = 0.0  # BM25, higher is better; 0 when FTS5 did not match it
    secondary: bool = False


def _rr(rank: int | None) -> float:
    return 0.0 if rank is None else 1.0 / rank


def passage_features(q: QueryTerms, c: Candidate, lexical_max: float) -> dict[str, float]:
    p = c.passage
    usable = [
        (cos, s)
        for cos, s in zip(c.sentence_cosines, p.sentences)
        if s.kind not in ("heading", "table_header") and len(s.text) >= 25
    ]
    text_words = stems(p.text)
    context_words = stems(c.context)
    best_words = max((cos + SENTENCE_WORDS * q.coverage(stems(s.text)) for cos, s in usable), default=c.cosine)
    best_exact = max((cos + SENTENCE_WORDS * q.exact_coverage(words(s.text)) for cos, s in usable), default=c.cosine)
    exact_text, exact_context = words(p.text), words(c.context)
    named_years = set(years_in(p.text) or years_in(c.context))  # a row's own year, not its title's span
    lines = [s for s in p.sentences if s.kind in ("line", "row")]
    seen = text_words | context_words
    return {
        "cosine": c.cosine,
        "best_sentence": max((cos for cos, _ in usable), default=c.cosine),
        "best_sentence_words": best_words,
        "coverage": q.coverage(text_words),
        "coverage_context": q.coverage(seen),
        "coverage_title": q.coverage(context_words),
        "best_sentence_exact": best_exact,
        "coverage_exact": q.exact_coverage(exact_text),
        "coverage_context_exact": q.exact_coverage(exact_text | exact_context),
        "lexical": c.lexical_score / lexical_max if lexical_max > 0 else 0.0,
        "in_lexical": float(c.lexical_rank is not None),
        "dense_rr": _rr(c.dense_rank),
        "lexical_rr": _rr(c.lexical_rank),
        "sentence_rr": _rr(c.sentence_rank),
        "fused": 60.0 * c.fused,
        "asks_year": float(bool(q.years)),
        "years_named": float(bool(q.years) and q.years <= named_years),
        "other_years": float(bool(q.years) and bool(named_years) and not (q.years & named_years)),
        "asks_quantity": float(q.quantity),
        "amount_table": float(q.quantity and bool(lines)),
        "amount_prose": float(q.quantity and not lines and has_figure(p.text)),
        "amount_named": float(q.quantity and any(q.names & stems(s.text) for s in lines)),
        "names": len(q.names & seen) / len(q.names) if q.names else 0.0,
        "asks_names": float(bool(q.names)),
        "rare": sum(t in seen for t in q.rare) / len(q.rare) if q.rare else 0.0,
        "secondary": float(c.secondary),
        "table": float(bool(lines)),
        "length": math.log(len(p.text) + 1),
    }


def feature_matrix(q: QueryTerms, cands: Sequence[Candidate]) -> list[dict[str, float]]:
    top = max((c.lexical_score for c in cands), default=0.0)
    return [passage_features(q, c, top) for c in cands]


def rules_ranker(
    w_passage: float = 1.0,
    w_sentence: float = 0.5,
    w_coverage: float = 0.5,
    w_year: float = 0.1,
    w_amount: float = 0.25,
    w_named: float = 0.1,
    coverage_context: bool = True,
    sentence_words: bool = True,
) -> LinearModel:
    """The reranker of earlier releases as a linear model over these features, its weights set by hand
    on the 40 dev questions: passage cosine + ½ best sentence (by cosine and words) + ½ coverage of the
    question's words (with title and section) ± 0.1 for its years; for a how-many question + 0.25 for a
    table, + 0.125 for an amount in prose, + 0.1 when a line names the question's name."""
    return hand_set(
        "rules",
        {
            "cosine": w_passage,
            "best_sentence_exact" if sentence_words else "best_sentence": w_sentence,
            "coverage_context_exact" if coverage_context else "coverage_exact": w_coverage,
            "years_named": w_year,
            "other_years": -w_year,
            "amount_table": w_amount,
            "amount_prose": w_amount / 2,
            "amount_named": w_named,
        },
    )


def score(model: LinearModel, rows: Sequence[dict[str, float]]) -> np.ndarray:
    """A ranker's scores: a fitted model's probability that the passage holds the answer, or a
    hand-set model's weighted sum."""
    if not rows:
        return np.zeros(0)
    X = model.matrix(rows)
    return model.proba(X) if model.meta.get("fitted") else model.decision(X)
