"""docs/reliability.md names, for every input or fault, the test that checks it: each named test exists."""

from __future__ import annotations

import ast
import re

from conftest import REPO


def test_every_test_the_reliability_table_names_exists():
    text = (REPO / "docs" / "reliability.md").read_text()
    named = set(re.findall(r"`?(test_\w+\.py)::(\w+)", text))
    assert len(named) >= 40, len(named)
    defined: dict[str, set[str]] = {}
    for file, _ in named:
        if file not in defined:
            tree = ast.parse((REPO / "tests" / file).read_text())
            defined[file] = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    missing = sorted(f"{f}::{t}" for f, t in named if t not in defined[f])
    assert not missing, missing
