"""The public API: what `from ncmec_qa import …` hands out, that `import ncmec_qa` stays light, and that the
README's "Python API" example runs and keeps its promises (verbatim quotes, citations that slice the text)."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ENV_VARS

import ncmec_qa
from ncmec_qa.models import Answer, Citation, Hit, Verdict

README = Path(__file__).resolve().parents[1] / "README.md"
PUBLIC = ["Workspace", "ask", "cite", "search", "verify", "verify_article"]


def _readme_example() -> str:
    section = README.read_text(encoding="utf-8").split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, "the Python API section holds one python block"
    return blocks[0]


def test_the_public_names_are_exported_with_docstrings():
    assert sorted(n for n in ncmec_qa.__all__ if n != "__version__") == PUBLIC
    for name in PUBLIC:
        obj = getattr(ncmec_qa, name)
        doc = obj.__call__.__doc__ if name in ("search", "verify") else obj.__doc__
        assert doc and len(doc.strip()) > 20, f"ncmec_qa.{name} has no docstring"
    assert set(PUBLIC) <= set(dir(ncmec_qa))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        ncmec_qa.nothing_here  # noqa: B018


def test_importing_the_package_loads_nothing_until_a_name_is_used():
    """`ncmec-qa --help` and `config` start as fast as before: the API loads on first use."""
    code = (
        "import sys, ncmec_qa; a = sorted(m for m in sys.modules if m.startswith('ncmec_qa.')); "
        "from ncmec_qa import Workspace; print(a, 'ncmec_qa.workspace' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] True"


def test_search_and_verify_are_their_packages_and_call_the_workspace(fake_ws):
    from ncmec_qa import search, verify

    import ncmec_qa.search.retrieval  # noqa: F401  (the packages' modules import as before, in every form)
    import ncmec_qa.verify.check as check  # noqa: PLR0402

    assert verify is sys.modules["ncmec_qa.verify"] and search is sys.modules["ncmec_qa.search"]
    assert search(fake_ws, "widget report deadline", k=3) == fake_ws.search("widget report deadline", k=3)
    assert len(search(fake_ws, "widget report deadline", k=3)) == 3
    claim = "Every operator shall file a widget report within 30 days of discovery."
    v = verify(fake_ws, claim)
    assert isinstance(v, Verdict)
    assert v == check.verify_claim(fake_ws, claim)


def test_the_readme_python_example_runs_on_a_small_corpus(fake_ws, monkeypatch, tmp_path):
    for v in ENV_VARS:
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv("NCMEC_QA_CORPUS", str(fake_ws.paths.manifest))
    monkeypatch.setenv("NCMEC_QA_INDEX", str(fake_ws.paths.index))
    monkeypatch.setenv("NCMEC_QA_DOCS", str(fake_ws.docs_dir))
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_readme_example(), "README.md (Python API)", "exec"), ns)  # noqa: S102 (the README's own code)
    ws = ns["ws"]
    assert ws.paths.index == fake_ws.paths.index

    answer = ns["answer"]
    assert isinstance(answer, Answer)
    for s in answer.answer:  # every answer sentence is a verbatim span of a cited document
        assert any(s.text in (ws.document_text(c.source.id) or "") for c in answer.sources)

    hits = ns["hits"]
    assert 1 <= len(hits) <= 5 and all(isinstance(h, Hit) for h in hits)
    assert all(h.passage.passage_id in out.getvalue() for h in hits)
    assert ns["verdict"].verdict in ("supported", "contradicted", "not_found")
    assert ns["report"].summary() in out.getvalue()
    assert re.match(r"\d+ claims checked of 2 sentences", ns["report"].summary())

    c = ns["citation"]
    assert isinstance(c, Citation) and c.passage.passage_id == hits[0].passage.passage_id
    assert ws.document_text(c.source.id)[c.start : c.end] == c.quote == hits[0].passage.text
