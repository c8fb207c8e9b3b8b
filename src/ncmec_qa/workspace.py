"""The library's front door: one object that ties manifest, documents, index and models together.

The CLI, the tests and the benchmarks all go through `Workspace`; nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

import numpy as np

from .answer.answering import AnswerConfig, answer_question, secondary_only
from .config import Paths, resolve_paths
from .corpus.manifest import Manifest, load_manifest, manifest_hash
from .errors import IndexMissing, IndexStale, ManifestError
from .index.embedding import Embedder, make_embedder
from .index.store import Index, current_name
from .ingest.chunking import ChunkConfig
from .learn.shipped import Judgment, load_judgment
from .models import Answer, Hit, Source
from .search.retrieval import RetrievalConfig, Retriever

if TYPE_CHECKING:
    from .index.index_health import DocIssue, VerifyReport
    from .index.indexer import BuildReport


@dataclass
class Workspace:
    paths: Paths
    model: str | None = None  # embedding model for builds; queries use the index's own
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    answering: AnswerConfig = field(default_factory=AnswerConfig)
    chunking: ChunkConfig = field(default_factory=ChunkConfig)
    fast_queries: bool = True  # embed queries with the index's ONNX encoder when it has one
    judgment: Judgment | None = None  # the learned models; None: those that ship with the package
    notes: list[str] = field(default_factory=list)  # one-line notes for the user (stderr)

    @classmethod
    def open(cls, corpus=None, index=None, docs=None, model=None, **kw) -> "Workspace":
        """Each location from the option given here, else the environment, the config file, the checkout
        found from the working directory, or the user data folder (config.resolve_paths)."""
        return cls(resolve_paths(corpus=corpus, index=index, docs=docs, model=model), model=model, **kw)

    # -- corpus ------------------------------------------------------------------------------
    @cached_property
    def manifest(self) -> Manifest:
        if not self.paths.manifest.exists():  # say where it was looked for, and how to name another
            raise ManifestError(self.paths.missing_manifest())
        return load_manifest(self.paths.manifest)

    @property
    def docs_dir(self) -> Path:
        fallback = self.paths.default_docs if self.paths.docs is None and not self.manifest.documents else None
        return self.manifest.docs_dir(self.paths.docs or fallback)

    # -- index -------------------------------------------------------------------------------
    def build(
        self,
        full: bool = False,
        log: Callable[[str], None] = lambda m: None,
        progress_factory=None,
        embedder: Embedder | None = None,
        vector_params=None,
        limits=None,
    ) -> "BuildReport":
        from .index.buildlock import build_lock
        from .index.indexer import build_index
        from .ingest.guard import Limits

        embedder = embedder or make_embedder(self.model or self.paths.model)
        with build_lock(self.paths.index, log=log):  # a second build waits for this one, then reuses its work
            report = build_index(
                self.manifest,
                self.docs_dir,
                self.paths.index,
                embedder,
                self.chunking,
                full=full,
                log=log,
                progress_factory=progress_factory,
                vector_params=vector_params,
                limits=limits or Limits(),
            )
        self._forget_index()
        return report

    def _forget_index(self) -> None:
        if "index" in self.__dict__:
            self.index.close()
        for name in ("index", "retriever", "query_embedder", "_doc_texts", "_sources"):
            self.__dict__.pop(name, None)

    def refresh(self) -> bool:
        """Reload the index when a build made another generation current since it was opened (one readlink;
        a long `ask -` session calls it before every question). True when it reloaded."""
        if "index" not in self.__dict__:
            return False
        name = current_name(self.paths.index)
        old = self.index.generation
        if name is None or name == old:
            return False
        self._forget_index()
        for name_ in ("manifest", "secondary_sources"):
            self.__dict__.pop(name_, None)
        self.notes.append(f"the index was rebuilt ({old} → {self.index.generation}); answering from the new one")
        return True

    @cached_property
    def index(self) -> Index:
        try:
            return Index(self.paths.index)
        except IndexMissing as e:  # say what to do here, which may first be naming a manifest
            raise IndexMissing(self.paths.missing_index()) from e

    def document_issues(self) -> list["DocIssue"]:
        """Documents skipped, changed, drifted, missing, new or removed, by sha256 of the files (index status)."""
        from .index.index_health import document_issues

        return document_issues(self.manifest, self.docs_dir, self.index.meta)

    def verify_index(self, documents: bool = True) -> "VerifyReport":
        """Everything the build recorded, recomputed (index verify); with `documents`, the files on disk too."""
        from .index.index_health import verify_generation

        try:
            return verify_generation(self.paths.index, self.docs_dir if documents else None)
        except IndexMissing as e:
            raise IndexMissing(self.paths.missing_index()) from e

    def staleness(self) -> str | None:
        """One line saying why the index does not match the manifest or model, or None."""
        meta = self.index.meta
        if self.model and meta.get("model") != self.model:
            return (
                f"index was built with model {meta.get('model')!r}, not {self.model!r}: "
                "run `ncmec-qa index build` to rebuild it with this model"
            )
        if meta.get("manifest_hash") != manifest_hash(self.manifest):
            return (
                f"index is stale: built from another version of {self.paths.manifest} "
                f"({meta.get('built_at')}); run `ncmec-qa index build` to update it"
            )
        return None

    def check_fresh(self) -> None:
        msg = self.staleness()
        if msg:
            raise IndexStale(msg)

    # -- querying ----------------------------------------------------------------------------
    @cached_property
    def query_embedder(self) -> Embedder:
        """The index's ONNX encoder when it has a usable one, else the model it was built with."""
        if self.fast_queries and not (self.model and self.model != self.index.meta.get("model")):
            from .index.query_encoder import load_query_embedder

            fast = load_query_embedder(self.index.path, self.index.meta)
            if fast is not None:
                return fast
            if not str(self.index.meta.get("model", "")).startswith("fake:"):
                self.notes.append(
                    "no usable ONNX query encoder in the index; loading sentence-transformers "
                    "(slower; `ncmec-qa index build` exports one)"
                )
        return make_embedder(self.index.meta.get("model"))

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.query_embedder.encode(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    @cached_property
    def models(self) -> Judgment:
        """The learned models in use (loaded once)."""
        return self.judgment or load_judgment()

    @cached_property
    def secondary_sources(self) -> frozenset[str]:
        return frozenset(s.id for s in self.manifest.sources if s.kind == "secondary")

    @cached_property
    def retriever(self) -> Retriever:
        ranker = self.models.ranker if self.retrieval.ranker == "learned" else None
        return Retriever(self.index, self.embed_query, self.retrieval, ranker, self.secondary_sources)

    def first_stage(self) -> Retriever:
        """A retriever for the first stage only (candidates), which needs no learned model."""
        return Retriever(
            self.index, self.embed_query, replace(self.retrieval, ranker="rules"), None, self.secondary_sources
        )

    def search(
        self, query: str, k: int = 10, sources: set[str] | None = None, exclude: set[str] | None = None
    ) -> list[Hit]:
        self.refresh()
        return self.retriever.search(query, k=k, sources=sources, exclude=exclude)

    def ask(
        self, question: str, k: int = 10, sources: set[str] | None = None, exclude: set[str] | None = None
    ) -> Answer:
        self.refresh()
        qv = self.embed_query(question)
        hits = self.retriever.search(question, k=k, sources=sources, exclude=exclude, qv=qv)
        learned = self.answering.selection == "learned"
        a = answer_question(
            question,
            hits,
            self.sources(),
            lambda p: self.retriever.sentence_cosines(qv, p),
            self.answering,
            models=self.models if learned else None,
            doc_text=self.document_text,
            terms=self.retriever.query_terms(question) if learned else None,
        )
        if self.answering.check_against and secondary_only(a):
            found = self.primary_nearest(question, [s.text for s in a.answer], qv, sources, exclude)
            a = replace(a, check_against=tuple(found))
        return self.mark_drift(a)

    def primary_nearest(
        self,
        question: str,
        quotes: list[str],
        qv: np.ndarray | None = None,
        sources: set[str] | None = None,
        exclude: set[str] | None = None,
    ) -> list[Hit]:
        """The primary passages nearest `question` and each of `quotes` (secondary quotes to check), taken in
        turn, each once, `answering.check_against` of them; within `sources` and outside `exclude`. Each keeps
        the score of the search that found it."""
        from .search.retrieval import interleave

        k = self.answering.check_against
        leave_out = (exclude or set()) | self.secondary_sources
        if sources is not None and not sources - leave_out:
            return []
        rankings = [self.retriever.search(question, k=k, sources=sources, exclude=leave_out, qv=qv)]
        rankings += [self.retriever.search(t, k=k, sources=sources, exclude=leave_out) for t in quotes]
        return interleave(rankings, k, cap=False)  # each passage with its score for what found it

    def drift_notes(self, source_ids: Iterable[str]) -> list[str]:
        """A note for each of `source_ids` (in order, once) indexed from a file whose sha256 differs from the
        manifest's record."""
        from .index.index_health import drift_note

        indexed = self.index.meta.get("documents") or {}
        sources = self.sources()
        return [
            drift_note(sid)
            for sid in dict.fromkeys(source_ids)
            if sid in sources and indexed.get(sid) not in (None, sources[sid].sha256)
        ]

    def mark_drift(self, a: Answer) -> Answer:
        """An answer quoting a document indexed from a file that differs from the manifest's sha256 says so."""
        notes = self.drift_notes(c.source.id for c in a.sources)
        return replace(a, warnings=(*notes, *a.warnings)) if notes else a

    def document_text(self, source_id: str) -> str | None:
        """A document's extracted text (the text every offset refers to), read once per workspace."""
        cache = self.__dict__.setdefault("_doc_texts", {})
        if source_id not in cache:
            cache[source_id] = self.index.document_text(source_id)
        return cache[source_id]

    def sources(self) -> dict[str, Source]:
        return dict(self._sources)

    @cached_property
    def _sources(self) -> dict[str, Source]:
        """Manifest records by id, with a bare record for anything indexed but no longer listed."""
        known = self.manifest.by_id()
        for sid, file, fmt, sha in self.index.document_records():
            if sid not in known:
                known[sid] = Source(sid, file, sid, "(not in the manifest)", "", fmt, sha)
        return known
