"""CSV and JSON tables: a row becomes a block that names its columns and keeps numbers as written.

CSV: each row block is the header line followed by the row's own line, verbatim
(`"400,715"` stays quoted, `52592` stays `52592`). JSON: each row is re-serialised
with every number in its original spelling (`2.400` stays `2.400`), prefixed by its
path and the column names the table declares.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ..errors import LoadError
from ..models import Document
from ._util import TextBuilder, decode_utf8


def _records(text: str) -> list[tuple[int, str]]:
    """Physical CSV records (a quoted field may span lines), verbatim, each with its first line number."""
    out: list[tuple[int, str]] = []
    cur, first = "", 0
    for n, line in enumerate(text.split("\n"), start=1):
        if not cur:
            first = n
        cur = f"{cur}\n{line}" if cur else line
        if cur.count('"') % 2 == 0:
            if cur.strip():
                out.append((first, cur))
            cur = ""
    if cur.strip():
        out.append((first, cur))
    return out


def load_csv(data: bytes, source_id: str, file: str) -> Document:
    text = decode_utf8(data, file)
    records = _records(text)
    if not records:
        raise LoadError(f"{file}: empty CSV")
    header = records[0][1]
    ncols = len(next(csv.reader(io.StringIO(header))))
    b = TextBuilder()
    for i, (line, rec) in enumerate(records[1:], start=1):
        fields = next(csv.reader(io.StringIO(rec)), [])
        if len(fields) != ncols:
            raise LoadError(f"{file}: line {line} has {len(fields)} fields, the header has {ncols}")
        b.add(f"{header}\n{rec}", section=f"row {i}", kind="row")
    if not b.blocks:
        raise LoadError(f"{file}: CSV has a header but no rows")
    return Document(source_id, file, b.text(), tuple(b.blocks), "csv")


class _Num(str):
    """A JSON number kept in its source spelling."""


def _dump(v: Any) -> str:
    if isinstance(v, _Num):
        return str(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {_dump(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_dump(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def _walk(v: Any, path: list[str], b: TextBuilder) -> None:
    section = " > ".join(p for p in path if p)
    if isinstance(v, dict):
        columns = v.get("columns") if isinstance(v.get("columns"), list) else None
        scalars = {k: x for k, x in v.items() if not isinstance(x, (dict, list)) or k == "columns"}
        if scalars and section:
            b.add(f"{section}: {_dump(scalars)}", section, kind="text")
        elif scalars:  # top-level fields: one block each
            for k, x in scalars.items():
                b.add(f"{k}: {_dump(x)}", str(k), kind="text")
        for k, x in v.items():
            if k in scalars:
                continue
            if k == "rows" and isinstance(x, list):
                cols = f" (columns: {', '.join(map(str, columns))})" if columns else ""
                where = f"{section} > rows" if section else "rows"
                for row in x:
                    b.add(f"{where}{cols}: {_dump(row)}", where, kind="row")
            elif isinstance(x, list) and all(not isinstance(y, (dict, list)) for y in x):
                where = f"{section} > {k}" if section else str(k)
                b.add(f"{where}: {_dump(x)}", where, kind="text")
            else:
                _walk(x, [*path, str(k)], b)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            if isinstance(x, (dict, list)):
                _walk(x, [*path, str(i)], b)
            else:
                b.add(f"{section}: {_dump(x)}", section, kind="text")
    else:
        b.add(f"{section}: {_dump(v)}", section, kind="text")


def load_json(data: bytes, source_id: str, file: str) -> Document:
    text = decode_utf8(data, file)
    try:
        value = json.loads(text, parse_float=_Num, parse_int=_Num)
    except json.JSONDecodeError as e:
        raise LoadError(f"{file}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    b = TextBuilder()
    _walk(value, [], b)
    return Document(source_id, file, b.text(), tuple(b.blocks), "json")
