"""The house's rules, read from the code: imports run one way through the stages, only index/ opens SQLite,
no module is over 500 lines, and the README's architecture section names every package and module there is."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import ncmec_qa

SRC = Path(ncmec_qa.__file__).resolve().parent
README = SRC.parents[1] / "README.md"

# the stages in the order data flows; a module may import its own stage and earlier ones, never a later one
STAGES = [
    "models",
    "corpus",
    "ingest",
    "index",
    "search",
    "answer",
    "verify",
    "learn",
    "render",
    "workspace",
    "api",
    "cli",
]
# top-level modules and packages that are not a stage of their own
TOP = {
    "models": "models",
    "errors": "models",
    "config": "models",  # config: used by all, imports only errors
    "schemas": "models",  # the JSON Schemas of --json: data files and a loader
    "evaluation": "learn",  # recall, MRR, answer precision: read by learn/, `ncmec-qa eval` and bench/
    "workspace": "workspace",
    "api": "api",  # ask, search, cite: thin functions over the workspace
    "__init__": "api",  # the public API re-exports the workspace's functions
    "__main__": "cli",
}
# modules placed below their package's stage, each with the reason
MODULE_STAGE = {
    # the fitted models' format and the shipped parameters: applied by search (ranker), answer (selector,
    # abstainer) and verify (verdict); only the training (the rest of learn/) comes after verify
    "ncmec_qa.learn.linear": "models",
    "ncmec_qa.learn.shipped": "models",
}
# imports from an earlier stage into a later one that stay, each with the reason
ALLOWED = {
    # `corpus add/check` refuse what the build could not read by loading it with the build's own loaders,
    # guard and chunking (one truth of "readable"); the rest of corpus/ imports nothing of ingest/
    ("ncmec_qa.corpus.curation", "ncmec_qa.ingest"),
    # `corpus sync` confines its downloads to the documents folder with the build's own path guard
    ("ncmec_qa.corpus.sync", "ncmec_qa.ingest.guard"),
}
MAX_LINES = 500
SQLITE_STAGE = "index"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage_of(root: Path, module: str) -> str | None:
    if module in MODULE_STAGE:
        return MODULE_STAGE[module]
    parts = module.split(".")
    if len(parts) == 1:
        return TOP["__init__"]
    if (root / parts[1]).is_dir() and parts[1] not in TOP:
        return parts[1] if parts[1] in STAGES else None
    return TOP.get(parts[1])


def imports_of(root: Path, path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file, at any depth (lazy and TYPE_CHECKING ones too)."""
    module = module_name(root, path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            target = ".".join(p for p in (base, node.module or "") if p)
            for a in node.names:  # `from . import claimcheck` imports a module
                sub = f"{target}.{a.name}"
                is_module = (root.parent / sub.replace(".", "/")).with_suffix(".py").exists() or (
                    root.parent / sub.replace(".", "/")
                ).is_dir()
                out.append((node.lineno, sub if is_module else target))
    return out


def problems(root: Path) -> list[str]:
    """Every broken rule under the package at `root`, one line each, naming the file and line."""
    found: list[str] = []
    top = root.name
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).as_posix()
        module = module_name(root, path)
        mine = stage_of(root, module)
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            found.append(f"{rel}: {lines} lines, over {MAX_LINES}; split it by what each part owns")
        if mine is None:
            found.append(f"{rel}: in no stage; put it in a stage's package or name it in TOP")
            continue
        for line, target in imports_of(root, path):
            if target == "sqlite3" and mine != SQLITE_STAGE:
                found.append(f"{rel}:{line}: imports sqlite3 outside {SQLITE_STAGE}/; go through `Index`")
            if target != top and not target.startswith(top + "."):
                continue
            if target == top and mine != "api":  # `from .. import __version__`: defined before anything is imported
                continue
            theirs = stage_of(root, target)
            if theirs is None or STAGES.index(theirs) <= STAGES.index(mine):
                continue
            if any(module == a and (target == b or target.startswith(b + ".")) for a, b in ALLOWED):
                continue
            found.append(f"{rel}:{line}: {mine} imports {target} of the later stage {theirs}")
    return found


def test_the_package_keeps_the_house_rules():
    assert problems(SRC) == []


def test_every_listed_exception_is_still_needed():
    """An exception the code no longer needs is removed from the list, so the list stays the truth."""
    used = set()
    for path in SRC.rglob("*.py"):
        module = module_name(SRC, path)
        for _, target in imports_of(SRC, path):
            used |= {(a, b) for a, b in ALLOWED if module == a and (target == b or target.startswith(b + "."))}
    assert used == ALLOWED


def _write(root: Path, rel: str, text: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def test_the_rules_catch_a_later_stage_import_sqlite_and_a_long_module(tmp_path):
    root = tmp_path / "ncmec_qa"
    for pkg in ("", "search/", "answer/", "index/", "corpus/"):
        _write(root, f"{pkg}__init__.py", '"""x"""\n')
    _write(root, "models.py", "import sqlite3\n")
    _write(root, "search/retrieval.py", "from ..answer import answering\nfrom ..index.store import Index\n")
    _write(root, "answer/answering.py", "from ..search.retrieval import x\n" + "pass\n" * 501)
    _write(root, "index/store.py", "import sqlite3\n")
    _write(root, "corpus/sync.py", "from .. import __version__\nfrom ..ingest.guard import resolve_inside\n")
    _write(root, "stray.py", "")
    assert problems(root) == [
        "ncmec_qa/answer/answering.py: 502 lines, over 500; split it by what each part owns",
        "ncmec_qa/models.py:1: imports sqlite3 outside index/; go through `Index`",
        "ncmec_qa/search/retrieval.py:1: search imports ncmec_qa.answer.answering of the later stage answer",
        "ncmec_qa/stray.py: in no stage; put it in a stage's package or name it in TOP",
    ]


# -- the README's architecture section ------------------------------------------------------------------------


def _architecture_table() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Architecture\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("| `"))


def _packages() -> list[str]:
    return sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").exists())


def test_the_readme_architecture_names_every_package_in_a_row_of_its_own():
    rows = [line.split("|")[1] for line in _architecture_table().splitlines()]
    named = {m for r in rows for m in re.findall(r"`([\w]+)/`", r)}
    assert sorted(set(_packages()) - named) == []
    assert len(_packages()) >= 10  # corpus, ingest, index, search, answer, verify, learn, render, cli, schemas


def test_every_module_the_readme_architecture_names_exists():
    named = [p for row in _architecture_table().splitlines() for p in re.findall(r"`([\w/]+\.py)`", row.split("|")[1])]
    assert len(named) >= 5
    assert [p for p in named if not (SRC / p).exists()] == []


def test_every_stage_package_exists_and_is_a_stage():
    stages = [p for p in _packages() if p in STAGES]
    assert stages == sorted(["corpus", "ingest", "index", "search", "answer", "verify", "learn", "render", "cli"])
