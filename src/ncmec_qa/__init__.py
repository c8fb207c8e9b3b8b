"""ncmec-qa: answers about NCMEC's CyberTipline from a curated corpus, only in cited, verbatim quotes.

The Python API (README, "Python API"): `Workspace.open()` finds the manifest, documents and index as the
command line does; `ask`, `search`, `verify` (one claim), `verify_article` and `cite` work on it. Each name
is loaded on first use, so `import ncmec_qa` (and so every command's start) loads nothing else.
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["Workspace", "__version__", "ask", "cite", "search", "verify", "verify_article"]


def __getattr__(name: str) -> Any:
    if name == "Workspace":
        from .workspace import Workspace

        return Workspace
    if name in ("ask", "cite", "verify_article"):
        from . import api

        return getattr(api, name)
    if name in ("search", "verify"):  # the packages, callable: search(ws, query), verify(ws, claim)
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
