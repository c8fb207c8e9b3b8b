"""The manifest's schema (pydantic-core): the type and form of every field, every problem located by record and field.

`check_document` reads the parsed TOML of a whole manifest and returns the records it could
make into `Source`s and a list of `FieldProblem`s (never raising for any shape of input);
`manifest.load_manifest` raises them all at once as one `ManifestInvalid`, `corpus check`
lists them one per line. Unknown keys are problems, not warnings: a misspelt `supersedes`
or `kind` would otherwise silently change which editions answer. The schema is written in
pydantic-core's own terms (pydantic's validation engine) rather than as a pydantic model: the
same checks and error locations, for about 20 ms instead of 100 ms at the start of every command.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from pydantic_core import PydanticCustomError, SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from ..models import Source

REQUIRED = ("id", "file", "title", "publisher", "date", "format", "sha256")
TOP_LEVEL = ("format_version", "documents", "source")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class FieldProblem:
    """One problem of the manifest: where (`source #3 (usc-18-2258a)`, or the top level), which field, the line."""

    where: str
    source_id: str | None
    field: str
    message: str  # the whole line, location included

    def __str__(self) -> str:
        return self.message


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("manifest", message)


def _date(value: Any) -> str:
    """YYYY, YYYY-MM or YYYY-MM-DD that is a real day (or a TOML date), as the manifest's string."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if value == "":
        return value  # missing: whether that is allowed is the caller's rule
    if not isinstance(value, str):
        raise _problem(f"must be a date string (YYYY, YYYY-MM or YYYY-MM-DD), not {value!r}")
    m = _DATE.match(value)
    try:
        if not m:
            raise ValueError
        dt.date.fromisoformat(f"{m.group(1)}-{m.group(2) or '01'}-{m.group(3) or '01'}")
    except ValueError:
        raise _problem(f"must be a real date as YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}") from None
    return value


def _sha256(v: str) -> str:
    if v and not _SHA256.match(v):
        raise _problem(f"must be 64 lowercase hexadecimal characters (a sha256 digest), not {v!r}")
    return v


def _url(v: str) -> str:
    if v and not re.match(r"^https?://\S+$", v):
        raise _problem(f"must be an http:// or https:// address, not {v!r}")
    return v


def _authors(v: list[str]) -> list[str]:
    """Each author a person as "Family, Given" (one comma, both parts); an institution is the publisher."""
    for name in v:
        family, comma, given = (x.strip() for x in name.partition(","))
        if not comma or not family or not given or "," in given:
            raise _problem(
                f'must list people as "Family, Given" (e.g. "Grimm, Robert"), not {name!r}; '
                "an institution is the publisher, not an author"
            )
    return v


def _ids(v: list[str]) -> list[str]:
    if any(not x.strip() for x in v):
        raise _problem("must list source ids, not an empty string")
    return v


_STR = cs.str_schema(strict=True)
_FIELD_SCHEMAS: dict[str, cs.CoreSchema] = {
    "id": _STR,
    "file": _STR,
    "title": _STR,
    "publisher": _STR,
    "authors": cs.no_info_after_validator_function(_authors, cs.list_schema(_STR, strict=True)),
    "date": cs.no_info_plain_validator_function(_date),
    "format": _STR,
    "sha256": cs.no_info_after_validator_function(_sha256, _STR),
    "url": cs.no_info_after_validator_function(_url, _STR),
    "rights": _STR,
    "bytes": cs.int_schema(strict=True, ge=0),
    "kind": cs.literal_schema(["primary", "secondary"]),
    "edition": _STR,
    "supersedes": cs.no_info_after_validator_function(_ids, cs.list_schema(_STR, strict=True)),
    "superseded_by": _STR,
    "retrieved_from": cs.dict_schema(_STR, _STR, strict=True),
}
# One [[source]] table: every field optional here (whether a required one may be missing is the caller's rule)
_RECORD = SchemaValidator(
    cs.typed_dict_schema(
        {k: cs.typed_dict_field(v, required=False) for k, v in _FIELD_SCHEMAS.items()}, extra_behavior="forbid"
    )
)
FIELDS = tuple(_FIELD_SCHEMAS)


def _phrase(err: Mapping[str, Any], field: str) -> str:
    """A pydantic error as the rest of a sentence that starts with the field's name."""
    kind, value = err["type"], err.get("input")
    if kind == "manifest":
        return err["msg"]
    if kind == "extra_forbidden":
        near = difflib.get_close_matches(field, FIELDS, n=1)
        hint = f"did you mean {near[0]!r}?" if near else f"known fields: {', '.join(FIELDS)}"
        return f"is not a field of a source ({hint})"
    if kind == "literal_error":
        return f"must be one of primary, secondary, not {value!r}"
    if kind == "list_type" and field == "authors":
        return f'must be a list of "Family, Given" names, e.g. authors = ["Grimm, Robert"], not {value!r}'
    if kind == "list_type" and field == "supersedes":
        example = f"[{json.dumps(value)}]" if isinstance(value, str) else '["other-id"]'
        return f"must be a list of source ids, e.g. supersedes = {example}, not {value!r}"
    if kind == "greater_than_equal":
        return f"must be a number of bytes (0 or more), not {value!r}"
    expected = {
        "string_type": "a string",
        "int_type": "an integer",
        "list_type": "a list",
        "dict_type": "a table (key = value pairs)",
    }.get(kind)
    if expected:
        return f"must be {expected}, not {value!r}"
    return err["msg"][:1].lower() + err["msg"][1:]


