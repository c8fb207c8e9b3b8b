"""Corpus sync: from a mirror folder, and over HTTP from a real server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import pytest

from ncmec_qa import __version__
from ncmec_qa.corpus.manifest import Manifest, load_manifest
from ncmec_qa.corpus.sync import SyncReport, apply_accepted, file_drift, sync_corpus
from ncmec_qa.models import Source

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / "corpus" / "sources.toml"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- from a mirror folder -------------------------------------------------------------------


def test_sync_from_mirror_reproduces_every_file(tmp_path):
    manifest = load_manifest(MANIFEST)
    mirror = manifest.docs_dir()
    assert len(manifest.sources) == 26
    docs = tmp_path / "docs"
    lines: list[str] = []

    report = sync_corpus(manifest, docs, mirror=mirror, progress=lines.append)
    assert report.counts() == {"copied": 26}, [r.reason for r in report.results if r.status != "copied"]
    assert report.ok and len(lines) == 26
    for s in manifest.sources:
        assert (docs / s.file).read_bytes() == (mirror / s.file).read_bytes(), s.file
    assert not list(docs.rglob("*.part")) and not (docs / ".drift").exists()
    assert file_drift(manifest, docs) == []

    again = sync_corpus(manifest, docs, mirror=mirror)
    assert again.counts() == {"ok": 26}
    again = sync_corpus(manifest, docs)  # nothing to fetch without a mirror either
    assert again.counts() == {"ok": 26}


def test_mirror_missing_and_no_url(tmp_path):
    src = Source(id="x", file="sub/x.txt", title="X", publisher="P", date="2024", format="text", sha256=sha(b"x"))
    m = Manifest(path=tmp_path / "sources.toml", sources=(src,))
    r = sync_corpus(m, tmp_path / "docs", mirror=tmp_path / "empty").results[0]
    assert r.status == "missing" and "sub/x.txt" in r.reason
    r = sync_corpus(m, tmp_path / "docs").results[0]
    assert r.status == "skipped" and "--from" in r.reason


# --- over HTTP -----------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; records User-Agents; under /nolen/ it sends no Content-Length."""

    def do_GET(self):
        self.server.user_agents.append(self.headers.get("User-Agent"))
        if self.server.fail_next > 0:  # a flaky server: 503 for the next N requests
            self.server.fail_next -= 1
            self.send_error(503)
            return
        super().do_GET()

    def translate_path(self, path):
        return super().translate_path(path.removeprefix("/nolen"))

    def send_header(self, keyword, value):
        if keyword.lower() == "content-length" and self.path.startswith("/nolen/"):
            return
        super().send_header(keyword, value)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    httpd.user_agents = []
    httpd.fail_next = 0
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}", httpd
    httpd.shutdown()
    httpd.server_close()
    t.join(5)


FILES = {"a.txt": b"alpha document\n", "b.txt": b"bravo document\n" * 10, "c.txt": b"charlie\n"}


def _manifest(tmp_path, base, files=FILES, prefix=""):
    sources = tuple(
        Source(
            id=name.split(".")[0],
            file=f"docs/{name}",
            title=name,
            publisher="test",
            date="2024",
            format="text",
            sha256=sha(data),
            bytes=len(data),
            url=f"{base}{prefix}/{name}",
        )
        for name, data in files.items()
    )
    return Manifest(path=tmp_path / "sources.toml", sources=sources)


