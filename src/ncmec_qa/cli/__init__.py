"""The `ncmec-qa` command line: thin click commands over `Workspace` (the console script is `ncmec_qa.cli:main`)."""

from .commands import main

__all__ = ["main"]