def _where(index: int, source_id: Any) -> str:
    """`source #3 (usc-18-2258a)`; without a place (index 0), `source usc-18-2258a`."""
    named = isinstance(source_id, str) and source_id
    if not index:
        return f"source {source_id}" if named else "source"
    return f"source #{index} ({source_id})" if named else f"source #{index}"


def check_record(d: Any, index: int, require: bool = True) -> tuple[Source | None, list[FieldProblem]]:
    """One `[[source]]` table (1-based `index`): its Source, with every bad field left at its default, and the
    problems. `require`: a missing or empty required field is a problem (else `corpus check` reports it)."""
    if not isinstance(d, dict):
        where = _where(index, None)
        return None, [
            FieldProblem(where, None, "", f"{where}: must be a table ([[source]] with key = value lines), not {d!r}")
        ]
    d = {k: list(v) if isinstance(v, tuple) else v for k, v in d.items() if v is not None}  # tuples: from code
    sid = d.get("id")
    where = _where(index, sid)
    problems: list[FieldProblem] = []

    def add(field: str, phrase: str) -> None:
        problems.append(
            FieldProblem(where, sid if isinstance(sid, str) and sid else None, field, f"{where}: {field} {phrase}")
        )

    try:
        rec = _RECORD.validate_python(d)
    except ValidationError as e:
        bad = set()
        for err in e.errors():
            loc = err["loc"]
            field = str(loc[0]) if loc else ""
            bad.add(field)
            label = field + "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in loc[1:])
            add(label, _phrase(err, field))
        try:
            rec = _RECORD.validate_python({k: v for k, v in d.items() if k not in bad})
        except ValidationError:  # pragma: no cover - every failing field was dropped
            return None, problems
    if require:
        problems[:0] = [
            FieldProblem(where, rec.get("id") or None, k, f"{where}: missing required field {k!r}")
            for k in REQUIRED
            if not rec.get(k) and not any(p.field == k for p in problems)
        ]
    src = Source(
        id=rec.get("id") or f"#{index}",
        file=rec.get("file", ""),
        title=rec.get("title", ""),
        publisher=rec.get("publisher", ""),
        date=rec.get("date", ""),
        format=rec.get("format", ""),
        sha256=rec.get("sha256", ""),
        url=rec.get("url") or None,
        rights=rec.get("rights") or None,
        bytes=rec.get("bytes"),
        kind=rec.get("kind", "primary"),
        edition=rec.get("edition") or None,
        supersedes=tuple(rec.get("supersedes", ())),
        superseded_by=rec.get("superseded_by") or None,
        retrieved_from=dict(rec["retrieved_from"]) if rec.get("retrieved_from") else None,
        authors=tuple(" ".join(x.split()) for x in rec.get("authors", ())),
    )
    return src, problems


def check_document(
    data: Any, require: bool = True, cross: bool = True
) -> tuple[list[Source], str | None, list[FieldProblem]]:
    """A parsed manifest: its sources, its `documents` folder and every problem of its shape and fields
    (and, with `cross`, of ids and references between records)."""
    if not isinstance(data, dict):
        return [], None, [FieldProblem("manifest", None, "", f"the manifest must be a TOML table, not {data!r}")]
    problems: list[FieldProblem] = []

    def top(field: str, phrase: str) -> None:
        problems.append(FieldProblem("manifest", None, field, f"{field} {phrase}"))

    for key in data:
        if key not in TOP_LEVEL:
            near = difflib.get_close_matches(key, TOP_LEVEL, n=1)
            top(
                key,
                f"is not a manifest setting ({f'did you mean {near[0]!r}?' if near else 'known: ' + ', '.join(TOP_LEVEL)})",
            )
    documents = data.get("documents")
    if documents is not None and not (isinstance(documents, str) and documents.strip()):
        top("documents", f"must be a folder path (a non-empty string), not {documents!r}")
        documents = None
    entries = data.get("source", [])
    if not isinstance(entries, list):
        top("source", f"must be an array of tables (one [[source]] per document), not {entries!r}")
        entries = []
    sources, positions = [], []
    for i, d in enumerate(entries, start=1):
        src, ps = check_record(d, i, require=require)
        problems += ps
        if src is not None:
            sources.append(src)
            positions.append(i if isinstance(d.get("id"), str) and d.get("id") else None)
    if cross:
        problems += cross_check(sources, positions)
    return sources, documents, problems


def cross_check(sources: list[Source], positions: list[int | None] | None = None) -> list[FieldProblem]:
    """What no single record shows: ids that are malformed or used twice, `supersedes`/`superseded_by` naming
    no record. `positions`: each source's 1-based place in the file, None for a record without an id."""
    from .editions import dangling

    problems: list[FieldProblem] = []
    first: dict[str, int] = {}
    id_re = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
    for s, i in zip(sources, positions or range(1, len(sources) + 1)):
        if i is None:
            continue  # no id: reported as missing
        where = _where(i, s.id)
        if not id_re.match(s.id):
            problems.append(
                FieldProblem(where, s.id, "id", f"{where}: id must be lowercase letters, digits, '.' or '-'")
            )
        if s.id in first:
            problems.append(
                FieldProblem(where, s.id, "id", f"{where}: duplicate id {s.id!r} (also source #{first[s.id]})")
            )
        first.setdefault(s.id, i)
    for sid, line in dangling(sources):
        where = _where(first.get(sid, 0), sid)
        field = "superseded_by" if line.startswith(f"{sid}: superseded_by") else "supersedes"
        problems.append(FieldProblem(where, sid, field, f"{where}: {line.split(': ', 1)[1]}"))
    return problems
