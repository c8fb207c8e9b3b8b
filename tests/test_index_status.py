"""`index status` against the corpus by content hash (skipped, changed, drift, new, removed, missing; exit 3),
drift marked in every answer citing it, the build lock, prune sparing live builds, and a stdin session
that reloads a new generation. Fake embedder throughout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from conftest import FAKE_MODEL, NOTES_TXT, REPO, location_args, open_workspace, run_cli

from ncmec_qa.errors import IndexBusy
from ncmec_qa.index.buildlock import build_lock, owner
from ncmec_qa.index.index_health import verify_generation
from ncmec_qa.index.store import Index, current_generation

KEEP_QUESTION = "Does the registry keep every report for ninety days?"
NEW_NOTES = NOTES_TXT.replace("ninety days", "seven years")


def status(tiny_corpus, index_dir):
    r = run_cli([*location_args(tiny_corpus, index_dir), "index", "status", "--json"])
    return r.exit_code, json.loads(r.stdout)


def kinds(st) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for d in st["documents"]:
        out.setdefault(d["source_id"], set()).add(d["kind"])
    return out


def test_fresh_index_matches_the_corpus(fake_ws, tiny_corpus):
    code, st = status(tiny_corpus, fake_ws.paths.index)
    assert code == 0 and st["matches_corpus"] is True and st["documents"] == [] and st["integrity_record"] is True
    r = run_cli([*location_args(tiny_corpus, fake_ws.paths.index), "index", "status"])
    assert r.exit_code == 0 and f"status:    up to date with {tiny_corpus.manifest_path}" in r.stdout


def test_a_document_edited_without_the_manifest_is_not_up_to_date(fake_ws, tiny_corpus):
    """Staleness by content hash: the manifest is unchanged, the file is not."""
    tiny_corpus.path("tiny-notes").write_text(NEW_NOTES)
    assert open_workspace(tiny_corpus, fake_ws.paths.index, model=None).staleness() is None  # manifest alone: fine
    code, st = status(tiny_corpus, fake_ws.paths.index)
    assert code == 3 and st["matches_corpus"] is False
    assert kinds(st) == {"tiny-notes": {"changed"}}
    r = run_cli([*location_args(tiny_corpus, fake_ws.paths.index), "index", "status"])
    assert r.exit_code == 3
    assert (
        "document:  changed: notes.txt (tiny-notes): the file changed since it was indexed; run `ncmec-qa index build`"
    ) in r.stdout
    assert "status:    DOES NOT MATCH THE CORPUS: 1 document problem(s) (changed)" in r.stdout


def test_status_names_skipped_new_removed_and_missing_documents(fake_ws, tiny_corpus):
    tiny_corpus.add("tiny-broken", "broken.pdf", b"%PDF-1.4 not really a pdf", "pdf")
    open_workspace(tiny_corpus, fake_ws.paths.index).build()
    tiny_corpus.add("tiny-later", "later.txt", b"A note added after the build about widget audits.\n", "text")
    m = tiny_corpus.manifest()
    tiny_corpus.set_sources([s for s in m.sources if s.id != "tiny-rates"])
    tiny_corpus.path("tiny-html").unlink()
    os.mkfifo(tiny_corpus.docs / "notes.txt.fifo")
    (tiny_corpus.docs / "notes.txt").unlink()
    (tiny_corpus.docs / "notes.txt").symlink_to("notes.txt.fifo")  # must not hang the status
    code, st = status(tiny_corpus, fake_ws.paths.index)
    assert code == 3 and st["stale"] is True
    assert kinds(st) == {
        "tiny-broken": {"skipped"},
        "tiny-later": {"new"},
        "tiny-rates": {"removed"},
        "tiny-html": {"missing"},
        "tiny-notes": {"missing"},
    }
    by = {d["source_id"]: d["detail"] for d in st["documents"]}
    assert by["tiny-broken"].startswith("the build skipped it: ")
    assert "is not a regular file" in by["tiny-notes"] and "`ncmec-qa corpus sync`" in by["tiny-html"]


def drifted(tiny_corpus) -> None:
    """notes.txt holds other bytes than the manifest records (no manifest update)."""
    tiny_corpus.path("tiny-notes").write_text(NOTES_TXT + "\nThe registry keeps every report for ninety days.\n")


def test_a_drifted_document_is_indexed_and_marked_in_every_answer(tiny_corpus, tmp_path):
    drifted(tiny_corpus)
    index_dir = tmp_path / "index"
    open_workspace(tiny_corpus, index_dir).build()
    code, st = status(tiny_corpus, index_dir)
    assert code == 3 and kinds(st) == {"tiny-notes": {"drift"}}
    args = location_args(tiny_corpus, index_dir)
    r = run_cli([*args, "ask", KEEP_QUESTION, "--json", "--min-confidence", "0"])
    a = json.loads(r.stdout)
    assert r.exit_code == 0 and a["answered"] and "tiny-notes" in {s["source_id"] for s in a["sources"]}
    note = (
        "tiny-notes was indexed from a file whose sha256 differs from the manifest's record (drift): its quotes "
        "are from the file as found, not the recorded edition; `ncmec-qa corpus check` explains"
    )
    assert a["warnings"][0] == note
    r = run_cli([*args, "ask", KEEP_QUESTION, "--min-confidence", "0"])
    assert f"note: {note}" in r.stdout
    r = run_cli(
        [
            *args,
            "ask",
            "--json",
            "--min-confidence",
            "0",
            "--exclude-source",
            "tiny-notes",
            "Does an operator that never files a report pay a fine of up to $5,000 for each widget?",
        ]
    )
    assert not any("drift" in w for w in json.loads(r.stdout)["warnings"])  # only answers citing it
    # a verdict quoting it says so too (in --json, in the terminal), one that does not quote it does not
    claim = "The registry keeps every report for ninety days."
    r = run_cli([*args, "verify", claim, "--json"])
    v = json.loads(r.stdout)
    assert "tiny-notes" in {c["source_id"] for c in v["evidence"]} and v["warnings"] == [note]
    assert f"note: {note}" in run_cli([*args, "verify", claim]).stdout
    r = run_cli([*args, "verify", claim, "--json", "--exclude-source", "tiny-notes"])
    assert json.loads(r.stdout)["warnings"] == []


def test_a_document_turned_into_a_symlink_loop_is_named_by_the_builds_path_rule(tiny_corpus, tmp_path):
    """`index status` hashes the files by the build's rule (`resolve_inside`): a file replaced by a symlink
    loop after the build is one problem, named, exit 3."""
    index_dir = tmp_path / "index"
    open_workspace(tiny_corpus, index_dir).build()
    notes = tiny_corpus.path("tiny-notes")
    notes.unlink()
    notes.symlink_to(notes.name)  # points at itself
    code, st = status(tiny_corpus, index_dir)
    assert code == 3 and kinds(st) == {"tiny-notes": {"missing"}}
    (doc,) = st["documents"]
    assert doc["detail"].startswith("indexed, but the file cannot resolve the path: "), doc


# -- the build lock -----------------------------------------------------------------------------------------


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCMEC_QA_")}
    return {**env, "PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1"}


def build_cmd(tiny_corpus, index_dir) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ncmec_qa",
        *map(str, location_args(tiny_corpus, index_dir)),
        "index",
        "build",
        "--full",
        "--model",
        FAKE_MODEL,
    ]


def test_a_second_build_fails_fast_in_one_line_or_waits_with_a_message(fake_ws, tiny_corpus):
    index_dir = fake_ws.paths.index
    with build_lock(index_dir):
        r = subprocess.run(
            build_cmd(tiny_corpus, index_dir),
            env={**cli_env(), "NCMEC_QA_BUILD_WAIT": "0"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 3, r.stderr
        lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("indexing ")]
        assert lines == [
            f"Error: another build (pid {os.getpid()}) is writing {index_dir}; wait for it to finish "
            "(or set NCMEC_QA_BUILD_WAIT to a number of seconds to wait)"
        ]
        with pytest.raises(IndexBusy, match=r"still holds .*\.build\.lock after 0 s"):
            with build_lock(index_dir, wait=0.01):
                pass
        p = subprocess.Popen(
            build_cmd(tiny_corpus, index_dir),
            env={**cli_env(), "NCMEC_QA_BUILD_WAIT": "60"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)
        assert p.poll() is None  # still waiting
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert f"waiting for another build (pid {os.getpid()}) to finish, up to 60 s (NCMEC_QA_BUILD_WAIT sets it)…" in err


def test_two_builds_started_together_both_finish_and_the_index_is_whole(tiny_corpus, tmp_path):
    """Without the lock, the first build's prune deleted the second's folder ("disk I/O error")."""
    bulk = "\n\n".join(
        f"Widget office {i} filed {i * 7} reports in spring. The auditors counted {i * 3} late "
        f"ones. Office {i} keeps its ledger for {i % 12 + 1} months."
        for i in range(1500)
    )
    tiny_corpus.add("tiny-bulk", "bulk.txt", bulk.encode(), "text")  # a build of a few seconds: they overlap
    index_dir = tmp_path / "index"
    procs = []
    for _ in range(2):
        procs.append(
            subprocess.Popen(
                build_cmd(tiny_corpus, index_dir),
                env=cli_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        time.sleep(0.05)
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err
    assert any("waiting for another build" in err for _, err in results)
    gens = [p.name for p in index_dir.iterdir() if p.name.startswith("gen-")]
    assert gens == [current_generation(index_dir).name]
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".tmp-")]
    assert verify_generation(index_dir, tiny_corpus.docs).problems == []


def test_prune_spares_a_live_builds_folder_and_removes_a_dead_ones(fake_ws, tiny_corpus):
    index_dir = fake_ws.paths.index
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = index_dir / f".tmp-gen-20990101T000000-aaaaaaaa.pid{os.getpid()}"
    gone = index_dir / f".tmp-gen-20990101T000000-bbbbbbbb.pid{dead.pid}"
    for d in (live, gone):
        d.mkdir()
        (d / "store.sqlite").write_bytes(b"half written")
    open_workspace(tiny_corpus, index_dir).build(full=True)
    assert live.is_dir() and not gone.exists()


# -- a stdin session across a rebuild -------------------------------------------------------------------------


def test_library_session_reloads_a_new_generation(fake_ws, tiny_corpus):
    before = fake_ws.index.generation
    assert "ninety days" in fake_ws.search("how long does the registry keep every report", k=1)[0].passage.text
    tiny_corpus.rewrite("tiny-notes", NEW_NOTES.encode())
    open_workspace(tiny_corpus, fake_ws.paths.index).build()
    hits = fake_ws.search("how long does the registry keep every report", k=3)
    assert fake_ws.index.generation != before
    assert any("seven years" in h.passage.text for h in hits)
    assert fake_ws.notes == [
        f"the index was rebuilt ({before} → {fake_ws.index.generation}); answering from the new one"
    ]
    assert fake_ws.refresh() is False  # nothing new: one readlink, no reload


def test_ask_stdin_session_answers_from_the_rebuilt_index(fake_ws, tiny_corpus):
    index_dir = fake_ws.paths.index
    before = Index(index_dir)
    old_gen = before.generation
    before.close()
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ncmec_qa",
            *map(str, location_args(tiny_corpus, index_dir)),
            "ask",
            "-",
            "--json",
            "--min-confidence",
            "0",
        ],
        env=cli_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        p.stdin.write(KEEP_QUESTION + "\n")
        p.stdin.flush()
        first = json.loads(p.stdout.readline())
        tiny_corpus.rewrite("tiny-notes", NEW_NOTES.encode())
        open_workspace(tiny_corpus, index_dir).build()
        p.stdin.write(KEEP_QUESTION.replace("ninety days", "seven years") + "\n")
        p.stdin.close()
        second = json.loads(p.stdout.readline())
        err = p.stderr.read()
        assert p.wait(timeout=60) == 0, err
    finally:
        p.kill()
        p.wait()
        for f in (p.stdin, p.stdout, p.stderr):
            f.close()
    texts = lambda a: " ".join(x["text"] for x in a["passages"])  # noqa: E731
    assert "ninety days" in texts(first) and "seven years" not in texts(first)
    assert "seven years" in texts(second) and "ninety days" not in texts(second)
    new_gen = current_generation(index_dir).name
    assert f"note: the index was rebuilt ({old_gen} → {new_gen}); answering from the new one" in err


def test_a_killed_build_leaves_no_lock_behind(tmp_path):
    index_dir = tmp_path / "index"
    code = (
        "import sys, time\nfrom pathlib import Path\nfrom ncmec_qa.index.buildlock import build_lock\n"
        f"with build_lock(Path({str(index_dir)!r})):\n    print('held', flush=True)\n    time.sleep(120)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], env=cli_env(), stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    with pytest.raises(IndexBusy, match=rf"another build \(pid {p.pid}\)"):
        with build_lock(index_dir, wait=0):
            pass
    p.kill()
    p.wait()
    p.stdout.close()
    with build_lock(index_dir, wait=5):  # the kernel released it with the process
        assert owner(index_dir) == f"pid {os.getpid()}"
    assert owner(index_dir) == "unknown pid"  # the owner record goes with the lock
