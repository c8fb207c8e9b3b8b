"""Extractive answers: the few evidence units that answer a question, verbatim and cited, or an abstention.

By default (`selection="learned"`) the candidates are the evidence units (`units`) of the top
passages: sentences, statements joined where pysbd cut them (a statute's lead-in with its list
items), table lines read with their caption and years. The selector (`learn/params/selector.json`)
gives each the probability that it states gold evidence; the answer quotes the best few (within
`keep_share` of the best, at most two from one passage, no overlaps). The abstainer
(`learn/params/abstainer.json`) then gives the probability that the chosen evidence answers the
question at all, from what the question asks and what the evidence states (its words, years,
names, an amount); below the threshold chosen on the training folds the tool abstains, says why
and shows the nearest passages. `selection="rules"` is the sentence scoring and abstention of
earlier releases (`answer_rules`), kept for the benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from typing import Callable, Sequence

import numpy as np

from ..learn.shipped import Judgment
from ..models import Answer, AnswerSentence, Citation, Conflict, Hit, Passage, Source
from ..search.query import stems, years_in
from ..search.rank_features import QueryTerms
from .answer_features import UnitCandidate, laws_only_cited, question_features, unit_features
from .units import UnitConfig, evidence_years, figures_apart, passage_units, same_statement

NOT_ANSWERED = "The corpus does not answer this question; the nearest passages are listed below."


@dataclass(frozen=True)
class AnswerConfig:
    selection: str = "learned"  # "learned": the fitted selector and abstainer; "rules": those of earlier releases
    passages: int = 5  # top passages whose units are candidates
    max_sentences: int = 3
    per_passage: int = 2
    keep_share: float = 0.9  # learned: quote units whose probability is at least this share of the best one's
    threshold: float | None = None  # learned: abstain below this probability (None: the abstainer's own)
    same_year: bool = True  # learned: a question about a year is answered only from evidence for that year
    check_against: int = 5  # an answer quoting only secondary sources lists this many primary passages to check
    units: UnitConfig = field(default_factory=UnitConfig)
    # the rules of earlier releases (selection="rules"; fitted on the dev questions)
    min_chars: int = 25
    lexical_bonus: float = 0.15
    margin: float = 0.12  # keep sentences within this of the best one
    number_bonus: float = 0.1  # for sentences that state an amount, when the question asks how many
    min_cosine: float = 0.40  # abstain when the best sentence's cosine to the question is below this
    min_evidence: float = 0.99  # abstain below this reranked top score
    check_years: bool = True  # abstain when a year the question names is in none of the retrieved passages
    check_quantity: bool = True  # abstain when a how-many question finds no sentence stating an amount …
    quantity_words: bool = True  # … or (with this) none that also shares a word with the question, years aside


@dataclass(frozen=True)
class Evidence:
    """What the answer rests on, before it is rendered: chosen units, every candidate's probability,
    and the abstainer's probability with its features (also what `learn` replays)."""

    candidates: tuple[UnitCandidate, ...]
    probabilities: tuple[float, ...]  # the selector's, per candidate (same order)
    chosen: tuple[UnitCandidate, ...]
    features: dict[str, float]
    probability: float  # that the chosen evidence answers the question
    threshold: float


SECONDARY_ONLY = (
    "every quote above is from a secondary source (commentary, research or a derived table), "
    "not from a statute or NCMEC's own documents: check it against a primary source"
)


def secondary_only(a: Answer) -> bool:
    """Whether every quote of an answer is from a secondary source."""
    return a.answered and bool(a.sources) and all(c.source.kind == "secondary" for c in a.sources)


def source_warnings(sources: Sequence[Source]) -> list[str]:
    out = []
    for s in {s.id: s for s in sources}.values():
        if s.superseded_by:
            out.append(f"{s.id} may be superseded: {s.superseded_by}")
    return out


