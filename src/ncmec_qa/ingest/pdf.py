"""PDF: text per page through pypdf; every block keeps its 1-based page number."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ..errors import LoadError
from ..models import Document
from ._util import TextBuilder, paragraphs


def load(data: bytes, source_id: str, file: str) -> Document:
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise LoadError(f"{file}: not a PDF (no %PDF header); check the file or its format in the manifest")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [p.extract_text() or "" for p in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as e:
        raise LoadError(f"{file}: damaged PDF: {e}") from None
    b = TextBuilder()
    for n, page in enumerate(pages, start=1):
        page = page.replace("\r\n", "\n").replace("\x00", "")
        for s, e in paragraphs(page):
            b.add(page[s:e], page=n)
    if not b.blocks:
        raise LoadError(f"{file}: no extractable text in {len(pages)} page(s) (scanned images need OCR first)")
    return Document(source_id, file, b.text(), tuple(b.blocks), "pdf")
