"""The search's second dense model: its passage vectors and a candidate's standing by it.

multilingual-e5-small ranks across German and English; all-MiniLM-L6-v2 is blind across
languages but reads English paraphrases better. Where query and document are English, the
fused ranking takes the mean of both models' standings (index.fusion.confidence_fusion);
on the three English retrieval sets that lifted nDCG@10 by 0.020 (FAQ questions), 0.040
and 0.010 (duplicate bug reports), and left the German and cross-lingual sets untouched
(docs/BENCHMARKS.md, issue 17). Only English passages carry a second vector.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from index.embedder import Vectors


class SecondVectors:
    """Second-model vectors of passages, by passage id, grouped by their document."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self._vectors: dict[int, Vectors] = {}
        self._doc_of: dict[int, str] = {}
        self._passages: dict[str, set[int]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    def add(self, passages: Mapping[int, tuple[str, Vectors]]) -> None:
        """Passage id -> (its document's key, its normalised vector)."""
        with self._lock:
            for passage_id, (doc_key, vector) in passages.items():
                self._vectors[passage_id] = np.asarray(vector, dtype=np.float32)
                self._doc_of[passage_id] = doc_key
                self._passages.setdefault(doc_key, set()).add(passage_id)

    def remove(self, passage_ids: Iterable[int]) -> None:
        with self._lock:
            for passage_id in passage_ids:
                if self._vectors.pop(passage_id, None) is None:
                    continue
                doc_key = self._doc_of.pop(passage_id)
                members = self._passages[doc_key]
                members.discard(passage_id)
                if not members:
                    del self._passages[doc_key]

    def cosines(self, query: Vectors, doc_keys: Sequence[str]) -> dict[str, float]:
        """Each given document's best passage cosine to the query; documents without a
        second vector are left out."""
        with self._lock:
            keys = [key for key in doc_keys if key in self._passages]
            if not keys:
                return {}
            owners: list[int] = []
            rows: list[Vectors] = []
            for position, key in enumerate(keys):
                for passage_id in self._passages[key]:
                    owners.append(position)
                    rows.append(self._vectors[passage_id])
        scores = np.stack(rows) @ np.asarray(query, dtype=np.float32).reshape(-1)
        best = np.full(len(keys), -np.inf)
        np.maximum.at(best, np.asarray(owners), scores)
        return {key: float(value) for key, value in zip(keys, best, strict=True)}
