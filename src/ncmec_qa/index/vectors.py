"""Vector search behind one small interface; the index type follows corpus size.

Up to `flat_max` vectors: exact inner-product search with numpy over the memory-mapped
`vectors.npy` (no faiss import on the query path, which costs about 0.4 s). Above it:
an inverted file (faiss IndexIVFFlat, inner product; nlist about 4·√n, trained on a
sample) read memory-mapped, searched with `nprobe` lists, chosen by bench/latency.py
for recall@10 of 0.98 or more against exact search. (HNSW was the other candidate:
it takes far longer to build on two cores and cannot be memory-mapped.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

FLAT_MAX = 100_000
NPROBE = 48
TRAIN_SAMPLE = 100_000
FAISS_FILE = "vectors.faiss"


class VectorIndex(Protocol):
    kind: dict[str, Any]

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(rowid starting at 1, inner product) of the k nearest vectors, best first."""
        ...


def choose_kind(n: int, params: dict[str, Any]) -> dict[str, Any]:
    flat_max = int(params.get("flat_max", FLAT_MAX))
    if n <= flat_max:
        return {"type": "flat", "flat_max": flat_max}
    return {
        "type": "ivf",
        "flat_max": flat_max,
        "nlist": int(params.get("nlist", max(64, int(4 * n**0.5)))),
        "nprobe": int(params.get("nprobe", NPROBE)),
    }


def build_vector_index(vectors: np.ndarray, folder: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Write whatever the chosen index type needs beside `vectors.npy`; return its description."""
    kind = choose_kind(len(vectors), params)
    if kind["type"] == "ivf":
        import faiss

        d = vectors.shape[1]
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, kind["nlist"], faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = vectors[np.sort(rng.choice(len(vectors), min(len(vectors), TRAIN_SAMPLE), replace=False))]
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
        for i in range(0, len(vectors), 100_000):
            index.add(np.ascontiguousarray(vectors[i : i + 100_000], dtype=np.float32))
        faiss.write_index(index, str(folder / FAISS_FILE))
    return kind


def top_k(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    k = min(k, len(scores))
    if k <= 0:
        return []
    idx = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return [(int(i) + 1, float(scores[i])) for i in idx]


@dataclass
class FlatIndex:
    vectors: np.ndarray
    kind: dict[str, Any]

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        return top_k(np.asarray(self.vectors @ query.astype(np.float32).ravel()), k)


@dataclass
class FaissIndex:
    index: Any
    kind: dict[str, Any]

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        k = min(k, self.index.ntotal)
        if k <= 0:
            return []
        scores, ids = self.index.search(q, k)
        return [(int(i) + 1, float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]


def open_vector_index(folder: Path, vectors: np.ndarray, kind: dict[str, Any]) -> VectorIndex:
    if kind.get("type") == "ivf":
        import faiss

        path = folder / FAISS_FILE
        if not path.is_file():
            from ..errors import IndexCorrupt

            raise IndexCorrupt(f"index at {folder} is missing {FAISS_FILE}; rebuild with `ncmec-qa index build`")
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        index.nprobe = int(kind.get("nprobe", NPROBE))
        return FaissIndex(index, kind)
    return FlatIndex(vectors, kind)
