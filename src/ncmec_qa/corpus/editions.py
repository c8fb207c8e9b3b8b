"""Editions: which sources were in force on a date, from the manifest's dates and its `supersedes` /
`superseded_by` links (pure functions over Source records).

A source is in force on a date when it was published by then (a date given as YYYY or YYYY-MM counts
from its first day) and no source that replaces it was. A source replaces another when it lists the
other's id in `supersedes`, or when the other's `superseded_by` names its id. `superseded_by` may also be
a free-text note about a text outside the corpus ("Amended by the REPORT Act (Pub. L. 118-59, 2024)");
such a note ends the source on the first full date it names, else on the first day of the latest year it
names, else always.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Sequence

from ..models import Source

_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")


def parse_date(text: str) -> dt.date | None:
    """YYYY, YYYY-MM or YYYY-MM-DD as the first day it can mean; None for anything else."""
    m = _DATE.match((text or "").strip())
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        return None


def replaced_by(sources: Sequence[Source]) -> dict[str, list[Source]]:
    """For each source id, the sources in the manifest that replace it."""
    by_id = {s.id: s for s in sources}
    out: dict[str, list[Source]] = {}
    for s in sources:
        for old in s.supersedes:
            out.setdefault(old, []).append(s)
        if s.superseded_by and s.superseded_by.strip() in by_id:
            out.setdefault(s.id, []).append(by_id[s.superseded_by.strip()])
    return out


def _note_date(note: str) -> dt.date:
    """When a free-text `superseded_by` note says its text ended: its first full date, else the first day
    of the latest year it names, else always (date.min)."""
    for m in re.finditer(r"\b\d{4}-\d{2}(?:-\d{2})?\b", note):
        d = parse_date(m.group())
        if d:
            return d
    years = [int(y) for y in _YEAR.findall(note)]
    return dt.date(max(years), 1, 1) if years else dt.date.min


def in_force(sources: Sequence[Source], on: dt.date) -> set[str]:
    """Ids of the sources in force on `on` (see the module docstring). A source without a usable date
    counts as published; a replacement without one, as in force from the start."""
    ids = {s.id for s in sources}
    repl = replaced_by(sources)
    out = set()
    for s in sources:
        published = parse_date(s.date)
        if published and published > on:
            continue
        ends = [parse_date(r.date) or dt.date.min for r in repl.get(s.id, [])]
        note = (s.superseded_by or "").strip()
        if note and note not in ids:
            ends.append(_note_date(note))
        if any(e <= on for e in ends):
            continue
        out.add(s.id)
    return out


def dangling(sources: Sequence[Source]) -> list[tuple[str, str]]:
    """(source id, message) for each `supersedes` id that no record has, and each `superseded_by` that
    looks like an id (one word of id characters) but names no record."""
    ids = {s.id for s in sources}
    out = []
    for s in sources:
        for old in s.supersedes:
            if old not in ids:
                out.append((s.id, f"{s.id}: supersedes {old!r}, which is not in the manifest"))
        ref = (s.superseded_by or "").strip()
        if ref and re.fullmatch(r"[a-z0-9][a-z0-9.-]*", ref) and ref not in ids:
            out.append((s.id, f"{s.id}: superseded_by {ref!r}, which is not in the manifest"))
    return out
