"""Checking one claim: candidates, the rules' assessment, the learned verdict, verbatim citations."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Sequence

from ..models import Citation, Source, Verdict
from .assess import NOT_FOUND, Assessment, Scored, VerifyConfig, assess, clean_claim
from .collect import collect_units
from .terms import index_stats
from .verdict import decide


def _citations(evidence: Sequence[Scored], sources: dict[str, Source]) -> tuple[Citation, ...]:
    out: list[Citation] = []
    for s in evidence:
        u = s.unit
        if u.passage is None:
            continue
        out.append(Citation(len(out) + 1, sources[u.source_id], u.passage, u.start, u.end, u.text))
    return tuple(out)


def verify_claim(
    ws,
    claim: str,
    *,
    exclude: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    k: int | None = None,
    cfg: VerifyConfig | None = None,
) -> Verdict:
    """Check one claim against the workspace's corpus; the evidence quotes are verbatim spans."""
    v, _ = verify_claim_detailed(ws, claim, exclude=exclude, sources=sources, k=k, cfg=cfg)
    return v


def verify_claim_detailed(
    ws,
    claim: str,
    *,
    exclude: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    k: int | None = None,
    cfg: VerifyConfig | None = None,
) -> tuple[Verdict, Assessment]:
    cfg = cfg or VerifyConfig()
    if k is not None:
        cfg = replace(cfg, k=k)
    text = clean_claim(claim)
    if not text:
        raise ValueError("the claim is empty")
    units = collect_units(ws, text, sources=set(sources or ()) or None, exclude=set(exclude or ()) or None, cfg=cfg)
    stats = index_stats(ws.index)
    a = assess(text, units, stats, cfg)
    verdict, reason, chosen = a.verdict, a.reason, a.evidence
    if cfg.verdict == "learned":
        d = decide(text, a, stats, ws.models.verdict, cfg)
        verdict, reason, chosen = d.verdict, d.reason, d.evidence
    elif cfg.verdict != "rules":
        raise ValueError(f"unknown verdict {cfg.verdict!r} (learned or rules)")
    evidence = _citations(chosen, ws.sources())
    if verdict != NOT_FOUND:
        old = {c.source.id: c.source.superseded_by for c in evidence if c.source.superseded_by}
        if old:  # a researcher citing a superseded text should know
            reason += "; " + "; ".join(f"{sid} may be superseded: {note}" for sid, note in old.items())
    return Verdict(text, verdict, reason, evidence, tuple(ws.drift_notes(c.source.id for c in evidence))), a
