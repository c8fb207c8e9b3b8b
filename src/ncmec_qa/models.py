"""Typed records shared by every layer: sources, documents, passages, citations, answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Source:
    """One manifest record: a bibliographic description of a document, not the document."""

    id: str
    file: str
    title: str
    publisher: str
    date: str
    format: str
    sha256: str
    url: str | None = None
    rights: str | None = None
    bytes: int | None = None
    kind: str = "primary"  # "primary" or "secondary"
    edition: str | None = None
    supersedes: tuple[str, ...] = ()
    superseded_by: str | None = None  # free-text note: a later text that replaced this one
    retrieved_from: dict[str, Any] | None = None
    authors: tuple[str, ...] = ()  # people who wrote it, each "Family, Given"; an institution stays the publisher

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["supersedes"] = list(self.supersedes)
        d["authors"] = list(self.authors)
        return d


@dataclass(frozen=True)
class Block:
    """A structural unit of a document's extracted text (a paragraph, table row, list item...)."""

    start: int
    end: int
    section: str = ""  # heading path, e.g. "§ 2258A > (b) Contents of report"
    page: int | None = None  # 1-based page for paged formats
    kind: str = "text"  # "text", "heading", "row", "table"


@dataclass(frozen=True)
class Document:
    """A file turned into text: `text` is what every offset in the index refers to."""

    source_id: str
    file: str
    text: str
    blocks: tuple[Block, ...]
    format: str


@dataclass(frozen=True)
class Sentence:
    start: int  # offsets into the document's extracted text
    end: int
    text: str
    kind: str = "text"  # the kind of block it came from: "text", "heading", "row", "table_header"
    row: int | None = None  # its row in the index's sentence table (and sentence vectors), once indexed


@dataclass(frozen=True)
class Passage:
    passage_id: str
    source_id: str
    file: str
    start: int
    end: int
    text: str
    section: str = ""
    page: int | None = None
    sentences: tuple[Sentence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "passage_id": self.passage_id,
            "source_id": self.source_id,
            "file": self.file,
            "section": self.section,
            "page": self.page,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its fused score and the ranks it had in each retriever."""

    passage: Passage
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    cosine: float | None = None  # the passage's cosine to the query, when the dense retriever or the reranker saw it
    reranked: bool = False  # `score` is the reranker's (comparable across queries), not a fusion score
    context: str = ""  # the title and section the retrievers read beside the passage

    def to_dict(self) -> dict[str, Any]:
        d = self.passage.to_dict()
        d["score"] = round(self.score, 6)
        return d


@dataclass(frozen=True)
class Citation:
    """A numbered source entry: where a quote stands, exactly."""

    n: int
    source: Source
    passage: Passage
    start: int
    end: int
    quote: str
    reads_with: str = ""  # not quoted: the caption and column header (years) a table line is read with

    def to_dict(self) -> dict[str, Any]:
        s = self.source
        return {
            "n": self.n,
            "source_id": s.id,
            "file": s.file,
            "title": s.title,
            "authors": list(s.authors),
            "publisher": s.publisher,
            "date": s.date,
            "url": s.url,
            "kind": s.kind,
            "edition": s.edition,
            "superseded": bool(s.superseded_by),
            "section": self.passage.section,
            "page": self.passage.page,
            "passage_id": self.passage.passage_id,
            "start": self.start,
            "end": self.end,
            "quote": self.quote,
            "reads_with": self.reads_with,
        }


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citations: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "citations": list(self.citations)}


@dataclass(frozen=True)
class Conflict:
    """Two quoted statements that say the same thing in the same words but with different figures."""

    citations: tuple[int, int]
    figures: tuple[str, str]  # what each states where the other states something else

    def to_dict(self) -> dict[str, Any]:
        return {
            "citations": list(self.citations),
            "figures": list(self.figures),
            "note": "the sources give different figures for the same statement",
        }


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    answer: tuple[AnswerSentence, ...]
    sources: tuple[Citation, ...]
    passages: tuple[Hit, ...]
    reason: str = ""
    confidence: float = 0.0
    warnings: tuple[str, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    # when every quote is from a secondary source: the primary passages nearest the question and each
    # quote, listed for checking the quotes against (not judged to answer the question)
    check_against: tuple[Hit, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answered": self.answered,
            "reason": self.reason,
            "confidence": round(self.confidence, 4),
            "answer": [a.to_dict() for a in self.answer],
            "sources": [c.to_dict() for c in self.sources],
            "passages": [h.to_dict() for h in self.passages],
            "warnings": list(self.warnings),
            "conflict": [c.to_dict() for c in self.conflicts],
            "check_against": [h.to_dict() for h in self.check_against],
        }


@dataclass(frozen=True)
class Verdict:
    claim: str
    verdict: str  # "supported" | "contradicted" | "not_found"
    reason: str
    evidence: tuple[Citation, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = ()  # notes on the evidence: a quoted document indexed from a drifted file

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim": self.claim,
            "verdict": self.verdict,
            "reason": self.reason,
            "evidence": [c.to_dict() for c in self.evidence],
            "warnings": list(self.warnings),
        }
