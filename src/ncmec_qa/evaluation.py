"""Retrieval and answer quality on question sets with gold evidence.

A retrieved passage is gold evidence when it comes from the quote's file and contains the
quote, whitespace aside (the gold quotes were taken from another text extraction, which puts a
space where ours may put none: "<vehicleDescription> 0|1" for "<vehicleDescription>0|1").
An answer sentence is inside gold evidence when its cited span overlaps a gold quote's span in
the document by at least half of the shorter of the two (`gold_spans` locates the quotes).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .models import Answer, Hit, Passage

_WS = re.compile(r"\s+")


def normalize_ws(s: str) -> str:
    return _WS.sub(" ", s).strip()


def squash_ws(s: str) -> str:
    """`s` without any whitespace: how gold quotes are matched."""
    return _WS.sub("", s)


def gold_spans(text: str, quotes: Sequence[str]) -> list[tuple[int, int]]:
    """Every (start, end) in `text` where one of `quotes` stands, whitespace aside."""
    kept = [i for i, ch in enumerate(text) if not ch.isspace()]
    flat = "".join(text[i] for i in kept)
    out: list[tuple[int, int]] = []
    for q in quotes:
        needle = squash_ws(q)
        at = flat.find(needle) if needle else -1
        while at >= 0:
            out.append((kept[at], kept[at + len(needle) - 1] + 1))
            at = flat.find(needle, at + 1)
    return out


def overlaps_gold(start: int, end: int, spans: Sequence[tuple[int, int]], share: float = 0.5) -> bool:
    """Does [start, end) overlap one of `spans` by at least `share` of the shorter of the two?"""
    return any(min(end, b) - max(start, a) >= share * min(end - start, b - a) > 0 for a, b in spans)


@dataclass(frozen=True)
class Evidence:
    file: str
    quote: str


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answerable: bool
    evidence: tuple[Evidence, ...]
    kind: str = ""


def load_jsonl(path: Path, make: Callable[[dict[str, Any]], Any], what: str, expected: str = "") -> list[Any]:
    """`make(record)` for each line of a JSONL file (blank lines skipped); a record `make` cannot read is
    one error naming the file, the line, `what` a record should be and the fields `expected`."""
    from .errors import NcmecQaError

    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(make(json.loads(line)))
        except (ValueError, KeyError, TypeError) as e:
            hint = f"; expected {expected}" if expected else ""
            raise NcmecQaError(f"{path}, line {n}: not {what} ({e}){hint}") from None
    return out


def evidence_of(r: dict[str, Any]) -> tuple[Evidence, ...]:
    return tuple(Evidence(e["file"], e["quote"]) for e in r.get("evidence", []))


def load_questions(path: Path) -> list[Question]:
    return load_jsonl(
        path,
        lambda r: Question(r["id"], r["question"], bool(r.get("answerable", True)), evidence_of(r), r.get("kind", "")),
        "a question record",
        "id, question, answerable, evidence",
    )


def is_gold(p: Passage, evidence: Sequence[Evidence]) -> bool:
    text = squash_ws(p.text)
    return any(e.file == p.file and squash_ws(e.quote) in text for e in evidence)


def first_gold_rank(hits: Sequence[Hit], evidence: Sequence[Evidence]) -> int | None:
    for i, h in enumerate(hits, start=1):
        if is_gold(h.passage, evidence):
            return i
    return None


def ndcg_at(hits: Sequence[Hit], evidence: Sequence[Evidence], k: int = 10) -> float:
    """nDCG@k where a passage gains 1 for each gold quote it is the first to contain;
    the ideal ranking has one passage per quote, min(#quotes, k) of them."""
    credited: set[str] = set()
    gains = []
    for h in hits[:k]:
        text = squash_ws(h.passage.text)
        new = {
            e.quote
            for e in evidence
            if e.quote not in credited and e.file == h.passage.file and squash_ws(e.quote) in text
        }
        credited |= new
        gains.append(1.0 if new else 0.0)
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal_n = min(max(1, len({e.quote for e in evidence})), k)
    idcg = sum(1 / math.log2(i + 2) for i in range(ideal_n))
    return dcg / idcg if idcg else 0.0


@dataclass
class QuestionResult:
    id: str
    answerable: bool
    rank: int | None
    answered: bool
    answer_sentences: int
    gold_sentences: int
    ndcg10: float


@dataclass
class EvalReport:
    n_answerable: int = 0
    n_unanswerable: int = 0
    recall: dict[str, float] = field(default_factory=dict)
    hits_at: dict[str, int] = field(default_factory=dict)
    mrr: float = 0.0
    ndcg10: float = 0.0
    answered_correct: int = 0  # answerable and answered
    abstained_correct: int = 0  # unanswerable and abstained
    answer_precision: float = 0.0
    primary_gold_answered: int = 0  # answered answerable questions with a gold quote from a primary source …
    primary_first: int = 0  # … whose first quote is from a primary source
    other_year_answers: int = 0  # answers to a question naming a year that quote evidence for other years only
    duplicate_quotes: int = 0  # answer sentences repeating another of the same answer
    secondary_only_primary_gold: int = 0  # answered answerable questions quoting only secondary sources, with a
    primary_gold_listed: int = 0  # primary gold quote; … whose primary passages to check against hold one
    results: list[QuestionResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["mrr"] = round(self.mrr, 4)
        d["ndcg10"] = round(self.ndcg10, 4)
        d["answer_precision"] = round(self.answer_precision, 4)
        d["recall"] = {k: round(v, 4) for k, v in self.recall.items()}
        return d


class GoldLocator:
    """The spans of a question's gold quotes in each cited document (`document_text(file)` gives
    the document's extracted text, the text every citation's offsets refer to)."""

    def __init__(self, document_text: Callable[[str], str | None]):
        self.document_text = document_text
        self._texts: dict[str, str | None] = {}

    def spans(self, file: str, evidence: Sequence[Evidence]) -> list[tuple[int, int]]:
        if file not in self._texts:
            self._texts[file] = self.document_text(file)
        text = self._texts[file]
        return gold_spans(text, [e.quote for e in evidence if e.file == file]) if text else []

    def cited_gold(self, file: str, start: int, end: int, evidence: Sequence[Evidence]) -> bool:
        return overlaps_gold(start, end, self.spans(file, evidence))


def quote_years(c) -> frozenset[str]:
    """The years a cited quote is evidence for (the rule answers follow: `units.evidence_years`)."""
    from .answer.units import doc_year, evidence_years

    return evidence_years(c.quote, c.reads_with, c.passage.section, doc_year(c.source))


def answer_shape(question: str, a: Answer) -> tuple[bool, int]:
    """(an answer to a question naming a year quotes a sentence whose evidence is for other years only,
    how many answer sentences repeat another of the same answer)."""
    from .search.query import years_in

    asked = set(years_in(question))
    firsts = [a.sources[s.citations[0] - 1] for s in a.answer]
    years = [quote_years(c) for c in firsts]
    other = bool(asked) and any(y and not (y & asked) for y in years)
    texts = [" ".join(s.text.split()).lower() for s in a.answer]
    return other, len(texts) - len(set(texts))


def evaluate(
    questions: Sequence[Question],
    ask: Callable[[str], Answer],
    document_text: Callable[[str], str | None],
    ks: Sequence[int] = (1, 5, 10),
    kind_of_file: Callable[[str], str] | None = None,
) -> EvalReport:
    """`document_text(file)`: a document's extracted text, to locate gold quotes for answer precision;
    `kind_of_file(file)`: "primary" or "secondary", for the share of answers that quote a primary source
    first when a primary gold quote exists."""
    from .answer.answering import secondary_only

    gold = GoldLocator(document_text)
    rep = EvalReport()
    rr, nd, sent_total, sent_gold = 0.0, 0.0, 0, 0
    hits_at = {k: 0 for k in ks}
    for q in questions:
        a = ask(q.question)
        hits = list(a.passages)
        if a.answered:
            other, dup = answer_shape(q.question, a)
            rep.other_year_answers += int(other)
            rep.duplicate_quotes += dup
            if q.answerable and kind_of_file and any(kind_of_file(e.file) != "secondary" for e in q.evidence):
                rep.primary_gold_answered += 1
                rep.primary_first += int(a.sources[a.answer[0].citations[0] - 1].source.kind != "secondary")
                if secondary_only(a):
                    primary = [e for e in q.evidence if kind_of_file(e.file) != "secondary"]
                    rep.secondary_only_primary_gold += 1
                    rep.primary_gold_listed += int(any(is_gold(h.passage, primary) for h in a.check_against))
        rank = first_gold_rank(hits, q.evidence) if q.answerable else None
        g = ndcg_at(hits, q.evidence) if q.answerable else 0.0
        gold_s = 0
        if q.answerable:
            rep.n_answerable += 1
            rep.answered_correct += int(a.answered)
            rr += 1 / rank if rank else 0.0
            nd += g
            for k in ks:
                hits_at[k] += int(rank is not None and rank <= k)
            for s in a.answer:
                c = a.sources[s.citations[0] - 1]
                gold_s += int(gold.cited_gold(c.passage.file, c.start, c.end, q.evidence))
            sent_total += len(a.answer)
            sent_gold += gold_s
        else:
            rep.n_unanswerable += 1
            rep.abstained_correct += int(not a.answered)
        rep.results.append(QuestionResult(q.id, q.answerable, rank, a.answered, len(a.answer), gold_s, round(g, 4)))
    n = max(rep.n_answerable, 1)
    rep.hits_at = {f"@{k}": v for k, v in hits_at.items()}
    rep.recall = {f"@{k}": v / n for k, v in hits_at.items()}
    rep.mrr = rr / n
    rep.ndcg10 = nd / n
    rep.answer_precision = sent_gold / sent_total if sent_total else 0.0
    return rep
