"""Loaders: one per format, each turning a file into a `Document` (text + structural blocks).

`load_document` reads a file (a regular file only, within the size limit) and `load_bytes`
dispatches bytes already read on the manifest's format; every failure becomes a `LoadError`
that names the file and the reason. Confinement to the documents folder and the limits
live in `guard`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import LoadError
from ..models import Document
from . import html, markdown, pdf, tables, text
from .guard import Limits, read_regular

LOADERS: dict[str, Callable[..., Document]] = {
    "markdown": markdown.load,
    "html": html.load,
    "pdf": pdf.load,
    "text": text.load,
    "csv": tables.load_csv,
    "json": tables.load_json,
}


def _check_format(file: str, fmt: str) -> Callable[..., Document]:
    loader = LOADERS.get(fmt)
    if loader is None:
        raise LoadError(f"{file}: unsupported format {fmt!r} (supported: {', '.join(sorted(LOADERS))})", kind="parse")
    return loader


def load_bytes(data: bytes, source_id: str, file: str, fmt: str, limits: Limits = Limits()) -> Document:
    """Extract the text of a document's bytes. Raises LoadError with a one-line reason."""
    loader = _check_format(file, fmt)
    if not data.strip():
        raise LoadError(f"{file}: empty file", kind="parse")
    try:
        doc = (
            loader(data, source_id, file, max_pages=limits.max_pages) if fmt == "pdf" else loader(data, source_id, file)
        )
    except LoadError:
        raise
    except RecursionError:
        raise LoadError(f"{file}: cannot parse as {fmt}: nested too deeply", kind="parse") from None
    except MemoryError:
        raise LoadError(f"{file}: cannot parse as {fmt}: out of memory (lower --max-file-mb)", kind="parse") from None
    except Exception as e:  # a third-party parser failing on hostile input
        raise LoadError(f"{file}: cannot parse as {fmt}: {type(e).__name__}: {e}", kind="parse") from e
    if not doc.text.strip() or not doc.blocks:
        raise LoadError(f"{file}: no text could be extracted", kind="parse")
    return doc


def load_document(path: Path, source_id: str, file: str, fmt: str, limits: Limits = Limits()) -> Document:
    """Read `path` (a regular file within the size limit) and extract its text. Raises LoadError."""
    _check_format(file, fmt)
    return load_bytes(read_regular(Path(path), file, limits.max_file_bytes), source_id, file, fmt, limits)