def candidate_units(
    hits: Sequence[Hit],
    cosines: Callable[[Passage], np.ndarray],
    sources: dict[str, Source],
    doc_text: Callable[[str], str | None],
    cfg: AnswerConfig,
) -> list[UnitCandidate]:
    """The evidence units of the top passages, each once (the first passage that holds it)."""
    out: list[UnitCandidate] = []
    seen: set[tuple] = set()
    for rank, h in enumerate(hits[: cfg.passages]):
        p = h.passage
        src = sources.get(p.source_id) or Source(p.source_id, p.file, p.source_id, "", "", "", "")
        cos = [float(c) for c in cosines(p)]
        for u in passage_units(
            p, cos, src, partial(doc_text, p.source_id), rank, cfg.units, passage_cosine=h.cosine or 0.0
        ):
            if u.key in seen or u.ref == "table":  # a whole table is evidence for claims; answers quote its lines
                continue
            seen.add(u.key)
            own = max((c for s, c in zip(p.sentences, cos) if u.start <= s.start and s.end <= u.end), default=u.cosine)
            out.append(UnitCandidate(u, rank, h.score, own, src.kind == "secondary"))
    return out


def _overlapping(a: UnitCandidate, b: UnitCandidate) -> bool:
    ua, ub = a.unit, b.unit
    return ua.source_id == ub.source_id and ua.start < ub.end and ub.start < ua.end


def choose(cands: Sequence[UnitCandidate], probs: Sequence[float], cfg: AnswerConfig) -> list[int]:
    """Indices of the units to quote: the most probable, within `keep_share` of the best, at most
    `per_passage` from one passage, none overlapping another or repeating its text."""
    order = sorted(range(len(cands)), key=lambda i: (-probs[i], cands[i].hit_rank, cands[i].unit.start))
    chosen: list[int] = []
    per: dict[str, int] = {}
    texts: list[str] = []
    for i in order:
        if len(chosen) >= cfg.max_sentences or (chosen and probs[i] < cfg.keep_share * probs[order[0]]):
            break
        c = cands[i]
        pid = c.unit.passage.passage_id if c.unit.passage else ""
        t = " ".join(c.unit.text.split()).lower()
        if (
            per.get(pid, 0) >= cfg.per_passage
            or any(_overlapping(c, cands[j]) for j in chosen)
            or any(t in x or x in t or same_statement(t, x) for x in texts)
        ):
            continue
        chosen.append(i)
        texts.append(t)
        per[pid] = per.get(pid, 0) + 1
    return chosen


def same_elsewhere(chosen: UnitCandidate, cands: Sequence[UnitCandidate]) -> list[UnitCandidate]:
    """The candidates of other documents that say what `chosen` says in the very same words, spacing
    aside (another edition's sentence, a repeated footnote): quoted once, cited from each, so that the
    quote shown stands verbatim in every document cited. One per document. (A near duplicate that
    extraction spelled differently, "th an", is not quoted again, see `choose`, nor cited for a text
    it does not hold.)"""
    out: list[UnitCandidate] = []
    seen = {chosen.unit.source_id}
    text = " ".join(chosen.unit.text.split())
    for d in cands:
        if d.unit.source_id not in seen and " ".join(d.unit.text.split()) == text:
            seen.add(d.unit.source_id)
            out.append(d)
    return out


def unit_years(c: UnitCandidate) -> frozenset[str]:
    u = c.unit
    return evidence_years(u.text, u.reads_with, u.passage.section if u.passage else "", u.doc_year)


def for_the_years(q: QueryTerms, cands: Sequence[UnitCandidate]) -> list[bool]:
    """Which candidates may answer: a question about a year is answered only from evidence for that year."""
    return [not q.years or bool(unit_years(c) & q.years) for c in cands]


def disagreeing(chosen: UnitCandidate, cands: Sequence[UnitCandidate]) -> list[tuple[UnitCandidate, tuple[str, str]]]:
    """Candidates of other documents that make `chosen`'s statement in the same words with another
    figure (two editions disagreeing): each with (chosen's figures, its figures). One per document. A
    statement for another year (the same table row in next year's report) is no disagreement."""
    out = []
    seen = {chosen.unit.source_id}

    def years(c: UnitCandidate) -> frozenset[str]:  # those the quote states, else those it is evidence for
        return frozenset(years_in(c.unit.text)) or unit_years(c)

    mine = years(chosen)
    for d in cands:
        if d.unit.source_id in seen or years(d) != mine:
            continue
        apart = figures_apart(chosen.unit.text, d.unit.text)
        if apart:
            seen.add(d.unit.source_id)
            out.append((d, apart))
    return out


