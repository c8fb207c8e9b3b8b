"""Plain text: the file's own text; a block per paragraph (blank-line separated)."""

from __future__ import annotations

from ..models import Block, Document
from ._util import decode_utf8, paragraphs


def load(data: bytes, source_id: str, file: str) -> Document:
    text = decode_utf8(data, file)
    blocks = tuple(Block(s, e) for s, e in paragraphs(text))
    return Document(source_id, file, text, blocks, "text")
