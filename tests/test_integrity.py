"""Index integrity: what a build records, `index verify`, the checks at open, forged quotes never shown,
damaged ONNX encoder / tokenizer / vectors / meta.json / FTS table as one line and exit 3. Fake embedder;
the ONNX encoder is a tiny one written here (a lookup table in ONNX, a word-level tokenizer)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from conftest import FAKE_MODEL, HANDBOOK_MD, NOTES_TXT, location_args, open_workspace, run_cli

from ncmec_qa.errors import IndexCorrupt
from ncmec_qa.index import integrity
from ncmec_qa.index.store import Index, current_generation

KEEP_QUESTION = "Does the registry keep every report for ninety days?"
FORGED_CLAIM = "The registry keeps every report for ten years."
FIX = "rebuild with `ncmec-qa index build --full`"


def gen_of(ws) -> Path:
    if "index" in ws.__dict__:
        ws.index.close()
        ws.__dict__.pop("index")
    return current_generation(ws.paths.index)


def replace_meta(gen: Path, change) -> None:
    meta = json.loads((gen / "meta.json").read_text())
    change(meta)
    (gen / "meta.json").write_text(json.dumps(meta))


def one_error_line(result, *parts: str) -> str:
    assert result.exit_code == 3, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("Error: ") and "Traceback" not in result.output, lines[0]
    for p in parts:
        assert p in lines[0], (p, lines[0])
    return lines[0]


# -- the tiny ONNX encoder ------------------------------------------------------------------------------


def write_tiny_encoder(gen: Path, dim: int = 64) -> dict:
    """encoder/encoder.opt.onnx (last_hidden_state = a lookup of each word piece's row) and tokenizer.json,
    and the meta.json entry a build would write for them. Returns that entry."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    out = gen / "encoder"
    out.mkdir()
    words = ["[PAD]", "[UNK]", *sorted(set(re.findall(r"\w+", (NOTES_TXT + HANDBOOK_MD).lower())))]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(out / "tokenizer.json"))
    table = np.random.default_rng(0).standard_normal((len(words), dim)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"], axis=0)],
        "tiny",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", dim])],
        initializer=[numpy_helper.from_array(table, "table")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    onnx.save(model, str(out / "encoder.opt.onnx"))
    f = out / "encoder.opt.onnx"
    entry = {
        "dir": "encoder",
        "model_path": "tiny",
        "query": "fp32",
        "files": {
            "fp32": {
                "file": f.name,
                "sha256": integrity.sha256_file(f),
                "bytes": f.stat().st_size,
                "min_cosine": 1.0,
                "threshold": 0.999,
                "usable": True,
            }
        },
        "tokenizer_sha256": integrity.sha256_file(out / "tokenizer.json"),
    }
    replace_meta(gen, lambda m: m.update(encoder=entry))
    return entry


@pytest.fixture
def onnx_ws(fake_ws, tiny_corpus):
    """The tiny corpus's index with the tiny ONNX encoder as its query encoder."""
    gen = gen_of(fake_ws)
    write_tiny_encoder(gen)
    ws = open_workspace(tiny_corpus, fake_ws.paths.index)
    assert ws.query_embedder.name == "onnx:fp32"  # the fast path is really in use
    return ws


# -- what a build records ----------------------------------------------------------------------------------


def test_build_records_sha256_shapes_and_document_texts(fake_ws):
    idx = fake_ws.index
    rec = idx.meta["integrity"]
    assert set(rec["files"]) == {"store.sqlite", "vectors.npy", "sentence_vectors.npy"}
    for name, e in rec["files"].items():
        assert e["sha256"] == integrity.sha256_file(idx.path / name) and e["bytes"] == (idx.path / name).stat().st_size
    assert rec["files"]["vectors.npy"]["shape"] == [idx.size, 64]
    assert rec["files"]["sentence_vectors.npy"]["dtype"] == "float32"
    assert rec["document_texts"] == {d.source_id: integrity.sha256_text(d.text) for d in idx.documents()}
    cache = json.loads((idx.path / integrity.CACHE).read_text())  # the build leaves every file verified
    assert set(cache) == set(rec["files"])


def test_a_build_refuses_nan_vectors(tiny_corpus, tmp_path, monkeypatch):
    from ncmec_qa.index.embedding import FakeEmbedder

    real = FakeEmbedder.encode
    monkeypatch.setattr(FakeEmbedder, "encode", lambda self, t, progress=None: real(self, t) * np.float32("nan"))
    with pytest.raises(ValueError, match="NaN or infinite"):
        open_workspace(tiny_corpus, tmp_path / "index").build()
    assert current_generation(tmp_path / "index") is None


def test_index_verify_passes_on_a_fresh_build(fake_ws, tiny_corpus):
    r = run_cli([*location_args(tiny_corpus, fake_ws.paths.index), "index", "verify"])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip().endswith("6 document files checked; no problems")
    rep = json.loads(run_cli([*location_args(tiny_corpus, fake_ws.paths.index), "index", "verify", "--json"]).stdout)
    assert rep["ok"] is True and rep["problems"] == [] and rep["checked"]["passages"] == fake_ws.index.size


# -- forged quotes -------------------------------------------------------------------------------------


def forge(gen: Path, old: str = "ninety days", new: str = "ten years", documents: bool = False) -> None:
    db = sqlite3.connect(gen / "store.sqlite")
    n = db.execute("UPDATE passages SET text = replace(text, ?, ?) WHERE text LIKE ?", (old, new, f"%{old}%")).rowcount
    if documents:
        db.execute("UPDATE documents SET text = replace(text, ?, ?)", (old, new))
    db.commit()
    db.close()
    assert n > 0


def test_forged_passage_is_caught_by_index_verify(fake_ws, tiny_corpus):
    gen = gen_of(fake_ws)
    forge(gen)
    r = run_cli([*location_args(tiny_corpus, fake_ws.paths.index), "index", "verify"])
    assert r.exit_code == 3
    lines = r.stdout.strip().splitlines()
    assert f"{gen / 'store.sqlite'}: sha256 differs from the build's record; {FIX}" in lines
    assert any(
        re.fullmatch(
            rf"{re.escape(str(gen / 'store.sqlite'))}: passage tiny-notes:\d+-\d+ is not the text of "
            rf"tiny-notes at its offsets \d+-\d+; {re.escape(FIX)}",
            line,
        )
        for line in lines
    ), lines
    assert lines[-1].endswith("problem(s)")


@pytest.mark.parametrize("record", [True, False], ids=["with-record", "record-removed"])
def test_forged_passage_is_never_quoted_by_ask_or_verify(fake_ws, tiny_corpus, record):
    """The store's sha256 catches the edit; with the record removed too, the passage is still checked
    against its document's text at its offsets before anything quotes it."""
    gen = gen_of(fake_ws)
    forge(gen)
    if not record:
        replace_meta(gen, lambda m: m.pop("integrity"))
    args = location_args(tiny_corpus, fake_ws.paths.index)
    what = "sha256 differs from the build's record" if record else "is not the text of tiny-notes at its offsets"
    for cmd in (["ask", KEEP_QUESTION], ["verify", FORGED_CLAIM], ["search", "ten years"]):
        r = run_cli([*args, *cmd])
        one_error_line(r, str(gen / "store.sqlite"), what, FIX)
        assert "ten years" not in r.stdout
    with pytest.raises(IndexCorrupt):
        open_workspace(tiny_corpus, fake_ws.paths.index).ask(KEEP_QUESTION)


def test_forged_passage_and_document_text_together_are_caught(fake_ws, tiny_corpus):
    gen = gen_of(fake_ws)
    forge(gen, documents=True)
    replace_meta(gen, lambda m: m["integrity"]["files"].pop("store.sqlite"))  # only the text hashes remain
    r = run_cli([*location_args(tiny_corpus, fake_ws.paths.index), "ask", KEEP_QUESTION])
    one_error_line(r, "the text of document tiny-notes differs from the build's record")
    r = run_cli([*location_args(tiny_corpus, fake_ws.paths.index), "index", "verify", "--json"])
    problems = json.loads(r.stdout)["problems"]
    assert r.exit_code == 3 and any("the text of document tiny-notes differs" in p for p in problems)


# -- damage: one line, exit 3, no traceback ---------------------------------------------------------------


def _meta_list(gen):
    (gen / "meta.json").write_text("[1, 2, 3]")


def _drop_fts(gen):
    db = sqlite3.connect(gen / "store.sqlite")
    db.execute("DROP TABLE passages_fts")
    db.commit()
    db.close()


def _random_vectors(gen):
    size = (gen / "vectors.npy").stat().st_size
    (gen / "vectors.npy").write_bytes(np.random.default_rng(1).bytes(size))


def _random_vector_data(gen):
    """Random bytes after an intact header: np.load reads it, only the sha256 tells."""
    v = np.load(gen / "vectors.npy")
    np.save(gen / "vectors.npy", np.random.default_rng(2).random(v.shape, dtype=np.float32))


def _nan_vectors(gen):
    v = np.load(gen / "sentence_vectors.npy")
    v[3, 5] = np.nan
    np.save(gen / "sentence_vectors.npy", v)


def _no_meta_counts(gen):
    replace_meta(gen, lambda m: m.pop("counts"))


DAMAGE = {
    "meta-is-a-list": (_meta_list, "meta.json", "is a JSON list, not an object"),
    "meta-without-counts": (_no_meta_counts, "meta.json", "has no 'counts'"),
    "fts-table-dropped": (_drop_fts, "store.sqlite", "has no table passages_fts"),
    "vectors-random-bytes": (_random_vectors, "vectors.npy", "is damaged"),
    "vectors-random-data": (_random_vector_data, "vectors.npy", "sha256 differs from the build's record"),
    "nan-vectors": (_nan_vectors, "sentence_vectors.npy", "(it holds NaN or infinite values)"),
}


@pytest.mark.parametrize("name", list(DAMAGE))
def test_damaged_index_is_one_line_and_exit_3(fake_ws, tiny_corpus, name):
    damage, file, what = DAMAGE[name]
    gen = gen_of(fake_ws)
    damage(gen)
    args = location_args(tiny_corpus, fake_ws.paths.index)
    for cmd in (["ask", KEEP_QUESTION], ["search", "widget"]):
        one_error_line(run_cli([*args, *cmd]), file, what, "rebuild")
    r = run_cli([*args, "index", "verify", "--no-documents"])
    assert r.exit_code == 3 and file in r.stdout and "Traceback" not in r.output, r.output


def _truncate(f: Path):
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


def _flip_bit(f: Path):
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x10
    f.write_bytes(bytes(data))


def _garble_tokenizer(f: Path):
    f.write_text(f.read_text().replace('"unk_token"', '"unk_tokem"'))


@pytest.mark.parametrize(
    "file,damage,what",
    [
        ("encoder.opt.onnx", _truncate, "bytes, the build recorded"),
        ("encoder.opt.onnx", _flip_bit, "sha256 differs from the build's record"),
        ("tokenizer.json", _garble_tokenizer, "sha256 differs from the build's record"),
    ],
    ids=["onnx-truncated", "onnx-bit-flipped", "tokenizer-damaged"],
)
def test_damaged_encoder_is_one_line_and_exit_3(onnx_ws, tiny_corpus, file, damage, what):
    gen = onnx_ws.index.path
    assert onnx_ws.search("widget report", k=3)  # works before the damage
    damage(gen / "encoder" / file)
    if file == "encoder.opt.onnx" and damage is _flip_bit:  # the flipped weights load: only the sha256 tells
        from ncmec_qa.index.onnx_encoder import OnnxEncoder

        OnnxEncoder(gen / "encoder" / file, gen / "encoder" / "tokenizer.json").encode(["widget"])
    args = location_args(tiny_corpus, onnx_ws.paths.index)
    one_error_line(run_cli([*args, "ask", KEEP_QUESTION]), str(gen / "encoder" / file), what, FIX)
    r = run_cli([*args, "index", "verify", "--no-documents"])
    assert r.exit_code == 3 and f"{gen / 'encoder' / file}: " in r.stdout, r.output


def test_encoder_sha256_is_checked_once_then_cached(onnx_ws, monkeypatch):
    gen = onnx_ws.index.path
    onnx_ws.embed_query("widget")
    calls = []
    real = integrity.sha256_file
    monkeypatch.setattr(integrity, "sha256_file", lambda p: calls.append(Path(p).name) or real(p))
    ws2 = open_workspace_like(onnx_ws)
    ws2.embed_query("widget")
    assert calls == []  # cached by inode, size and mtime
    (gen / "encoder" / "tokenizer.json").write_bytes((gen / "encoder" / "tokenizer.json").read_bytes())  # new mtime
    open_workspace_like(onnx_ws).embed_query("widget")
    assert calls == ["tokenizer.json"]


def open_workspace_like(ws):
    from ncmec_qa.workspace import Workspace

    return Workspace(ws.paths, model=FAKE_MODEL)


def test_a_damaged_previous_encoder_is_exported_again_not_passed_on(onnx_ws, tmp_path, monkeypatch):
    from ncmec_qa.index import query_encoder

    prev = onnx_ws.index.path
    entry = onnx_ws.index.meta["encoder"]
    exported = []
    monkeypatch.setattr(query_encoder, "_export", lambda mp, out, log: exported.append(out) or False)
    logs: list[str] = []
    new = tmp_path / "new-gen"
    new.mkdir()
    assert query_encoder.export_for_index(Path("tiny"), new, [], np.zeros((0, 64)), prev, entry, logs.append) == entry
    assert exported == []  # intact: reused by hard links
    _flip_bit(prev / "encoder" / "encoder.opt.onnx")
    new2 = tmp_path / "new-gen-2"
    new2.mkdir()
    assert query_encoder.export_for_index(Path("tiny"), new2, [], np.zeros((0, 64)), prev, entry, logs.append) == {}
    assert exported == [new2 / "encoder"]
    assert "the previous index's ONNX encoder differs from its record; exporting it again" in logs


def test_open_checks_cost_stat_calls_not_hashing(fake_ws):
    """The cheap check at open: with the files verified once, opening hashes nothing."""
    gen = gen_of(fake_ws)
    before = (gen / integrity.CACHE).read_text()
    idx = Index(fake_ws.paths.index)
    try:
        assert idx.vectors.shape[0] == idx.size and idx.sentence_vectors.shape[1] == 64
        assert idx.passages([1, 2])
    finally:
        idx.close()
    assert (gen / integrity.CACHE).read_text() == before