def weigh_evidence(
    q: QueryTerms, hits: Sequence[Hit], cands: Sequence[UnitCandidate], models: Judgment, cfg: AnswerConfig
) -> Evidence:
    """The selector's and the abstainer's judgment of the candidate units (pure)."""
    probs = (
        models.selector.proba(models.selector.matrix([unit_features(q, c) for c in cands])) if cands else np.zeros(0)
    )
    allowed = for_the_years(q, cands) if cfg.same_year else [True] * len(cands)
    picked = choose(cands, [float(p) if ok else -1.0 for p, ok in zip(probs, allowed)], cfg)
    picked = [i for i in picked if allowed[i]]
    chosen = [cands[i] for i in picked]
    ranked = sorted((float(p) for p in probs), reverse=True)
    tops = [f"{h.context}\n{h.passage.text}" for h in hits[: cfg.passages]]
    qf = question_features(q, ranked, chosen, [h.score for h in hits], tops)
    p = float(models.abstainer.proba(models.abstainer.matrix([qf]))[0]) if chosen else 0.0
    t = cfg.threshold if cfg.threshold is not None else float(models.abstainer.meta.get("threshold", 0.5))
    return Evidence(tuple(cands), tuple(float(x) for x in probs), tuple(chosen), qf, p, t)


def _weakest(model, features: dict[str, float], names: Sequence[str]) -> list[str]:
    """Among `names`, the features that pull the abstainer's estimate down most, strongest first."""
    z = (model.matrix([features])[0] - model.mean) / model.scale
    pull = {f: float(z[i] * model.coef[i]) for i, f in enumerate(model.features) if f in names}
    return [f for f, v in sorted(pull.items(), key=lambda x: x[1]) if v < 0]


def near_miss(q: QueryTerms, ev: Evidence) -> str:
    """When the evidence found is for other years than the question's: say which years it is for (of what
    was retrieved: the corpus may still hold the year in a passage the search did not find)."""
    if not q.years or not ev.candidates:
        return ""
    ranked = sorted(range(len(ev.candidates)), key=lambda i: -ev.probabilities[i])
    best = [ev.candidates[i] for i in ranked[:12]]
    named = [c for c in best if not q.names or q.names & stems(f"{c.unit.text} {c.unit.reads_with}")] or best
    have = sorted(set().union(*(unit_years(c) for c in named)) - q.years)
    if not have:
        return ""
    what = " ".join(sorted({w for w in q.text.replace("?", " ").split() if w[:1].isupper() and stems(w) & q.names}))
    asked = " or ".join(sorted(q.years))
    listed = ", ".join(have[:-1]) + f" and {have[-1]}" if len(have) > 1 else have[0]
    return (
        f"no passage found gives a figure{' for ' + what if what else ''} in {asked}; the nearest evidence is "
        f"for {listed}"
    )


def why_not(q: QueryTerms, ev: Evidence, models: Judgment) -> str:
    """One line: why the evidence does not answer, from the evidence signals that weigh against it most."""
    if not ev.chosen:
        return near_miss(q, ev) or "no passage holds a statement that could serve as an answer"
    f = ev.features
    text = "\n".join(f"{c.unit.context}\n{c.unit.text}" for c in ev.chosen)
    found = stems(text)
    phrases = {
        "ranker_top": f"no passage matches it closely (the best scores {f['ranker_top']:.2f})",
        "ranker_gap": "no passage stands out from the others",
        "years_missing_top": f"no retrieved passage states {', '.join(sorted(q.years))}",
        "years_missing": f"the closest evidence does not state {', '.join(sorted(q.years))}",
        "names_missing": "the closest evidence does not name "
        + ", ".join(sorted(t for t in q.names if t not in found) or ["what it names"]),
        "amount_missing": "no quoted sentence gives an amount of what it asks about",
        "kind_miss_chosen": "the closest evidence does not state the kind of answer it asks for",
        "miss_sum": "the closest evidence states no sum of money",
        "miss_money": "the closest evidence states no fine, penalty or cost",
        "miss_duration": "the closest evidence states no period of time",
        "cites_asked_law": "the closest evidence only cites "
        + ", ".join(f"section {n}" for n in sorted(laws_only_cited(q.text, ev.chosen[0].unit)))
        + " and does not say what it provides",
        "missing_rare_chosen": "the closest evidence does not mention "
        + " or ".join(f"“{t}”" for t in q.missing(found)[:2]),
    }
    weak = [w for w in _weakest(models.abstainer, f, list(phrases)) if not (w.startswith("years") and not q.years)]
    detail = f": {phrases[weak[0]]}" if weak else ""
    return f"the evidence is unlikely to answer it (estimated {ev.probability:.2f}, below {ev.threshold:.2f}){detail}"


