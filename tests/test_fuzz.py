"""Property tests (hypothesis) over the loaders, the chunker and the manifest reader.

What must hold for any input: a loader returns a Document or raises LoadError (nothing else); a
block lies in the text, and every passage and sentence is an exact, trimmed slice of it; passages are in
order and every non-whitespace character of a non-heading block stands in some sentence; the
manifest reader returns or raises ManifestError, never anything else, and what it writes it reads
back unchanged. Runs are derandomized (the same examples every run, so CI is reproducible); set
NCMEC_QA_FUZZ=explore to search with fresh random examples, many more of them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import string

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ncmec_qa.corpus.manifest import Manifest, dumps, load_manifest, save_manifest
from ncmec_qa.corpus.manifest_schema import FIELDS, check_document
from ncmec_qa.errors import LoadError, ManifestError
from ncmec_qa.ingest import LOADERS, load_document
from ncmec_qa.ingest._util import paragraphs
from ncmec_qa.ingest.chunking import ChunkConfig, chunk_document
from ncmec_qa.models import Block, Document, Source

settings.register_profile(
    "ci",
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "explore",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PROFILE = "explore" if os.environ.get("NCMEC_QA_FUZZ") == "explore" else "ci"
fuzz = settings.get_profile(PROFILE)

# -- inputs ---------------------------------------------------------------------------------------

# Pieces that mean something to a loader or to sentence splitting, mixed with arbitrary characters.
TOKENS = [
    "word",
    "Report",
    "U.S.C.",
    "e.g.",
    "§ 2258A",
    "(a)",
    "$5,000",
    "1,204",
    "2021",
    "90 days",
    ".",
    ". ",
    "? ",
    "!",
    ";",
    "; ",
    ":",
    ",",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\n \n",
    "\t",
    "\r\n",
    "\r",
    "#",
    "## ",
    "- ",
    "* ",
    "1. ",
    "> ",
    "|",
    " | ",
    "---",
    "```",
    "    ",
    "<",
    ">",
    "&amp;",
    '"',
    "'",
    "\\",
    "\u00a0",
    "\u2028",
    "é",
    "漢字",
    "🙂",
    "\ufeff",
    "=",
    "[",
    "]",
    "{",
    "}",
]
text_pieces = st.one_of(
    st.sampled_from(TOKENS), st.text(max_size=4), st.text(alphabet=string.ascii_letters + " .", min_size=1, max_size=30)
)
texts = st.lists(text_pieces, max_size=60).map("".join)


@st.composite
def markdown_docs(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["heading", "para", "list", "table", "fence", "quote", "raw", "blank"]))
        body = draw(texts).replace("\n", " ")
        if kind == "heading":
            lines.append("#" * draw(st.integers(1, 7)) + " " + body)
        elif kind == "list":
            lines += [f"{draw(st.sampled_from(['-', '*', '1.']))} {body}", f"  {draw(texts)}"]
        elif kind == "table":
            n = draw(st.integers(1, 3))
            lines += ["| " + " | ".join(["h"] * n) + " |", "|" + "---|" * n]
            lines += [
                "| " + " | ".join(draw(texts).replace("|", " ").replace("\n", " ") for _ in range(n)) + " |"
                for _ in range(draw(st.integers(0, 3)))
            ]
        elif kind == "fence":
            lines += ["```", draw(texts), "```"]
        elif kind == "quote":
            lines.append("> " + body)
        elif kind == "raw":
            lines.append(draw(texts))
        else:
            lines.append("")
    return "\n".join(lines)


TAGS = [
    "p",
    "div",
    "span",
    "b",
    "h1",
    "h2",
    "h3",
    "li",
    "ul",
    "table",
    "tr",
    "td",
    "th",
    "pre",
    "br",
    "script",
    "style",
    "nav",
    "header",
    "footer",
    "article",
    "section",
    "a",
    "em",
]


@st.composite
def html_docs(draw) -> str:
    def element(depth: int) -> str:
        if depth > 4 or draw(st.booleans()):
            return draw(texts).replace("<", "&lt;")
        tag = draw(st.sampled_from(TAGS))
        inner = "".join(element(depth + 1) for _ in range(draw(st.integers(0, 3))))
        close = "" if draw(st.integers(0, 9)) == 0 else f"</{tag}>"  # sometimes unclosed: real pages are
        return f"<{tag}>{inner}{close}"

    body = "".join(element(0) for _ in range(draw(st.integers(0, 4))))
    return draw(st.sampled_from(["", "<!doctype html>"])) + f"<html><body>{body}</body></html>"


cells = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + " ,.\"'\n;$%", max_size=12),
    st.integers(-(10**6), 10**6).map(str),
)


@st.composite
def csv_docs(draw) -> str:
    n = draw(st.integers(1, 4))

    def field(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n') or draw(st.booleans()) else v

    rows = [
        [field(draw(cells)) for _ in range(n + (draw(st.integers(-1, 1)) if draw(st.integers(0, 9)) == 0 else 0))]
        for _ in range(draw(st.integers(0, 6)))
    ]
    header = ",".join(field(f"col{i}") for i in range(n))
    return "\n".join([header, *(",".join(r) for r in rows)]) + draw(st.sampled_from(["", "\n", "\n\n"]))


json_keys = st.one_of(
    st.sampled_from(["rows", "columns", "year", "unit", "title", "a/b", "x~y", "", " ", "é"]), st.text(max_size=6)
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(json_keys, inner, max_size=4)),
    max_leaves=20,
)


@st.composite
def json_docs(draw) -> str:
    v = draw(json_values)
    if draw(st.booleans()):
        v = {
            "title": draw(st.text(max_size=10)),
            "columns": ["year", "n"],
            "rows": draw(st.lists(st.lists(json_scalars, max_size=3), max_size=4)),
            "extra": v,
        }
    return json.dumps(v, indent=draw(st.sampled_from([None, 1, 2])), ensure_ascii=draw(st.booleans()))


DOCS = {"text": texts, "markdown": markdown_docs(), "html": html_docs(), "csv": csv_docs(), "json": json_docs()}
EXT = {"text": "txt", "markdown": "md", "html": "html", "csv": "csv", "json": "json"}


def encoded(fmt: str):
    """The file's bytes: mostly UTF-8 of a generated document, sometimes damaged or arbitrary."""
    return st.one_of(
        DOCS[fmt].map(lambda t: t.encode("utf-8")),
        DOCS[fmt].map(lambda t: t.encode("utf-8")[: max(0, len(t) - 3)]),  # cut mid-character, mid-structure
        st.tuples(DOCS[fmt], st.binary(max_size=8)).map(lambda tb: tb[0].encode("utf-8") + tb[1]),
        st.binary(max_size=200),
    )


