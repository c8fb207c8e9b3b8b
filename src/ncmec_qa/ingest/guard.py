"""What may be read as a document: confined to the documents folder, a regular file, within the ingest limits.

Every document path is resolved (symlinks followed) and must lie inside the documents
folder; only a regular file is opened, without blocking (a FIFO never hangs a build) and
without following a link swapped in after the check; its bytes are read once, up to the
size limit, and both the hash and the loader work from those bytes. `Limits` holds the
per-document limits and the option that raises each; `time_limit` stops a loader that
runs past `max_seconds`.
"""

from __future__ import annotations

import os
import signal
import stat
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import LoadError

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-document ingest limits. A document over one is skipped, named with the limit and its option.

    Memory: a document of `max_file_bytes` is held as bytes and as decoded text while it is loaded,
    and at most `max_passages` of its passages are kept (about 14 KB each while building): one
    document at these defaults stays under about 530 MB (measured in docs/benchmarks-ingest.md)."""

    max_file_bytes: int = 100 * MB
    max_pages: int = 2000  # PDF pages
    max_passages: int = 20_000  # passages of one document
    max_seconds: float = 120.0  # loading and chunking one document

    def to_dict(self) -> dict[str, float]:
        return {
            "max_file_bytes": self.max_file_bytes,
            "max_pages": self.max_pages,
            "max_passages": self.max_passages,
            "max_seconds": self.max_seconds,
        }


# The `index build` option that raises each limit (named in every message about it).
OPTIONS = {
    "max_file_bytes": "--max-file-mb",
    "max_pages": "--max-pages",
    "max_passages": "--max-passages",
    "max_seconds": "--max-seconds",
    "max_paragraph_chars": "--max-paragraph-chars",
}


OUTSIDE = "resolves outside the documents folder"


def limit_error(file: str, what: str, limit: str, key: str) -> LoadError:
    return LoadError(
        f"{file}: {what}, over the limit of {limit} (raise it with `ncmec-qa index build {OPTIONS[key]}`)", kind="limit"
    )


def resolve_inside(docs_dir: Path, file: str) -> Path:
    """docs_dir/file with every symlink resolved; refused unless it lies inside docs_dir."""
    root = Path(docs_dir).resolve()
    if not isinstance(file, str) or not file.strip():
        raise LoadError(f"{file!r}: no file path recorded", kind="missing")
    try:
        p = (root / file).resolve()
    except (OSError, RuntimeError, ValueError) as e:  # a symlink loop, a NUL in the name
        raise LoadError(f"{file}: cannot resolve the path: {e}", kind="unreadable") from None
    if p == root or not p.is_relative_to(root):
        raise LoadError(
            f"{file}: {OUTSIDE} {root} (keep documents inside it; `file` is a path relative to it)", kind="outside"
        )
    return p


_TYPES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _TYPES if test(mode)), "not a regular file")


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n} bytes"


def check_regular(path: Path, file: str, max_bytes: int | None = None) -> os.stat_result:
    """The file's stat when it is a regular file within the size limit (no byte of it is read)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise LoadError(
            f"{file}: file not found at {path} (run `ncmec-qa corpus sync` or check --docs)", kind="missing"
        ) from None
    except OSError as e:
        raise LoadError(f"{file}: cannot read: {e.strerror or e}", kind="unreadable") from None
    what = _not_regular(st.st_mode)
    if what:
        raise LoadError(f"{file}: is {what}, not a regular file; only regular files are read", kind="not_regular")
    if max_bytes is not None and st.st_size > max_bytes:
        raise limit_error(file, f"file is {_size(st.st_size)}", _size(max_bytes), "max_file_bytes")
    return st


def read_regular(path: Path, file: str, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file, read once; refuses anything else before opening it for reading."""
    check_regular(path, file, max_bytes)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise LoadError(f"{file}: cannot open: {e.strerror or e}", kind="unreadable") from None
    try:
        st = os.fstat(fd)  # what was opened, which may not be what was checked
        what = _not_regular(st.st_mode)
        if what:
            raise LoadError(f"{file}: is {what}, not a regular file; only regular files are read", kind="not_regular")
        cap = max_bytes if max_bytes is not None else st.st_size
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1 << 22, cap + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                if max_bytes is None:  # grew while read: take what it was when opened
                    break
                raise limit_error(file, "file grew while read", _size(max_bytes), "max_file_bytes")
        return b"".join(chunks)
    except OSError as e:
        raise LoadError(f"{file}: cannot read: {e.strerror or e}", kind="unreadable") from None
    finally:
        os.close(fd)


def read_document(docs_dir: Path, file: str, max_bytes: int | None = None) -> tuple[Path, bytes]:
    """(resolved path, bytes) of a manifest's document: confined, regular, within the size limit."""
    path = resolve_inside(docs_dir, file)
    return path, read_regular(path, file, max_bytes)


class _Overtime(BaseException):
    """Raised by the alarm inside a loader; a BaseException so no `except Exception` swallows it."""


@contextmanager
def time_limit(seconds: float | None, file: str) -> Iterator[float]:
    """Stop the block after `seconds` (SIGALRM, main thread only) with a LoadError naming the limit.

    Yields the deadline (time.monotonic()) for cooperative checks (see `Budget`), which is all there
    is off the main thread. Time spent inside one C call (a parser) is noticed when it returns."""
    deadline = time.monotonic() + seconds if seconds else float("inf")
    use_alarm = bool(seconds) and threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    if not use_alarm:
        yield deadline
        return

    active = [True]

    def on_alarm(signum, frame):
        if active[0]:
            raise _Overtime()

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield deadline
    except _Overtime:
        raise overtime(file, seconds) from None
    finally:
        active[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def overtime(file: str, seconds: float) -> LoadError:
    return limit_error(file, "reading and chunking took too long", f"{seconds:g} s", "max_seconds")


@dataclass
class Budget:
    """Cooperative limits checked while a document is chunked: passages made, and the deadline."""

    file: str
    max_passages: int | None = None
    deadline: float = float("inf")
    seconds: float = 0.0

    def check(self, passages: int) -> None:
        if self.max_passages is not None and passages > self.max_passages:
            raise limit_error(
                self.file, f"more than {self.max_passages} passages", f"{self.max_passages} passages", "max_passages"
            )
        self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise overtime(self.file, self.seconds)