def answer_question(
    question: str,
    hits: Sequence[Hit],
    sources: dict[str, Source],
    cosines: Callable[[Passage], np.ndarray],
    cfg: AnswerConfig = AnswerConfig(),
    models: Judgment | None = None,
    doc_text: Callable[[str], str | None] = lambda sid: None,
    terms: QueryTerms | None = None,
) -> Answer:
    """The answer to `question` from `hits`. `cosines(p)`: each sentence's cosine to the question;
    `doc_text(source_id)`: a document's extracted text (captions of table lines); `terms`: the
    question's words with their IDF (learned selection)."""
    spans: list[tuple[Passage | None, int, int, str, str]]
    against: list[list[tuple[tuple, tuple[str, str]]]]
    if cfg.selection == "rules":
        from .answer_rules import rules_answer

        picked, why, confidence = rules_answer(question, hits, sources, cosines, cfg)
        spans = [(s.passage, s.sentence.start, s.sentence.end, s.sentence.text, "") for s in picked]
        also: list[list[tuple]] = [[] for _ in spans]
        against = [[] for _ in spans]
    elif cfg.selection == "learned":
        if models is None or terms is None:
            raise ValueError("learned answer selection needs the models and the question's terms")
        ev = weigh_evidence(terms, hits, candidate_units(hits, cosines, sources, doc_text, cfg), models, cfg)
        confidence = ev.probability
        why = why_not(terms, ev, models) if not ev.chosen or ev.probability < ev.threshold else None
        picked_units = sorted(ev.chosen, key=lambda c: (c.secondary, c.hit_rank, c.unit.start))  # primary first
        spans = [(c.unit.passage, c.unit.start, c.unit.end, c.unit.text, c.unit.reads_with) for c in picked_units]
        also = [
            [
                (d.unit.passage, d.unit.start, d.unit.end, d.unit.text, d.unit.reads_with)
                for d in same_elsewhere(c, ev.candidates)
            ]
            for c in picked_units
        ]
        # disagreement: the same statement with another figure in another document is shown beside it
        against = []
        shown = {(c.unit.source_id, c.unit.start) for c in picked_units}
        for c in picked_units:
            rows = []
            for d, apart in disagreeing(c, ev.candidates):
                if (d.unit.source_id, d.unit.start) not in shown:
                    shown.add((d.unit.source_id, d.unit.start))
                    rows.append(((d.unit.passage, d.unit.start, d.unit.end, d.unit.text, d.unit.reads_with), apart))
            against.append(rows)
    else:
        raise ValueError(f"unknown answer selection {cfg.selection!r} (learned or rules)")
    if why:
        return Answer(question, False, (), (), tuple(hits), f"{NOT_ANSWERED} ({why})", confidence)
    citations: list[Citation] = []
    answer: list[AnswerSentence] = []
    conflicts: list[Conflict] = []

    def cite(passage, start, end, text, reads_with) -> int:
        c = Citation(len(citations) + 1, sources[passage.source_id], passage, start, end, text, reads_with)
        citations.append(c)
        return c.n

    for first, more, others in zip(spans, also, against):
        ns = [cite(*x) for x in (first, *more)]  # one statement, cited from each document that makes it
        answer.append(AnswerSentence(" ".join(first[3].split()), tuple(ns)))
        for other, (mine, theirs) in others:  # the same statement with another figure, side by side
            n = cite(*other)
            answer.append(AnswerSentence(" ".join(other[3].split()), (n,)))
            conflicts.append(Conflict((ns[0], n), (mine, theirs)))
    warnings = source_warnings([c.source for c in citations])
    a = Answer(
        question, True, tuple(answer), tuple(citations), tuple(hits), "", confidence, tuple(warnings), tuple(conflicts)
    )
    return replace(a, warnings=(SECONDARY_ONLY, *warnings)) if secondary_only(a) else a