# -- what must hold ----------------------------------------------------------------------------------


def assert_document(doc: Document, data: bytes, fmt: str) -> None:
    assert doc.format == fmt and doc.blocks and doc.text.strip()
    if fmt != "html":  # these cite the file itself: the text is the file as decoded
        assert doc.text == data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    prev = 0
    for b in doc.blocks:
        assert 0 <= b.start < b.end <= len(doc.text), b
        assert doc.text[b.start : b.end].strip(), f"block {b} holds only whitespace"  # (a CSV row keeps its own line)
        assert b.start >= prev, f"blocks out of order at {b}"
        prev = b.start


def assert_passages(doc: Document, passages, cfg: ChunkConfig) -> None:
    ids = [p.passage_id for p in passages]
    assert len(ids) == len(set(ids)), "two passages with one id"
    in_sentences = bytearray(len(doc.text))
    last_start = -1
    for p in passages:
        assert p.passage_id == f"{doc.source_id}:{p.start}-{p.end}"
        assert 0 <= p.start < p.end <= len(doc.text)
        assert p.text == doc.text[p.start : p.end]
        assert p.start >= last_start, "passages out of order"
        last_start = p.start
        assert p.sentences and p.sentences[0].start == p.start and p.sentences[-1].end == p.end
        prev = p.start
        for s in p.sentences:
            assert s.text == doc.text[s.start : s.end] and s.text and s.text == s.text.strip(), s
            assert prev <= s.start < s.end <= p.end, (p.passage_id, s)
            prev = s.end
            in_sentences[s.start : s.end] = b"\1" * (s.end - s.start)
            if s.kind == "text":
                assert len(s.text) <= 2 * cfg.max_sentence_chars, f"a sentence of {len(s.text)} characters"
        text_units = [len(s.text) for s in p.sentences]
        assert len(p.text) <= max(cfg.max_chars, cfg.table_max_chars) + max(text_units)
    for b in doc.blocks:
        if b.kind == "heading":
            continue  # a heading with no body under it is no passage of its own
        lost = [i for i in range(b.start, b.end) if not in_sentences[i] and not doc.text[i].isspace()]
        assert not lost, f"{doc.file}: {doc.text[lost[0] : lost[0] + 20]!r} of block {b} is in no sentence"


