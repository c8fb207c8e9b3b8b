"""Compound sentences cut into claims: "; " and ", and/but/while/whereas" with a subject and a verb on both sides."""

from __future__ import annotations

import re
from collections.abc import Callable

# A clause boundary: a semicolon, or a comma before a coordinating conjunction.
_BOUNDARY = re.compile(r";\s+|,\s+(?:and|but|while|whereas|yet)\s+")

_PRONOUNS = {"it", "they", "he", "she", "we", "i", "you", "this", "that", "these", "those", "there", "one"}
_DETERMINERS = {
    "the",
    "a",
    "an",
    "its",
    "their",
    "his",
    "her",
    "our",
    "your",
    "each",
    "every",
    "most",
    "many",
    "some",
    "all",
    "no",
    "both",
    "few",
    "several",
    "other",
    "another",
    "such",
    "any",
    "more",
    "fewer",
    "nearly",
    "about",
    "almost",
    "over",
    "under",
    "only",
    "half",
    "none",
    "neither",
    "either",
    "this",
    "that",
    "these",
    "those",
}
_AUX = {
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "has",
    "have",
    "had",
    "can",
    "could",
    "may",
    "might",
    "must",
    "shall",
    "should",
    "will",
    "would",
    "does",
    "do",
    "did",
    "cannot",
    "can't",
    "won't",
    "isn't",
    "aren't",
    "wasn't",
    "weren't",
    "doesn't",
    "don't",
    "didn't",
    "hasn't",
    "haven't",
    "remains",
    "remain",
    "became",
    "becomes",
    "become",
    "seems",
    "appears",
}
_ADVERBS = {
    "then",
    "also",
    "so",
    "thus",
    "therefore",
    "still",
    "now",
    "later",
    "only",
    "even",
    "yet",
    "not",
    "often",
    "sometimes",
    "hence",
    "instead",
    "perhaps",
    "rather",
    "too",
    "again",
    "never",
    "always",
}
_IRREGULAR_PAST = {
    "made",
    "found",
    "gave",
    "took",
    "sent",
    "held",
    "kept",
    "said",
    "saw",
    "grew",
    "rose",
    "fell",
    "paid",
    "began",
    "led",
    "met",
    "won",
    "lost",
    "got",
    "came",
    "went",
    "knew",
    "told",
    "wrote",
    "brought",
    "built",
    "left",
    "ran",
    "set",
    "put",
    "spent",
    "stood",
    "thought",
    "meant",
    "sold",
    "hit",
    "cut",
}
_VERBS_S = {
    "says",
    "shows",
    "requires",
    "keeps",
    "receives",
    "includes",
    "provides",
    "states",
    "defines",
    "gives",
    "makes",
    "lists",
    "notes",
    "finds",
    "holds",
    "sends",
    "reports",
    "files",
    "handles",
    "counts",
    "takes",
    "uses",
    "allows",
    "needs",
    "means",
    "covers",
    "contains",
    "describes",
    "explains",
    "reviews",
    "forwards",
    "shares",
    "lacks",
    "accounts",
    "comes",
    "goes",
    "puts",
    "sets",
    "leads",
    "limits",
    "permits",
    "prohibits",
    "applies",
    "remains",
    "varies",
    "grows",
    "rises",
    "falls",
    "exceeds",
    "reaches",
    "depends",
    "stores",
    "deletes",
    "preserves",
    "removes",
    "sees",
    "gets",
    "knows",
    "tells",
    "argues",
    "claims",
    "suggests",
    "estimates",
    "found",
    "concludes",
    "warns",
    "adds",
}
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|[$]?\d[\d,.]*%?")
# "In 2023, …", "As of 2024, …": a leading phrase with a year that scopes every clause of the sentence
_INTRO = re.compile(
    r"^(?:In|By|During|As of|Since|Through|Until|Between|From|For|At the end of)\s"
    r"[^,;]{0,40}?\b(?:19|20)\d{2}\b[^,;]{0,20},\s+"
)
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _is_verb(words: list[str], i: int) -> bool:
    w = words[i].lower()
    after_det = i > 0 and words[i - 1].lower() in _DETERMINERS
    if w in _AUX:
        return True
    if after_det:  # "the reported figure", "each reports": an adjective or a noun
        return False
    if w in _IRREGULAR_PAST or w in _VERBS_S:
        return True
    return len(w) > 4 and w.endswith("ed")


def has_verb(text: str, start: int = 0, within: int = 40) -> bool:
    words = _words(text)
    return any(_is_verb(words, i) for i in range(start, min(len(words), within)))


def starts_with_subject(text: str) -> bool:
    """Whether a clause opens with a subject followed soon by its verb ("the registry keeps …", "NCMEC
    received …", "it is …"), not with a verb or an object that shares the previous clause's subject."""
    words = _words(text)
    if len(words) < 2:
        return False
    first = words[0]
    low = first.lower()
    if low in _PRONOUNS:
        return _is_verb(words, 1) or (len(words) > 2 and _is_verb(words, 2))
    if low in _DETERMINERS or first[0].isdigit() or first[0] == "$" or (first[0].isupper() and low not in _AUX):
        return any(_is_verb(words, i) for i in range(1, min(len(words), 9)))
    if low.isalpha() and low not in _AUX and low not in _ADVERBS and not low.endswith("ly"):
        # a bare noun ("operators must …", "providers were …"): only before an auxiliary or a modal
        return any(w.lower() in _AUX for w in words[1:3])
    return False


def _balanced(prefix: str) -> bool:
    """No parenthesis, bracket or double quotation left open before a boundary."""
    return (
        prefix.count("(") == prefix.count(")")
        and prefix.count("[") == prefix.count("]")
        and prefix.count("“") == prefix.count("”")
        and prefix.count('"') % 2 == 0
    )


def split_clauses(sentence: str, checkable: Callable[[str], bool]) -> list[tuple[int, int, str]]:
    """The claims of one sentence: (start, end, text) with offsets into `sentence`.

    A sentence is cut at "; " when every part is checkable, and at ", and"/", but"/", while"/", whereas"/
    ", yet" only when both sides are clauses of their own (a verb on the left; a subject, then its verb, on
    the right) and every part is checkable; otherwise it is one claim. A leading "In 2023, " is carried into
    the later clauses that name no year. `checkable(text)` says whether a part has enough to check.
    """
    whole = [(0, len(sentence), sentence)]
    cuts: list[tuple[int, int]] = []
    seg_start = 0
    for m in _BOUNDARY.finditer(sentence):
        if not _balanced(sentence[: m.start()]):
            continue
        left, right = sentence[seg_start : m.start()], sentence[m.end() :]
        if not m.group().startswith(";") and not (has_verb(left) and starts_with_subject(right)):
            continue
        cuts.append((m.start(), m.end()))
        seg_start = m.end()
    if not cuts:
        return whole
    intro = _INTRO.match(sentence)
    parts: list[tuple[int, int, str]] = []
    a = 0
    for b, nxt in [*cuts, (len(sentence), len(sentence))]:
        raw = sentence[a:b]
        end = a + len(raw.rstrip())
        text = raw.strip()
        if parts:
            if intro and not _YEAR.search(text):
                text = intro.group() + text
            else:
                text = text[:1].upper() + text[1:]
        if not re.search(r"[.!?][”\"’)]*$", text):
            text += "."
        parts.append((a + (len(raw) - len(raw.lstrip())), end, text))
        a = nxt
    if any(not checkable(t) for _, _, t in parts):
        return whole
    return parts
