"""PDF: text per page through pypdf; every block keeps its 1-based page number.

Running headers and footers (a line of 30 characters or more that recurs, digits
aside, among the first or last two lines of at least half of the pages of a
document of three pages or more, such as a copyright line) are left
out of the extracted text: they say nothing about the page they stand on.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter

from pypdf import PdfReader
from pypdf.errors import DependencyError, PdfReadError

from ..errors import LoadError
from ..models import Document
from ._util import TextBuilder, paragraphs
from .guard import limit_error

_DIGITS = re.compile(r"\d+")


def _shape(line: str) -> str:
    return _DIGITS.sub("#", " ".join(line.split()))


def _edges(page: str, n: int = 2) -> list[str]:
    lines = [ln for ln in page.splitlines() if ln.strip()]
    return lines[:n] + lines[-n:]


def running_lines(pages: list[str], share: float = 0.5, min_chars: int = 30) -> set[str]:
    """Shapes of long lines at the top or bottom of at least `share` of the pages."""
    if len(pages) < 3:
        return set()
    counts = Counter(s for p in pages for s in {_shape(ln) for ln in _edges(p)})
    return {s for s, c in counts.items() if c >= share * len(pages) and len(s) >= min_chars}


def _open(data: bytes, file: str) -> PdfReader:
    """The reader, decrypted when the PDF opens without a password (as in any viewer); else refused."""
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        alg = _algorithm(reader)
        try:
            opened = reader.decrypt("")
        except DependencyError:
            raise LoadError(f"{file}: {alg}-encrypted PDF: install the `cryptography` package to read it") from None
        if not opened:
            raise LoadError(
                f"{file}: password-protected PDF ({alg}); decrypt it first "
                "(e.g. `qpdf --decrypt --password=… in.pdf out.pdf`) and add the decrypted copy"
            )
    return reader


def _algorithm(reader: PdfReader) -> str:
    try:
        enc = reader.trailer["/Encrypt"].get_object()
        v = int(enc.get("/V", 0))
        cf = enc.get("/CF", {}).get("/StdCF", {}).get("/CFM") if v >= 4 else None
        return {"/AESV3": "AES-256", "/AESV2": "AES-128", "/V2": "RC4"}.get(str(cf), "AES-256" if v == 5 else "RC4")
    except Exception:  # an unusual /Encrypt dictionary: the name is only for the message
        return "encrypted"


def load(data: bytes, source_id: str, file: str, max_pages: int | None = None) -> Document:
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise LoadError(f"{file}: not a PDF (no %PDF header); check the file or its format in the manifest")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = _open(data, file)
        if max_pages is not None and len(reader.pages) > max_pages:
            raise limit_error(file, f"PDF has {len(reader.pages)} pages", f"{max_pages} pages", "max_pages")
        pages = [p.extract_text() or "" for p in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as e:
        raise LoadError(f"{file}: damaged PDF: {e}") from None
    pages = [p.replace("\r\n", "\n").replace("\x00", "") for p in pages]
    boiler = running_lines(pages)
    b = TextBuilder()
    for n, page in enumerate(pages, start=1):
        if boiler:
            edges = set(_edges(page))
            page = "\n".join(ln for ln in page.split("\n") if ln not in edges or _shape(ln) not in boiler)
        for s, e in paragraphs(page):
            b.add(page[s:e], page=n)
    if not b.blocks:
        raise LoadError(f"{file}: no extractable text in {len(pages)} page(s) (scanned images need OCR first)")
    return Document(source_id, file, b.text(), tuple(b.blocks), "pdf")