def test_download_drift_and_accept(tmp_path, server):
    root, base, httpd = server
    for name, data in FILES.items():
        (root / name).write_bytes(data)
    m = _manifest(tmp_path, base)
    docs = tmp_path / "local"

    report = sync_corpus(m, docs, retries=0)
    assert report.counts() == {"downloaded": 3} and report.ok
    for name, data in FILES.items():
        assert (docs / "docs" / name).read_bytes() == data
    assert httpd.user_agents and set(httpd.user_agents) == {f"ncmec-qa/{__version__} (+corpus sync)"}
    assert sync_corpus(m, docs).counts() == {"ok": 3}

    # The server's copy changes; the local copy is damaged so it must be fetched again.
    changed = b"alpha document, revised\n"
    (root / "a.txt").write_bytes(changed)
    local_a = docs / "docs" / "a.txt"
    local_a.write_bytes(b"damaged\n")
    assert [s.id for s, _, _ in file_drift(m, docs)] == ["a"]

    report = sync_corpus(m, docs)
    by_id = {r.source_id: r for r in report.results}
    a = by_id["a"]
    assert a.status == "drift" and not report.ok
    assert a.expected_sha256 == sha(FILES["a.txt"]) and a.actual_sha256 == sha(changed)
    assert (docs / ".drift" / "docs" / "a.txt").read_bytes() == changed == a.path.read_bytes()
    assert local_a.read_bytes() == b"damaged\n"  # existing file left untouched
    assert by_id["b"].status == by_id["c"].status == "ok"
    assert report.to_dict()["counts"] == {"drift": 1, "ok": 2}

    # The same with a missing local file: drift, and nothing put in place.
    local_a.unlink()
    assert sync_corpus(m, docs).results[0].status == "drift" and not local_a.exists()

    report = sync_corpus(m, docs, accept=True)
    a = report.results[0]
    assert a.status == "accepted" and a.actual_sha256 == sha(changed) and report.ok
    assert local_a.read_bytes() == changed
    updated = apply_accepted(m, report)
    assert updated.get("a").sha256 == sha(changed) and updated.get("a").bytes == len(changed)
    assert updated.get("b") == m.get("b") and m.get("a").sha256 == sha(FILES["a.txt"])
    assert sync_corpus(updated, docs).counts() == {"ok": 3}
    assert not list(docs.rglob("*.part"))


def test_download_errors(tmp_path, server):
    root, base, _ = server
    big = b"0123456789" * 100
    (root / "big.txt").write_bytes(big)
    (root / "a.txt").write_bytes(FILES["a.txt"])
    files = {"gone.txt": b"never served", "big.txt": big, "a.txt": FILES["a.txt"]}
    m = _manifest(tmp_path, base, files)
    docs = tmp_path / "local"

    report = sync_corpus(m, docs, max_bytes=500, retries=0)
    gone, too_big, a = report.results
    assert gone.status == "error" and "404" in gone.reason and f"{base}/gone.txt" in gone.reason
    assert "docs/gone.txt" in gone.reason and "\n" not in gone.reason
    assert too_big.status == "error" and "500" in too_big.reason and "max_bytes" in too_big.reason
    assert a.status == "downloaded"  # errors do not stop the others
    assert not report.ok and report.counts() == {"error": 2, "downloaded": 1}
    assert not (docs / "docs" / "big.txt").exists() and not list(docs.rglob("*.part"))

    # Without a Content-Length the limit is enforced while streaming.
    m2 = _manifest(tmp_path, base, {"big.txt": big}, prefix="/nolen")
    r = sync_corpus(m2, docs, max_bytes=500, retries=0).results[0]
    assert r.status == "error" and "max_bytes" in r.reason and not list(docs.rglob("*.part"))
    assert sync_corpus(m2, docs, retries=0).results[0].status == "downloaded"


def test_retries_on_503(tmp_path, server):
    root, base, httpd = server
    (root / "a.txt").write_bytes(FILES["a.txt"])
    m = _manifest(tmp_path, base, {"a.txt": FILES["a.txt"]})
    httpd.fail_next = 1
    assert sync_corpus(m, tmp_path / "one", retries=2).results[0].status == "downloaded"
    assert len(httpd.user_agents) == 2
    httpd.fail_next = 5
    r = sync_corpus(m, tmp_path / "two", retries=0).results[0]
    assert r.status == "error" and "503" in r.reason


def test_connection_refused_is_an_error(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    m = _manifest(tmp_path, f"http://127.0.0.1:{port}", {"a.txt": b"a"})
    report = sync_corpus(m, tmp_path / "local", retries=0, timeout=2)
    r = report.results[0]
    assert r.status == "error" and f"127.0.0.1:{port}/a.txt" in r.reason and "\n" not in r.reason
    assert isinstance(report, SyncReport) and report.to_dict()["ok"] is False
