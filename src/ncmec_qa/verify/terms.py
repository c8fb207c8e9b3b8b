"""The words of claims and evidence: stems, synonyms of this corpus, and term statistics over an index."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable

from ..answer.quantities import Quantity, extract_quantities

_STOP = frozenset(
    """
a an the of in on at to for from by with and or as is are was were be been being that this these those it its
than more less fewer over under about nearly approximately least most up per each every which who whom whose has
have had do does did not no into during through within after before since some all any such also only will would
shall may must can could should there their they them while when where what how why whether other another both
either neither nor so if then thus however because than very much many own same just even still yet via upon
percent million billion thousand hundred dollars total year years day days month months hour hours cy fy
one two three four five six seven eight nine ten first second third s t i we our us you your he she his her him
about around roughly among between including include includes included said says say according made make makes
new let lets go goes going went gone usually typically generally often along several certain various deem deems
deemed show shows shown tie tied use used uses using able way ways like well within without cannot therefore
moreover furthermore indeed""".split()
)

# The same thing written several ways in this corpus (and in claims about it).
_SYNONYMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\bU\.\s?S\.(?:\s?A\.)?(?:-based)?|\bUnited\s+States(?:\s+of\s+America)?\b|\bUSA?\b"),
        " unitedstates ",
    ),
    (re.compile(r"\belectronic\s+(?:communication\s+)?service\s+providers?\b|\bESPs?\b", re.I), " esp "),
    (re.compile(r"\bchild\s+sexual\s+abuse\s+material\b|\bCSAM\b|\bchild\s+pornography\b", re.I), " csam "),
    (re.compile(r"\bInternet\s+Protocol\b", re.I), " ip "),
    (re.compile(r"\bend[\s-]+to[\s-]+end\b", re.I), " endtoend "),
    (
        re.compile(r"\b(?:ICACs?|Internet\s+Crimes\s+Against\s+Children)\b(?:\s+(?:task\s+forces?|units?))?", re.I),
        " icac ",
    ),
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]{2,}")


def _stem(word: str) -> str:
    w = word.lower().replace("’", "'").removesuffix("'s").strip("'-")
    if w.endswith(("ission", "issions")) and len(w) > 8:
        w = w[: w.rindex("ission")] + "it"  # submission/submit, permission/permit
    for suf in ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s"):
        if w.endswith(suf) and len(w) - len(suf) >= 3 and not (suf == "s" and w.endswith(("ss", "us", "is"))):
            w = w[: -len(suf)] + ("y" if suf in ("ies", "ied") else "")
            break
    w = w[:-1] if w.endswith("e") and len(w) > 3 else w  # "fine"/"fined", "rate"/"rated"
    return w[:7]  # "government"/"governmental", "preserved"/"preservation"


def _normalize(text: str) -> str:
    for pat, rep in _SYNONYMS:
        text = pat.sub(rep, text)
    return text


def term_forms(text: str) -> dict[str, str]:
    """Content-word stems of `text`, each with the first form it was written in."""
    out: dict[str, str] = {}
    for w in _WORD.findall(_normalize(text)):
        lw = w.lower()
        if re.fullmatch(r"[A-Z]{2,}s", w):
            lw = lw[:-1]  # "IPs", "ESPs": acronyms in the plural
        if lw in _STOP or len(lw) < 3 and lw not in ("ip",):
            continue
        for part in lw.split("-"):
            if len(part) >= 3 and part not in _STOP:
                out.setdefault(_stem(part), w)
    return out


def terms(text: str) -> set[str]:
    return set(term_forms(text))


_FORMS_CACHE: dict[str, frozenset[str]] = {}


def _terms_cached(text: str) -> frozenset[str]:
    t = _FORMS_CACHE.get(text)
    if t is None:
        if len(_FORMS_CACHE) > 50_000:
            _FORMS_CACHE.clear()
        t = _FORMS_CACHE[text] = frozenset(terms(text))
    return t


@dataclass
class TermStats:
    """Document frequencies of content-word stems over a set of texts (passages, or a page's sentences)."""

    n: int
    df: dict[str, int]
    capitalised: dict[str, int] = field(default_factory=dict)  # mid-sentence occurrences written with a capital
    lower: dict[str, int] = field(default_factory=dict)  # … and written in lower case

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "TermStats":
        df: dict[str, int] = {}
        cap: dict[str, int] = {}
        low: dict[str, int] = {}
        n = 0
        for t in texts:
            n += 1
            for w in terms(t):
                df[w] = df.get(w, 0) + 1
            for m in _MID_WORD.finditer(t):
                w = m.group(1)
                st = _stem(w.lower())
                d = cap if w[0].isupper() else low
                d[st] = d.get(st, 0) + 1
        return cls(n, df, cap, low)

    def is_name(self, stem: str) -> bool:
        """Does the corpus write this word with a capital in mid-sentence (Discord, Europol), not "Moreover"?"""
        c, lo = self.capitalised.get(stem, 0), self.lower.get(stem, 0)
        return c > 0 and c >= lo

    def idf(self, term: str) -> float:
        d = self.df.get(term, 0)
        return math.log(1 + (self.n - d + 0.5) / (d + 0.5))


_MID_WORD = re.compile(r"(?<=[a-z,;]\s)([A-Za-z][a-z]{2,})\b")

_STATS: dict[str, TermStats] = {}


def index_stats(index) -> TermStats:
    """Term statistics of an index's passages (computed once per index generation)."""
    key = str(index.path)
    if key not in _STATS:
        _STATS[key] = TermStats.from_texts(f"{t} {s}" for t, s in index.passage_texts())
    return _STATS[key]


def _names(text: str, stats: TermStats | None = None, min_idf: float = 3.0) -> set[str]:
    """Stems of the words written with a capital or in quotes (Europol, 'Download'). The first word
    counts only when the corpus itself writes it with a capital mid-sentence ("Discord …", not
    "Moreover …"); with `stats`, only names at least `min_idf` rare are kept."""
    out = set()
    norm = _normalize(text)
    for i, m in enumerate(_WORD.finditer(norm)):
        w = m.group()
        quoted = m.start() > 0 and norm[m.start() - 1] in "'‘\"“`"
        lw = w.lower()
        if lw in _STOP or len(lw) < 3:
            continue
        st = _stem(lw)
        inner = any(ch.isupper() for ch in w[1:])
        if i == 0 and not quoted and not inner:
            if stats is None or not stats.is_name(st):
                continue  # "Discord submitted …" is a name; "Moreover, …" is not
        elif not (w[0].isupper() or quoted or inner):
            continue
        if stats is None or stats.idf(st) >= min_idf:
            out.add(st)
    return out


def _figures(text: str) -> list[Quantity]:
    return [q for q in extract_quantities(text) if q.kind != "year"]


def _years(text: str) -> list[int]:
    return list(dict.fromkeys(int(q.value) for q in extract_quantities(text) if q.kind == "year"))
