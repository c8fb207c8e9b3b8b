"""Loaders: one per format, each turning a file into a `Document` (text + structural blocks).

`load_document` dispatches on the manifest's format and turns every failure into a
`LoadError` that names the file and the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import LoadError
from ..models import Document
from . import html, markdown, pdf, tables, text

LOADERS: dict[str, Callable[[bytes, str, str], Document]] = {
    "markdown": markdown.load,
    "html": html.load,
    "pdf": pdf.load,
    "text": text.load,
    "csv": tables.load_csv,
    "json": tables.load_json,
}


def load_document(path: Path, source_id: str, file: str, fmt: str) -> Document:
    """Read `path` and extract its text. Raises LoadError with a one-line reason."""
    loader = LOADERS.get(fmt)
    if loader is None:
        raise LoadError(f"{file}: unsupported format {fmt!r} (supported: {', '.join(sorted(LOADERS))})")
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise LoadError(f"{file}: file not found at {path} (run `ncmec-qa corpus sync` or check --docs)") from None
    except OSError as e:
        raise LoadError(f"{file}: cannot read: {e.strerror or e}") from None
    if not data.strip():
        raise LoadError(f"{file}: empty file")
    try:
        doc = loader(data, source_id, file)
    except LoadError:
        raise
    except Exception as e:  # a third-party parser failing on hostile input
        raise LoadError(f"{file}: cannot parse as {fmt}: {type(e).__name__}: {e}") from e
    if not doc.text.strip() or not doc.blocks:
        raise LoadError(f"{file}: no text could be extracted")
    return doc
