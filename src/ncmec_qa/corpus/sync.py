"""Obtain the manifest's documents into a documents folder, from a mirror folder or over HTTP(S).

Every path stays inside its folder (symlinks resolved; see ingest.guard), and only regular
files are hashed or copied. Nothing is moved into place before its sha256 has been checked against the manifest:
bytes that differ from the record are kept aside in `<docs>/.drift/<file>` (status
"drift") unless the caller accepts them (status "accepted"; see `apply_accepted`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .. import __version__
from ..errors import NcmecQaError
from ..models import Source
from .manifest import Manifest, sha256_file

USER_AGENT = f"ncmec-qa/{__version__} (+corpus sync)"
STATUSES = ("ok", "copied", "downloaded", "accepted", "drift", "missing", "skipped", "error")
PROBLEMS = ("drift", "error", "missing")
_CHUNK = 1 << 16


class SyncError(NcmecQaError):
    """One source could not be obtained; the message is the one-line reason."""


@dataclass(frozen=True)
class SyncResult:
    source_id: str
    file: str
    status: str  # one of STATUSES
    reason: str = ""
    expected_sha256: str = ""  # the manifest's record
    actual_sha256: str | None = None  # hash of the bytes obtained (or found), when there are any
    path: Path | None = None  # where those bytes now are (the document, or its .drift/ copy)
    bytes: int | None = None  # size of those bytes

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"] = str(self.path) if self.path else None
        return d


@dataclass(frozen=True)
class SyncReport:
    results: tuple[SyncResult, ...]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    @property
    def ok(self) -> bool:
        return not any(r.status in PROBLEMS for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "counts": self.counts(), "results": [r.to_dict() for r in self.results]}


def make_session(retries: int = 3) -> requests.Session:
    """A Session that retries connect errors and 429/5xx (with backoff) and identifies itself."""
    retry = Retry(
        total=retries,
        connect=retries,
        read=0,
        status=retries,
        other=0,
        backoff_factor=0.5,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,
    )
    s = requests.Session()
    s.mount("http://", HTTPAdapter(max_retries=retry))
    s.mount("https://", HTTPAdapter(max_retries=retry))
    s.headers["User-Agent"] = USER_AGENT
    return s


def _inside(root: Path, rel: str, what: str = "documents folder") -> Path:
    """root/rel with symlinks resolved, refusing paths that would escape root (absolute paths, `..`,
    a symlink out) with the same message as `index build` and `corpus check`."""
    from ..errors import LoadError
    from ..ingest.guard import resolve_inside

    try:
        return resolve_inside(root, rel)
    except LoadError as e:
        raise SyncError(str(e).replace("the documents folder", f"the {what}")) from None


def _write_temp(target: Path, chunks: Iterable[bytes], limit: int | None, what: str) -> tuple[Path, str, int]:
    """Write chunks to a temp file next to target; return (temp path, sha256, size)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    h, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                size += len(chunk)
                if limit is not None and size > limit:
                    raise SyncError(f"{what}: more than {limit} bytes (max_bytes limit); aborted")
                h.update(chunk)
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp), h.hexdigest(), size


def _read_chunks(f: BinaryIO) -> Iterable[bytes]:
    return iter(lambda: f.read(_CHUNK), b"")


def _download(
    session: requests.Session, src: Source, target: Path, timeout: float, max_bytes: int
) -> tuple[Path, str, int]:
    what = f"{src.file} from {src.url}"
    with session.get(src.url, timeout=timeout, stream=True) as r:
        if r.status_code >= 400:
            raise SyncError(f"{what}: HTTP {r.status_code} {r.reason}".rstrip())
        length = r.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise SyncError(f"{what}: Content-Length {length} is over the {max_bytes}-byte limit (max_bytes)")
        return _write_temp(target, r.iter_content(_CHUNK), max_bytes, what)


