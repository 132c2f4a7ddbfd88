"""A deterministic fake embedder for fast unit tests (never the only proof of a feature)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from index.embedder import Vectors

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Bag of hashed words and word prefixes: texts sharing words get similar vectors."""

    def __init__(self, dim: int = 64, model_id: str = "fake-hashing-64") -> None:
        self._dim = dim
        self._model_id = model_id
        self.encoded_documents = 0
        self.encoded_queries = 0

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def engine(self) -> str:
        return "fake"

    @property
    def dim(self) -> int:
        return self._dim

    def _vector(self, text: str) -> Vectors:
        vector = np.zeros(self._dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            for feature in (word, word[:5]):
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                slot = int.from_bytes(digest[:4], "little") % self._dim
                sign = 1.0 if digest[4] & 1 else -1.0
                vector[slot] += sign
        norm = float(np.linalg.norm(vector))
        if norm == 0:
            vector[0] = 1.0
            return vector
        return vector / norm

    def _encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return np.vstack([self._vector(t) for t in texts]).astype(np.float32)

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        self.encoded_documents += len(texts)
        return self._encode(texts)

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        self.encoded_queries += len(texts)
        return self._encode(texts)

    def encode_query_with_documents(
        self, query: str, documents: Sequence[str]
    ) -> tuple[Vectors, Vectors]:
        return self.encode_queries([query])[0], self.encode_documents(documents)


class RoleEmbedder(HashingEmbedder):
    """Reads a text differently as a question and as a passage, as e5's prefixes do."""

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return super().encode_queries([f"question {t}" for t in texts])

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        return super().encode_documents([f"passage {t}" for t in texts])
