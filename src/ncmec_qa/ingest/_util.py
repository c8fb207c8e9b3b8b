"""Helpers shared by the loaders."""

from __future__ import annotations

import re

from ..errors import LoadError
from ..models import Block

_WS = re.compile(r"\s+")


def decode_utf8(data: bytes, file: str) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise LoadError(f"{file}: UTF-16 text (byte order mark {data[:2].hex()}); convert it to UTF-8 and add it again")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LoadError(
            f"{file}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); "
            "convert it to UTF-8 and add it again"
        ) from None
    if "\x00" in text:
        raise LoadError(f"{file}: contains NUL bytes; is it really a text file?")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def collapse(s: str) -> str:
    return _WS.sub(" ", s).strip()


class TextBuilder:
    """Accumulates blocks of text separated by blank lines, recording each block's offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.blocks: list[Block] = []
        self.pos = 0

    def add(self, text: str, section: str = "", page: int | None = None, kind: str = "text") -> None:
        if not text:
            return
        if self.parts:
            self.parts.append("\n\n")
            self.pos += 2
        self.parts.append(text)
        self.blocks.append(Block(self.pos, self.pos + len(text), section, page, kind))
        self.pos += len(text)

    def text(self) -> str:
        return "".join(self.parts)


def paragraphs(text: str, base: int = 0) -> list[tuple[int, int]]:
    """(start, end) of every run of text between blank lines, offsets shifted by `base`."""
    spans = []
    for m in re.finditer(r"\S(?:.*?\S)?(?=\n[ \t]*\n|\s*\Z)", text, flags=re.S):
        spans.append((base + m.start(), base + m.end()))
    return spans
