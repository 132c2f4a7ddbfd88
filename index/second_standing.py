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
    """Second-model vectors of passages, kept per document as one matrix (its passages'
    rows), so a query scores its candidates with one product."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self._doc_of: dict[int, str] = {}
        self._passages: dict[str, dict[int, Vectors]] = {}
        self._matrices: dict[str, Vectors] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._doc_of)

    def add(self, passages: Mapping[int, tuple[str, Vectors]]) -> None:
        """Passage id -> (its document's key, its normalised vector)."""
        with self._lock:
            touched = set()
            for passage_id, (doc_key, vector) in passages.items():
                self._doc_of[passage_id] = doc_key
                members = self._passages.setdefault(doc_key, {})
                members[passage_id] = np.asarray(vector, dtype=np.float32)
                touched.add(doc_key)
            self._restack(touched)

    def remove(self, passage_ids: Iterable[int]) -> None:
        with self._lock:
            touched = set()
            for passage_id in passage_ids:
                doc_key = self._doc_of.pop(passage_id, None)
                if doc_key is not None:
                    self._passages[doc_key].pop(passage_id, None)
                    touched.add(doc_key)
            self._restack(touched)

    def _restack(self, doc_keys: Iterable[str]) -> None:
        for doc_key in doc_keys:
            members = self._passages.get(doc_key)
            if members:
                self._matrices[doc_key] = np.stack(list(members.values()))
            else:
                self._passages.pop(doc_key, None)
                self._matrices.pop(doc_key, None)

    def cosines(self, query: Vectors, doc_keys: Sequence[str]) -> dict[str, float]:
        """Each given document's best passage cosine to the query; documents without a
        second vector are left out."""
        with self._lock:
            keys = [key for key in doc_keys if key in self._matrices]
            matrices = [self._matrices[key] for key in keys]
        if not keys:
            return {}
        starts = np.cumsum([0] + [len(m) for m in matrices[:-1]])
        scores = np.concatenate(matrices) @ np.asarray(query, dtype=np.float32).reshape(-1)
        best = np.maximum.reduceat(scores, starts)
        return {key: float(value) for key, value in zip(keys, best, strict=True)}
