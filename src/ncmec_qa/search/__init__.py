"""Search: what a question says, the features the rankers read, and hybrid retrieval.

The package is also the public API's `search` (`from ncmec_qa import search`): `search(ws, query, k=10)`.
"""

import sys
import types


class _SearchPackage(types.ModuleType):
    """Callable, so that `ncmec_qa.search` is both this package and the API's function; being the package itself
    keeps `import ncmec_qa.search.retrieval` working however `ncmec_qa.search` was first reached."""

    def __call__(
        self, ws, query: str, k: int = 10, sources: set[str] | None = None, exclude: set[str] | None = None
    ) -> list:
        """`search(ws, query, k=10, sources=…, exclude=…)`: the `k` passages (`Hit`s) that best match `query`,
        best first, as `ncmec-qa search` gives them; `sources` keeps to, `exclude` leaves out, those source ids."""
        return ws.search(query, k=k, sources=sources, exclude=exclude)


sys.modules[__name__].__class__ = _SearchPackage
