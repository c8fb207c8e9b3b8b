"""Library errors. Each carries a message that says what went wrong and how to fix it."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    FAILURE = 1  # a check found problems (contradicted claims, manifest problems)
    ERROR = 2  # bad input or configuration
    INDEX = 3  # missing, stale or corrupt index


class NcmecQaError(Exception):
    exit_status = ExitStatus.ERROR


class ManifestError(NcmecQaError):
    pass


class LoadError(NcmecQaError):
    """A document could not be turned into text; the message names the file and the reason."""


class IndexError_(NcmecQaError):
    exit_status = ExitStatus.INDEX


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexStale(IndexError_):
    pass


class IndexBusy(IndexError_):
    """Another build holds the index folder's build lock (the current index is left as it was)."""
