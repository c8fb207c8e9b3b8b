"""The build lock: one build at a time per index folder; a second one waits, saying for whom, up to a timeout."""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..errors import IndexBusy

LOCK = ".build.lock"
OWNER = ".build.owner"  # pid and start time of the build holding the lock (the lock file itself stays empty)
WAIT_ENV = "NCMEC_QA_BUILD_WAIT"
DEFAULT_WAIT = 600.0  # seconds a second build waits before it gives up (a full build of the corpus takes ~2 min)


def wait_seconds() -> float:
    raw = os.environ.get(WAIT_ENV)
    if raw is None or raw == "":
        return DEFAULT_WAIT
    try:
        value = float(raw)
    except ValueError:
        from ..errors import NcmecQaError

        raise NcmecQaError(
            f"{WAIT_ENV}={raw!r} is not a number of seconds (e.g. {WAIT_ENV}=0 to fail at once)"
        ) from None
    return max(0.0, value)


def owner(index_dir: Path) -> str:
    """Who holds the lock, as 'pid N' (or 'unknown pid' while it is being taken)."""
    try:
        info = json.loads((index_dir / OWNER).read_text(encoding="utf-8"))
        return f"pid {int(info['pid'])}"
    except (OSError, ValueError, KeyError, TypeError):
        return "unknown pid"


@contextmanager
def build_lock(
    index_dir: Path, wait: float | None = None, log: Callable[[str], None] = lambda m: None
) -> Iterator[None]:
    """Hold the build lock of `index_dir` for the duration of the block."""
    from filelock import FileLock, Timeout

    wait = wait_seconds() if wait is None else wait
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(index_dir / LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        who = owner(index_dir)
        if wait <= 0:
            raise IndexBusy(
                f"another build ({who}) is writing {index_dir}; wait for it to finish "
                f"(or set {WAIT_ENV} to a number of seconds to wait)"
            ) from None
        log(f"waiting for another build ({who}) to finish, up to {wait:.0f} s ({WAIT_ENV} sets it)…")
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise IndexBusy(
                f"another build ({owner(index_dir)}) still holds {index_dir / LOCK} after {wait:.0f} s; "
                f"wait for it to finish or raise {WAIT_ENV}"
            ) from None
    try:
        (index_dir / OWNER).write_text(json.dumps({"pid": os.getpid(), "since": time.time()}), encoding="utf-8")
        yield
    finally:
        try:
            (index_dir / OWNER).unlink(missing_ok=True)
        finally:
            lock.release()