CONFIGS = st.sampled_from(
    [
        ChunkConfig(),
        ChunkConfig(max_chars=120, max_sentence_chars=40),
        ChunkConfig(max_chars=60, overlap=0, max_sentence_chars=20, table_min_lines=2),
    ]
)


# -- loaders -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(DOCS))
def test_a_loader_returns_exact_slices_or_raises_load_error(fmt):
    @fuzz
    @given(data=encoded(fmt))
    def run(data: bytes) -> None:
        try:
            doc = LOADERS[fmt](data, "fuzz", f"fuzz.{EXT[fmt]}")  # the loader itself, without load_document's net
        except LoadError as e:
            assert str(e).startswith(f"fuzz.{EXT[fmt]}: "), e
            return
        if not doc.text.strip() or not doc.blocks:
            return  # load_document refuses these ("no text could be extracted")
        assert_document(doc, data, fmt)

    run()


@pytest.mark.parametrize("fmt", list(DOCS))
def test_load_then_chunk_gives_exact_slices_that_cover_the_text(fmt, tmp_path):
    path = tmp_path / f"fuzz.{EXT[fmt]}"

    @fuzz
    @given(data=encoded(fmt), cfg=CONFIGS)
    def run(data: bytes, cfg: ChunkConfig) -> None:
        path.write_bytes(data)
        try:
            doc = load_document(path, "fuzz", path.name, fmt)
        except LoadError as e:
            assert str(e).startswith(f"{path.name}: ") and "\n" not in str(e), e
            return
        assert_document(doc, data, fmt)
        assert_passages(doc, chunk_document(doc, cfg), cfg)

    run()


# -- the chunker on documents of any shape ------------------------------------------------------------------


@st.composite
def documents(draw) -> Document:
    text = draw(texts).replace("\r\n", "\n").replace("\r", "\n")
    spans = paragraphs(text)
    assume(spans)
    kinds = st.sampled_from(["text", "text", "text", "heading", "row", "table_header"])
    page, blocks = None, []
    if draw(st.booleans()):
        page = 1
    for s, e in spans:
        if page is not None and draw(st.integers(0, 4)) == 0:
            page += 1
        blocks.append(Block(s, e, draw(st.sampled_from(["", "A", "A > b", "C"])), page, draw(kinds)))
    return Document("fuzz", "fuzz.txt", text, tuple(blocks), draw(st.sampled_from(["text", "markdown", "csv"])))


@fuzz
@given(doc=documents(), cfg=CONFIGS)
def test_the_chunker_gives_exact_slices_that_cover_every_block(doc, cfg):
    assert_passages(doc, chunk_document(doc, cfg), cfg)


# -- the manifest reader --------------------------------------------------------------------------------------

