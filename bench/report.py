"""Shared by the benchmark scripts: Markdown tables and one section each in docs/benchmarks.md."""

from __future__ import annotations

import re
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\nEach section below is written by the script it names (see `bench/`), and says "
    "the command, the date and the machine. Re-running a script replaces only its own section.\n"
)


def table(rows: list[dict]) -> str:
    cols = list(rows[0])

    def fmt(v) -> str:
        return "" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))

    return "\n".join(
        ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        + ["| " + " | ".join(fmt(r[c]) for c in cols) + " |" for r in rows]
    )


def write_section(name: str, text: str, path: Path = DEFAULT) -> Path:
    """Replace (or append) the section `name` of the benchmarks file with `text`."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{text.strip()}\n{end}\n"
    old = path.read_text(encoding="utf-8") if path.is_file() else HEADER
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)
    new = pattern.sub(lambda m: block, old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
    return path
