"""CSV and JSON tables: a row becomes a block that is the file's own text, its columns named in its section.

Every offset slices the file itself (as decoded: UTF-8, line ends as "\n"), so a citation of a row
quotes the bytes a reader finds in the file. CSV: a row block is the row's own line (a quoted field may
span lines); its section is "row N (columns: a, b, c)". JSON: a row block is the row's value as written
(`[2.400, 10]` keeps its spelling), sectioned by its path and the columns its table declares; other
fields are blocks of their key and value, sectioned by their path. Positions come from json-source-map.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ..errors import LoadError
from ..models import Block, Document
from ._util import decode_utf8


def _records(text: str) -> list[tuple[int, int, int]]:
    """Physical CSV records (a quoted field may span lines): (first line number, start, end) in `text`."""
    out: list[tuple[int, int, int]] = []
    pos, first, start, quotes = 0, 0, None, 0
    for n, line in enumerate(text.split("\n"), start=1):
        if start is None:
            first, start, quotes = n, pos, 0
        quotes += line.count('"')
        end = pos + len(line)
        pos = end + 1
        if quotes % 2 == 0:
            if text[start:end].strip():
                out.append((first, start, end))
            start = None
    if start is not None and text[start:].strip():
        out.append((first, start, len(text)))
    return out


def _fields(rec: str) -> list[str]:
    return next(csv.reader(io.StringIO(rec)), [])


def load_csv(data: bytes, source_id: str, file: str) -> Document:
    text = decode_utf8(data, file)
    records = _records(text)
    if not records:
        raise LoadError(f"{file}: empty CSV")
    _, hs, he = records[0]
    columns = _fields(text[hs:he])
    label = ", ".join(c.strip() for c in columns)
    blocks = []
    for i, (line, a, z) in enumerate(records[1:], start=1):
        fields = _fields(text[a:z])
        if len(fields) != len(columns):
            raise LoadError(f"{file}: line {line} has {len(fields)} fields, the header has {len(columns)}")
        blocks.append(Block(a, z, section=f"row {i} (columns: {label})", kind="row"))
    if not blocks:
        raise LoadError(f"{file}: CSV has a header but no rows")
    return Document(source_id, file, text, tuple(blocks), "csv")


def _is_scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list))


class _Spans:
    """Where each value (and key) of a JSON text is, by the path of keys and indexes that leads to it."""

    def __init__(self, text: str, file: str = ""):
        from json_source_map import calculate

        self.text, self.file = text, file
        self.map = calculate(text)

    def _entry(self, path: list[str]):
        """json-source-map names a key by its spelling in the file (escapes as written: `caf\\u00e9`, `\\"`),
        not by its value: try the value, then its JSON spellings, segment by segment."""
        pointer = ""
        for k in path:
            for spelling in dict.fromkeys((k, json.dumps(k)[1:-1], json.dumps(k, ensure_ascii=False)[1:-1])):
                if f"{pointer}/{spelling}" in self.map:
                    pointer = f"{pointer}/{spelling}"
                    break
            else:
                raise LoadError(f"{self.file}: cannot locate the JSON key {k!r} in the text (unusual escapes?)")
        return self.map[pointer]

    def value(self, path: list[str]) -> tuple[int, int]:
        e = self._entry(path)
        return e.value_start.position, e.value_end.position

    def field(self, path: list[str]) -> tuple[int, int]:
        """The key and its value (`"unit": "per 1,000"`), or the value alone for an array item."""
        e = self._entry(path)
        start = e.key_start.position if e.key_start is not None else e.value_start.position
        return start, e.value_end.position


def _flat(k: str, x: Any) -> bool:
    return _is_scalar(x) or k == "columns" or (isinstance(x, list) and all(_is_scalar(y) for y in x))


def _walk(v: Any, path: list[str], spans: _Spans, out: list[Block]) -> None:
    """Blocks in file order: a run of flat fields of an object is one block (`"unit": "...", "year": 2023`
    as written, with what lies between them), a table row is one, nested objects are walked."""
    section = " > ".join(p for p in path if p)
    run: list[tuple[int, int]] = []

    def flush() -> None:
        if run:
            out.append(Block(run[0][0], run[-1][1], section=section, kind="text"))
            run.clear()

    if isinstance(v, dict):
        columns = v.get("columns") if isinstance(v.get("columns"), list) else None
        for k, x in v.items():
            if k == "rows" and isinstance(x, list):
                flush()
                where = " > ".join(p for p in (*path, "rows") if p)
                cols = f" (columns: {', '.join(map(str, columns))})" if columns else ""
                for i, _row in enumerate(x):
                    out.append(Block(*spans.value([*path, k, str(i)]), section=f"{where}{cols}", kind="row"))
            elif _flat(k, x):
                if not path:  # top-level fields: one block each, sectioned by their key
                    out.append(Block(*spans.field([k]), section=str(k), kind="text"))
                else:
                    run.append(spans.field([*path, k]))
            else:
                flush()
                _walk(x, [*path, str(k)], spans, out)
        flush()
    elif isinstance(v, list):
        for i, x in enumerate(v):
            if _is_scalar(x):
                run.append(spans.field([*path, str(i)]))
            else:
                flush()
                _walk(x, [*path, str(i)], spans, out)
        flush()
    else:
        out.append(Block(*spans.value(path), section=section, kind="text"))


def load_json(data: bytes, source_id: str, file: str) -> Document:
    text = decode_utf8(data, file)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise LoadError(f"{file}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    if _is_scalar(value):
        what = {bool: "true or false", type(None): "null", str: "a string"}.get(type(value), "a number")
        raise LoadError(f"{file}: the JSON is a bare value ({what}), not an object or array of records")
    blocks: list[Block] = []
    _walk(value, [], _Spans(text, file), blocks)
    return Document(source_id, file, text, tuple(blocks), "json")
