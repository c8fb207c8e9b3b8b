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

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .answer_features import UnitCandidate, question_features, unit_features
from .learn.shipped import Judgment
from .models import Answer, AnswerSentence, Citation, Hit, Passage, Source
from .rank_features import QueryTerms
from .query import stems
from .units import UnitConfig, passage_units

NOT_ANSWERED = "The corpus does not answer this question; the nearest passages are listed below."


@dataclass(frozen=True)
class AnswerConfig:
    selection: str = "learned"  # "learned": the fitted selector and abstainer; "rules": those of earlier releases
    passages: int = 5  # top passages whose units are candidates
    max_sentences: int = 3
    per_passage: int = 2
    keep_share: float = 0.9  # learned: quote units whose probability is at least this share of the best one's
    threshold: float | None = None  # learned: abstain below this probability (None: the abstainer's own)
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


def source_warnings(sources: Sequence[Source]) -> list[str]:
    out = []
    for s in {s.id: s for s in sources}.values():
        if s.superseded_by:
            out.append(f"{s.id} may be superseded: {s.superseded_by}")
    return out


def candidate_units(hits: Sequence[Hit], cosines: Callable[[Passage], np.ndarray], sources: dict[str, Source],
                    doc_text: Callable[[str], str | None], cfg: AnswerConfig) -> list[UnitCandidate]:
    """The evidence units of the top passages, each once (the first passage that holds it)."""
    out: list[UnitCandidate] = []
    seen: set[tuple] = set()
    for rank, h in enumerate(hits[: cfg.passages]):
        p = h.passage
        src = sources.get(p.source_id) or Source(p.source_id, p.file, p.source_id, "", "", "", "")
        cos = [float(c) for c in cosines(p)]
        for u in passage_units(p, cos, src, lambda sid=p.source_id: doc_text(sid), rank, cfg.units,
                               passage_cosine=h.cosine or 0.0):
            if u.key in seen:
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
        if per.get(pid, 0) >= cfg.per_passage or any(_overlapping(c, cands[j]) for j in chosen) or \
                any(t in x or x in t for x in texts):
            continue
        chosen.append(i)
        texts.append(t)
        per[pid] = per.get(pid, 0) + 1
    return chosen


def weigh_evidence(q: QueryTerms, hits: Sequence[Hit], cands: Sequence[UnitCandidate], models: Judgment,
                   cfg: AnswerConfig) -> Evidence:
    """The selector's and the abstainer's judgment of the candidate units (pure)."""
    probs = models.selector.proba(models.selector.matrix([unit_features(q, c) for c in cands])) if cands else np.zeros(0)
    picked = choose(cands, list(probs), cfg)
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


def why_not(q: QueryTerms, ev: Evidence, models: Judgment) -> str:
    """One line: why the evidence does not answer, from the evidence signals that weigh against it most."""
    if not ev.chosen:
        return "no passage holds a statement that could serve as an answer"
    f = ev.features
    text = "\n".join(f"{c.unit.context}\n{c.unit.text}" for c in ev.chosen)
    found = stems(text)
    phrases = {
        "ranker_top": f"no passage matches it closely (the best scores {f['ranker_top']:.2f})",
        "ranker_gap": "no passage stands out from the others",
        "years_missing_top": f"no retrieved passage states {', '.join(sorted(q.years))}",
        "years_missing": f"the closest evidence does not state {', '.join(sorted(q.years))}",
        "names_missing": "the closest evidence does not name " + ", ".join(
            sorted(t for t in q.names if t not in found) or ["what it names"]),
        "amount_missing": "no quoted sentence gives an amount of what it asks about",
        "kind_miss_chosen": "the closest evidence does not state the kind of answer it asks for",
        "missing_rare_chosen": "the closest evidence does not mention " + " or ".join(
            f"“{t}”" for t in q.missing(found)[:2]),
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
    if cfg.selection == "rules":
        from .answer_rules import rules_answer

        picked, why, confidence = rules_answer(question, hits, sources, cosines, cfg)
        spans = [(s.passage, s.sentence.start, s.sentence.end, s.sentence.text) for s in picked]
    elif cfg.selection == "learned":
        if models is None or terms is None:
            raise ValueError("learned answer selection needs the models and the question's terms")
        ev = weigh_evidence(terms, hits, candidate_units(hits, cosines, sources, doc_text, cfg), models, cfg)
        confidence = ev.probability
        why = why_not(terms, ev, models) if not ev.chosen or ev.probability < ev.threshold else None
        picked_units = sorted(ev.chosen, key=lambda c: (c.hit_rank, c.unit.start))
        spans = [(c.unit.passage, c.unit.start, c.unit.end, c.unit.text) for c in picked_units]
    else:
        raise ValueError(f"unknown answer selection {cfg.selection!r} (learned or rules)")
    if why:
        return Answer(question, False, (), (), tuple(hits), f"{NOT_ANSWERED} ({why})", confidence)
    citations: list[Citation] = []
    answer: list[AnswerSentence] = []
    for passage, start, end, text in spans:
        c = Citation(len(citations) + 1, sources[passage.source_id], passage, start, end, text)
        citations.append(c)
        answer.append(AnswerSentence(" ".join(text.split()), (c.n,)))
    warnings = source_warnings([c.source for c in citations])
    return Answer(question, True, tuple(answer), tuple(citations), tuple(hits), "", confidence, tuple(warnings))
