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
import numpy.typing as npt

from index.embedder import Vectors

# Stored at half precision: a cosine moves by about 1e-4 (a float16 keeps 11 bits of each
# component), a twentieth of what the int8 engine moves it by, and 1M English passages take
# 0.77 GB instead of 1.5 GB.
STORED = np.float16


class SecondVectors:
    """Second-model vectors of passages, kept per document as one matrix (its passages'
    rows, in half precision) beside their ids, so a query scores its candidates with one
    product and each vector is held once."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self._doc_of: dict[int, str] = {}
        self._docs: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float16]]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._doc_of)

    def nbytes(self) -> int:
        """Bytes held in the vectors and their ids (not the per-passage dictionary)."""
        with self._lock:
            return sum(ids.nbytes + rows.nbytes for ids, rows in self._docs.values())

    def add(self, passages: Mapping[int, tuple[str, Vectors]]) -> None:
        """Passage id -> (its document's key, its normalised vector); a passage given
        again replaces its vector."""
        incoming: dict[str, dict[int, Vectors]] = {}
        for passage_id, (doc_key, vector) in passages.items():
            incoming.setdefault(doc_key, {})[int(passage_id)] = vector
        with self._lock:
            self._drop([pid for pid in passages if pid in self._doc_of])
            for doc_key, members in incoming.items():
                ids = np.fromiter(members, dtype=np.int64, count=len(members))
                rows = np.stack([np.asarray(v, np.float32).reshape(-1) for v in members.values()])
                held = self._docs.get(doc_key)
                if held is not None:
                    ids = np.concatenate([held[0], ids])
                    rows = np.concatenate([held[1].astype(np.float32), rows])
                self._docs[doc_key] = (ids, rows.astype(STORED))
                for passage_id in members:
                    self._doc_of[passage_id] = doc_key

    def remove(self, passage_ids: Iterable[int]) -> None:
        with self._lock:
            self._drop(passage_ids)

    def _drop(self, passage_ids: Iterable[int]) -> None:
        gone: dict[str, set[int]] = {}
        for passage_id in passage_ids:
            doc_key = self._doc_of.pop(passage_id, None)
            if doc_key is not None:
                gone.setdefault(doc_key, set()).add(passage_id)
        for doc_key, dropped in gone.items():
            ids, rows = self._docs[doc_key]
            keep = ~np.isin(ids, np.fromiter(dropped, dtype=np.int64, count=len(dropped)))
            if keep.any():
                self._docs[doc_key] = (ids[keep], rows[keep])
            else:
                del self._docs[doc_key]

    def cosines(self, query: Vectors, doc_keys: Sequence[str]) -> dict[str, float]:
        """Each given document's best passage cosine to the query; documents without a
        second vector are left out."""
        with self._lock:
            keys = [key for key in doc_keys if key in self._docs]
            matrices = [self._docs[key][1] for key in keys]
        if not keys:
            return {}
        starts = np.cumsum([0] + [len(m) for m in matrices[:-1]])
        stacked = np.concatenate(matrices).astype(np.float32)
        scores = stacked @ np.asarray(query, dtype=np.float32).reshape(-1)
        best = np.maximum.reduceat(scores, starts)
        return {key: float(value) for key, value in zip(keys, best, strict=True)}