def _obtain(
    src: Source, docs_dir: Path, mirror: Path | None, accept: bool, session_for, timeout: float, max_bytes: int
) -> SyncResult:
    res = SyncResult(src.id, src.file, "error", expected_sha256=src.sha256)
    target = _inside(docs_dir, src.file)
    local = sha256_file(target) if target.is_file() else None
    if local == src.sha256:
        return replace(res, status="ok", actual_sha256=local, path=target, bytes=target.stat().st_size)
    if mirror is not None:
        origin = _inside(mirror, src.file, "mirror folder")
        if not origin.is_file():
            return replace(res, status="missing", reason=f"{src.file}: not in mirror folder {mirror}")
        with open(origin, "rb") as f:
            tmp, digest, size = _write_temp(target, _read_chunks(f), None, f"{src.file} from {origin}")
        done = "copied"
    elif src.url:
        tmp, digest, size = _download(session_for(), src, target, timeout, max_bytes)
        done = "downloaded"
    elif local is not None:
        return replace(
            res,
            status="drift",
            actual_sha256=local,
            path=target,
            reason=f"{src.file}: local file differs from the recorded sha256; no url recorded",
        )
    else:
        return replace(res, status="skipped", reason="no url recorded; use --from DIR")
    res = replace(res, actual_sha256=digest, bytes=size)
    if digest == src.sha256 or accept:
        os.replace(tmp, target)
        status = done if digest == src.sha256 else "accepted"
        reason = "" if status == done else f"{src.file}: new content accepted (was {src.sha256[:12]}…)"
        return replace(res, status=status, path=target, reason=reason)
    aside = docs_dir / ".drift" / src.file
    aside.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, aside)
    return replace(
        res,
        status="drift",
        path=aside,
        reason=f"{src.file}: {done} content has sha256 {digest[:12]}…, record says "
        f"{src.sha256[:12]}…; kept in {aside} (accept to replace)",
    )


def sync_corpus(
    manifest: Manifest,
    docs_dir: Path,
    mirror: Path | None = None,
    accept: bool = False,
    timeout: float = 30.0,
    retries: int = 3,
    max_bytes: int = 200 * 1024 * 1024,
    session: requests.Session | None = None,
    progress: Callable[[str], None] | None = None,
) -> SyncReport:
    """Obtain every source of the manifest into docs_dir; one SyncResult per source, in order."""
    docs_dir = Path(docs_dir)
    own: list[requests.Session] = []

    def session_for() -> requests.Session:
        if session is not None:
            return session
        if not own:
            own.append(make_session(retries))
        return own[0]

    results = []
    try:
        for i, src in enumerate(manifest.sources, 1):
            try:
                r = _obtain(src, docs_dir, mirror, accept, session_for, timeout, max_bytes)
            except SyncError as e:
                r = SyncResult(src.id, src.file, "error", str(e), src.sha256)
            except (requests.RequestException, OSError) as e:
                where = f" from {src.url}" if src.url and mirror is None else ""
                msg = " ".join(f"{type(e).__name__}: {e}".split())
                r = SyncResult(src.id, src.file, "error", f"{src.file}{where}: {msg}", src.sha256)
            results.append(r)
            if progress:
                progress(
                    f"[{i}/{len(manifest.sources)}] {r.status:<10} {src.file}"
                    + (f" — {r.reason}" if r.reason and r.status not in ("ok", "copied", "downloaded") else "")
                )
    finally:
        for s in own:
            s.close()
    return SyncReport(tuple(results))


def apply_accepted(manifest: Manifest, report: SyncReport) -> Manifest:
    """The manifest with sha256/bytes updated for every source whose new content was accepted."""
    new = {r.source_id: r for r in report.results if r.status == "accepted" and r.actual_sha256}
    return manifest.with_sources(
        replace(s, sha256=new[s.id].actual_sha256, bytes=new[s.id].bytes) if s.id in new else s
        for s in manifest.sources
    )


def file_drift(manifest: Manifest, docs_dir: Path) -> list[tuple[Source, str, str]]:
    """(source, recorded sha256, local sha256) for local files that differ; missing files are not listed."""
    out = []
    for s in manifest.sources:
        try:
            p = _inside(Path(docs_dir), s.file)
        except SyncError:  # outside the documents folder: never read (`corpus check` names it)
            continue
        if p.is_file():
            actual = sha256_file(p)
            if actual != s.sha256:
                out.append((s, s.sha256, actual))
    return out


def download(
    url: str, target: Path, timeout: float = 30.0, retries: int = 3, max_bytes: int = 200 * 1024 * 1024
) -> tuple[str, int]:
    """Download `url` to `target` (atomically); returns (sha256, size)."""
    src = Source(id="download", file=target.name, title="", publisher="", date="", format="", sha256="", url=url)
    with make_session(retries) as session:
        try:
            tmp, digest, size = _download(session, src, target, timeout, max_bytes)
        except requests.RequestException as e:
            raise SyncError(f"{url}: {type(e).__name__}: {e}") from None
    os.replace(tmp, target)
    return digest, size
