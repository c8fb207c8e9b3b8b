"""Where things live: the manifest, the documents folder and the index folder.

Explicit arguments win, then environment variables, then defaults found from the
working directory (the checkout's `corpus/sources.toml` and `index/`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_CORPUS = "NCMEC_QA_CORPUS"
ENV_DOCS = "NCMEC_QA_DOCS"
ENV_INDEX = "NCMEC_QA_INDEX"
ENV_MODEL = "NCMEC_QA_MODEL"
MANIFEST_RELPATH = Path("corpus") / "sources.toml"


def find_checkout(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` that holds corpus/sources.toml."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / MANIFEST_RELPATH).is_file():
            return d
    return None


@dataclass(frozen=True)
class Paths:
    manifest: Path
    index: Path
    docs: Path | None  # None: take the manifest's own `documents` setting


def resolve_paths(
    corpus: str | os.PathLike[str] | None = None,
    index: str | os.PathLike[str] | None = None,
    docs: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Paths:
    env = dict(os.environ) if env is None else env
    checkout = find_checkout(cwd)
    base = checkout or (cwd or Path.cwd())
    manifest = Path(corpus or env.get(ENV_CORPUS) or base / MANIFEST_RELPATH)
    if manifest.is_dir():
        manifest = manifest / "sources.toml"
    index_dir = Path(index or env.get(ENV_INDEX) or base / "index")
    docs_env = docs or env.get(ENV_DOCS)
    return Paths(manifest=manifest, index=index_dir, docs=Path(docs_env) if docs_env else None)
