"""The JSON every command prints: `schema_version`, the document types, and their JSON Schemas (draft 2020-12).

Each document printed with `--json` is an object whose first two fields are `schema_version` and
`type`; `type` names the schema file here (`<type>.schema.json`). docs/json.md describes them.
Validation needs the `jsonschema` library (a development dependency); the CLI never imports it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

SCHEMA_VERSION = "1"
BASE_URI = f"https://ncmec-qa.invalid/schemas/{SCHEMA_VERSION}/"
HERE = Path(__file__).resolve().parent

# command (as typed after `ncmec-qa`) -> the document types its --json prints, in order of appearance.
# A stream (JSON Lines) is marked by "lines"; `verify` prints one `verdict` per claim and a last `summary`.
COMMANDS: dict[str, tuple[str, ...]] = {
    "ask": ("answer",),
    "search": ("search",),
    "verify": ("verdict", "skipped", "summary"),
    "cite": ("cite",),
    "open": ("open",),
    "config show": ("config",),
    "config path": ("config_path",),
    "config set": ("config_setting",),
    "config unset": ("config_setting",),
    "eval": ("eval",),
    "train": ("train",),
    "index build": ("index_build",),
    "index status": ("index_status",),
    "index verify": ("index_verify",),
    "index path": ("index_path",),
    "corpus list": ("corpus_list",),
    "corpus show": ("corpus_show",),
    "corpus add": ("corpus_add",),
    "corpus remove": ("corpus_remove",),
    "corpus check": ("corpus_check",),
    "corpus sync": ("corpus_sync",),
    "corpus path": ("corpus_path",),
}


def document(kind: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """`body` as a versioned document: `schema_version` and `type` first, then its own fields."""
    head: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    if kind is not None:
        head["type"] = kind
    return {**head, **{k: v for k, v in body.items() if k not in ("schema_version", "type")}}


def names() -> list[str]:
    """Every document type with a schema file (common.schema.json holds shared definitions only)."""
    return sorted(p.name[: -len(".schema.json")] for p in HERE.glob("*.schema.json") if p.name != "common.schema.json")


@lru_cache(maxsize=None)
def load(kind: str) -> dict[str, Any]:
    path = HERE / f"{kind}.schema.json"
    if not path.is_file():
        raise KeyError(f"no JSON Schema for document type {kind!r} in {HERE} (known: {', '.join(names())})")
    return json.loads(path.read_text(encoding="utf-8"))


def _registry():
    from referencing import Registry, Resource

    resources = [
        (BASE_URI + p.name, Resource.from_contents(json.loads(p.read_text(encoding="utf-8"))))
        for p in sorted(HERE.glob("*.schema.json"))
    ]
    return Registry().with_resources(resources)


def errors(doc: Any) -> list[str]:
    """Every way `doc` departs from the schema its `type` names, one line each (empty when it conforms)."""
    from jsonschema import Draft202012Validator

    if not isinstance(doc, dict) or "type" not in doc:
        return [f"not a typed document (an object with `schema_version` and `type`): {str(doc)[:80]}"]
    if doc.get("schema_version") != SCHEMA_VERSION:
        return [f"schema_version is {doc.get('schema_version')!r}, not {SCHEMA_VERSION!r}"]
    validator = Draft202012Validator(load(doc["type"]), registry=_registry())
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(document)'}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]


def parse_output(text: str) -> list[dict[str, Any]]:
    """The documents a command printed: one indented JSON document, or JSON Lines (one per line)."""
    text = text.strip()
    if not text:
        return []
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def check_schemas(kinds: Iterable[str] | None = None) -> None:
    """Each schema is itself a valid draft 2020-12 schema whose `type` is the one its file names."""
    from jsonschema import Draft202012Validator

    for kind in kinds or names():
        s = load(kind)
        Draft202012Validator.check_schema(s)
        assert s["$id"] == BASE_URI + f"{kind}.schema.json", f"{kind}: $id {s['$id']}"
        assert s["properties"]["type"] == {"const": kind}, f"{kind}: its `type` is not the const {kind!r}"