toml_scalars = st.one_of(
    st.text(max_size=10),
    st.integers(-5, 10**6),
    st.booleans(),
    st.floats(allow_nan=False),
    st.dates(),
    st.datetimes(),
    st.sampled_from(["0" * 64, "2024", "2024-02-30", "primary", "secondary", "https://example.org/a"]),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["repository", "commit", "path", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)
records = st.dictionaries(
    st.one_of(st.sampled_from(FIELDS), st.sampled_from(["sha", "Title", "extra"])),
    toml_values,
    max_size=len(FIELDS) + 2,
)
manifests = st.fixed_dictionaries(
    {},
    optional={
        "format_version": st.sampled_from([1, 1, 1, 2, "1", True]),
        "documents": st.one_of(st.just("docs"), toml_scalars),
        "source": st.one_of(st.lists(st.one_of(records, toml_scalars), max_size=4), toml_values),
        "sourcs": toml_scalars,
    },
)


def _toml(data: dict) -> str:
    import tomlkit

    return tomlkit.dumps(data)


@fuzz
@given(data=manifests)
def test_the_manifest_reader_raises_only_manifest_errors_for_any_manifest(data, tmp_path):
    try:
        text = _toml(data)
    except Exception:  # noqa: BLE001 - a shape tomlkit cannot write (e.g. a table inside an array of scalars)
        assume(False)
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    for strict in (True, False):
        try:
            m = load_manifest(path, strict=strict)
        except ManifestError as e:
            assert "\n" not in str(e) and str(e).startswith(str(path)), e
            continue
        for s in m.sources:
            assert all(
                isinstance(getattr(s, f), str) for f in ("id", "file", "title", "publisher", "date", "format", "sha256")
            )
            assert isinstance(s.supersedes, tuple) and all(isinstance(x, str) for x in s.supersedes)
            assert s.bytes is None or (type(s.bytes) is int and s.bytes >= 0)
            assert s.kind in ("primary", "secondary")
        if strict:
            assert m.problems == ()
    _, _, problems = check_document(data)  # the schema alone, on the parsed values as they are
    assert all(p.message.startswith(("source", *data)) for p in problems)


@fuzz
@given(raw=st.one_of(st.binary(max_size=300), texts.map(str.encode)))
def test_any_bytes_as_a_manifest_are_read_or_refused_in_one_line(raw, tmp_path):
    path = tmp_path / "sources.toml"
    path.write_bytes(raw)
    for strict in (True, False):
        try:
            load_manifest(path, strict=strict)
        except ManifestError as e:
            assert "\n" not in str(e) and str(e).startswith(str(path)), e


ids = st.from_regex(r"[a-z0-9][a-z0-9.-]{0,12}", fullmatch=True)
plain = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)


@st.composite
def valid_sources(draw) -> list[Source]:
    chosen = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    out = []
    for i, sid in enumerate(chosen):
        day = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
        date = draw(st.sampled_from([day.isoformat(), day.isoformat()[:7], day.isoformat()[:4]]))
        out.append(
            Source(
                id=sid,
                file=f"f{i}.txt",
                title=draw(plain),
                publisher=draw(plain),
                date=date,
                format="text",
                sha256=draw(st.from_regex(r"[0-9a-f]{64}", fullmatch=True)),
                url=draw(st.one_of(st.none(), st.just("https://example.org/x?y=1"))),
                rights=draw(st.one_of(st.none(), plain)),
                bytes=draw(st.one_of(st.none(), st.integers(0, 10**12))),
                kind=draw(st.sampled_from(["primary", "secondary"])),
                edition=draw(st.one_of(st.none(), plain)),
                supersedes=tuple(draw(st.lists(st.sampled_from(chosen), max_size=2, unique=True))),
                superseded_by=draw(st.one_of(st.none(), st.sampled_from(chosen), st.just("a later act (2024)"))),
                retrieved_from=draw(
                    st.one_of(st.none(), st.fixed_dictionaries({"repository": plain, "commit": plain}))
                ),
            )
        )
    return out


@fuzz
@given(sources=valid_sources())
def test_what_the_manifest_writer_writes_reads_back_unchanged(sources, tmp_path):
    m = Manifest(path=tmp_path / "sources.toml", sources=tuple(sources), documents="docs")
    save_manifest(m)
    back = load_manifest(m.path)
    assert back.sources == m.sources and back.problems == ()
    assert dumps(back) == dumps(m)


@pytest.mark.parametrize(
    "value,first",
    [
        ({'"': None}, '"\\"": null'),
        ({"\u00e9": 1, "a\\b": [1, 2]}, None),
        ({"k": {"x/y": {"rows": [[1, 2]]}}}, "[1, 2]"),
    ],
)
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_json_keys_with_escapes_are_located_in_the_file(value, first, ensure_ascii):
    """Found by the fuzzing above: json-source-map names keys as spelt in the file (`\\u00e9`), so a key with
    an escape made the whole file fail as 'cannot parse as json: KeyError'."""
    text = json.dumps(value, ensure_ascii=ensure_ascii)
    doc = LOADERS["json"](text.encode(), "j", "j.json")
    assert_document(doc, text.encode(), "json")
    key = json.dumps("\u00e9", ensure_ascii=ensure_ascii)
    assert doc.text[doc.blocks[0].start : doc.blocks[0].end] == (first or f"{key}: 1")
