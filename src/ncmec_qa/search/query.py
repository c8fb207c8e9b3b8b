"""What a question says about the evidence it wants, read from its words alone (pure functions).

- `years_in`: the years it names;
- `question_parts`: the clauses of a question that asks two things;
- `expand_query`: deterministic rewrites for the lexical search ("§ 2258A", "ESP", "CSAM");
- `asks_quantity` / `has_figure`: does it ask for an amount, and does a text state one;
- `named_terms`: the words it capitalises inside the sentence (names: "Reddit", "India");
- `section_numbers`: the section, bill or public-law numbers a text cites ("2258A", "3509", "1030");
- `stems`: the stems of a text's content words, how a question's words are found in evidence.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..index.store import content_terms

_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


def years_in(text: str) -> list[str]:
    """The years (1950–2099) that `text` names, in order, without repeats."""
    return list(dict.fromkeys(_YEAR.findall(text)))


# Deterministic rewrites: the same thing written two ways in this corpus.
_SYNONYMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"§\s*(\d{4}[A-Z]?)"), r"section \1 § \1"),
    (re.compile(r"\besps?\b", re.I), "electronic service provider ESP"),
    (re.compile(r"\bcsam\b", re.I), "CSAM child sexual abuse material child pornography"),
    (re.compile(r"\bIP\b"), "IP Internet Protocol address"),
)


def expand_query(q: str) -> str:
    out = q
    for pat, rep in _SYNONYMS:
        out = pat.sub(rep, out)
    return out


# ", and how …" / ", and is …" / "; " between two questions
_PARTS = re.compile(
    r",\s+(?:and|but)\s+(?=(?:how|what|which|who|whom|whose|when|where|why|is|are|does|do|did|can|could|may|must|"
    r"should|will|would)\b)|;\s+",
    re.I,
)


def question_parts(q: str) -> list[str]:
    """The parts of a question that asks two things at once, or [q]. Each part must be a clause
    of four words or more ("Which registries, and which offices, file …?" is one question)."""
    parts = [p.strip() for p in _PARTS.split(q)]
    return parts if len(parts) > 1 and all(len(p.split()) >= 4 for p in parts) else [q]


# "how many …" at the start of the question or of a clause ("In 2022, how many …", "…, and how much …")
_QUANTITY = re.compile(
    r"(?:^|[,;:]\s*|\band\s+)(?:in \d{4},?\s*)?(?:how (?:many|much|long|often)|what (?:share|proportion|"
    r"percentage|percent|fraction|number|amount))\b",
    re.I,
)


def asks_quantity(question: str) -> bool:
    return bool(_QUANTITY.search(question.strip()))


# Digits that name a year ("CY 2023", "in 2022") or a statute ("§ 2258A", "18 U.S.C.") are not an amount.
_NOT_AMOUNT = re.compile(r"\b(?:CY|FY)?\s?(?:19[5-9]\d|20\d\d)\b|§+\s*[\w.()-]+|\b\d+\s+U\.\s?S\.\s?C\.")


def has_figure(text: str) -> bool:
    """Does `text` state an amount: a digit that is not part of a year or a statute citation?"""
    return any(c.isdigit() for c in _NOT_AMOUNT.sub(" ", text))


# A number of three to five digits (a letter may follow: "2258A") that is not part of a larger figure
# ("36,210,368", "1.5") and not a year: how a statute, bill or public law is cited.
_SECTION = re.compile(r"(?<![\d,.$])\b(\d{3,5}[A-Z]{0,2})\b(?![,.]\d)")


def section_numbers(text: str) -> frozenset[str]:
    """The section-like numbers `text` names ("18 U.S.C. 2258A(h)" -> "2258A"), years (1950–2099) aside."""
    return frozenset(n for n in _SECTION.findall(text) if not _YEAR.fullmatch(n))


# A capitalised word that does not open the question or a sentence within it.
_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][A-Za-z]+")


def named_terms(question: str) -> set[str]:
    """The content terms of the words a question capitalises mid-sentence ("how many reports came
    from Reddit in 2022?" → {"reddit"}): the names a table's row would carry."""
    return content_terms(" ".join(_NAME.findall(question.strip())))


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer: the Snowball stemmers in C

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a lower-cased word: "fined" and "fine" → "fine"."""
    return _stemmer().stemWord(word)


@lru_cache(maxsize=65_536)
def words(text: str) -> frozenset[str]:
    """The content terms of `text` (`store.content_terms`), cached: passages are read again and again."""
    return frozenset(content_terms(text))


@lru_cache(maxsize=65_536)
def stems(text: str) -> frozenset[str]:
    """The stems of the content terms of `text`."""
    return frozenset(stem(t) for t in words(text))
