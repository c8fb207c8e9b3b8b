"""Vector search behind one small interface; the index type follows corpus size.

Up to `flat_max` vectors: exact inner-product search (faiss IndexFlatIP, memory-mapped
from disk). Above it: HNSW (faiss IndexHNSWFlat, inner product) with parameters that
keep recall@10 at 0.98 or more against exact search (see bench/latency.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FLAT_MAX = 100_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 128


def choose_kind(n: int, params: dict[str, Any]) -> dict[str, Any]:
    flat_max = int(params.get("flat_max", FLAT_MAX))
    if n <= flat_max:
        return {"type": "flat", "flat_max": flat_max}
    return {
        "type": "hnsw",
        "flat_max": flat_max,
        "m": int(params.get("m", HNSW_M)),
        "ef_construction": int(params.get("ef_construction", HNSW_EF_CONSTRUCTION)),
        "ef_search": int(params.get("ef_search", HNSW_EF_SEARCH)),
    }


def build_vector_index(vectors: np.ndarray, path: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Build the faiss index for `vectors` (normalised float32 rows) and write it to `path`."""
    import faiss

    kind = choose_kind(len(vectors), params)
    d = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else int(params.get("dimension", 1))
    if kind["type"] == "flat":
        index = faiss.IndexFlatIP(d)
    else:
        index = faiss.IndexHNSWFlat(d, kind["m"], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = kind["ef_construction"]
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(index, str(path))
    return kind


@dataclass
class VectorIndex:
    index: Any
    kind: dict[str, Any]

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(rowid starting at 1, inner product) of the k nearest vectors."""
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        k = min(k, self.index.ntotal)
        if k <= 0:
            return []
        scores, ids = self.index.search(q, k)
        return [(int(i) + 1, float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]


def open_vector_index(path: Path, vectors: np.ndarray, kind: dict[str, Any]) -> VectorIndex:
    import faiss

    if path.is_file():
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if kind.get("type") == "flat" else 0
        index = faiss.read_index(str(path), flags)
    else:  # older or partial folders: rebuild an exact index in memory from the vectors
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    if kind.get("type") == "hnsw":
        index.hnsw.efSearch = int(kind.get("ef_search", HNSW_EF_SEARCH))
    return VectorIndex(index, kind)
