"""Ticket vectors kept on disk between evaluation runs (`stellwerk eval routing --cache-dir`).

Encoding is the slow part of an evaluation (8,000 tickets take about 12 minutes on two
cores); the classifier fits in seconds. The cache keeps one folder per embedding model,
holding `vectors.npy` (one row per ticket) and `index.json` (the key of each row). A key is
the SHA-256 of the exact passage texts the ticket is embedded from, so a changed title,
description, chunk size or prefix is a new key and is encoded again; a different model
never shares a folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from index.embedder import Vectors
from routing.errors import DatasetError

FORMAT = 1


def ticket_key(passages: Sequence[str]) -> str:
    """The cache key of one ticket: a hash of the passage texts it is embedded from."""
    digest = hashlib.sha256()
    for text in passages:
        encoded = text.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return digest.hexdigest()


def model_folder_name(model_id: str) -> str:
    """A file-system-safe folder name that still differs for every model id."""
    readable = re.sub(r"[^A-Za-z0-9._@-]+", "_", model_id)[:80]
    return f"{readable}-{hashlib.sha256(model_id.encode('utf-8')).hexdigest()[:12]}"


@contextmanager
def folder_lock(folder: Path, *, exclusive: bool) -> Iterator[None]:
    """An advisory lock on a cache folder: readers share it, a writer holds it alone.

    A save replaces two files; without the lock a reader in another process (the CLI
    training while the service trains) could see the new vectors with the old index.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class VectorCache:
    """Vectors of one embedding model by ticket key, read at open and rewritten on save."""

    def __init__(self, directory: Path, model_id: str, dim: int) -> None:
        self.folder = directory / model_folder_name(model_id)
        self.model_id = model_id
        self.dim = dim
        self._rows: dict[str, int] = {}
        self._vectors: Vectors = np.zeros((0, dim), dtype=np.float32)
        self.hits = 0
        self.misses = 0
        self._load()

    def __len__(self) -> int:
        return len(self._rows)

    def _load(self) -> None:
        index_path, vectors_path = self.folder / "index.json", self.folder / "vectors.npy"
        if not index_path.is_file() or not vectors_path.is_file():
            return
        try:
            with folder_lock(self.folder, exclusive=False):
                index = json.loads(index_path.read_text(encoding="utf-8"))
                vectors = np.load(vectors_path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DatasetError(f"Vector cache {self.folder} is unreadable: {exc}") from exc
        keys = index.get("keys", [])
        if (
            index.get("format") != FORMAT
            or index.get("model_id") != self.model_id
            or vectors.ndim != 2
            or vectors.shape != (len(keys), self.dim)
        ):
            raise DatasetError(
                f"Vector cache {self.folder} does not match model {self.model_id} "
                f"(dimension {self.dim}); delete the folder to rebuild it."
            )
        self._rows = {key: row for row, key in enumerate(keys)}
        self._vectors = np.asarray(vectors, dtype=np.float32)

    def get(self, keys: Sequence[str]) -> dict[str, Vectors]:
        """The cached vector of every key that is cached; counts hits and misses."""
        found = {key: self._vectors[self._rows[key]] for key in keys if key in self._rows}
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put(self, keys: Sequence[str], vectors: Vectors) -> None:
        """Add vectors (row i belongs to keys[i]) and write the cache to disk."""
        new: dict[str, int] = {}
        for row, key in enumerate(keys):
            if key not in self._rows and key not in new:
                new[key] = row
        if not new:
            return
        start = len(self._rows)
        for offset, key in enumerate(new):
            self._rows[key] = start + offset
        added = np.asarray(vectors[list(new.values())], dtype=np.float32).reshape(-1, self.dim)
        self._vectors = np.vstack([self._vectors, added])
        self._save()

    def retain(self, keys: Sequence[str]) -> None:
        """Drop every vector but those of `keys`, and write the cache if that changed it."""
        wanted = set(keys)
        kept = [key for key in sorted(self._rows, key=self._rows.__getitem__) if key in wanted]
        if len(kept) == len(self._rows):
            return
        self._vectors = self._vectors[[self._rows[key] for key in kept]].reshape(-1, self.dim)
        self._rows = {key: row for row, key in enumerate(kept)}
        self._save()

    def _save(self) -> None:
        keys = sorted(self._rows, key=self._rows.__getitem__)
        vectors_tmp = self.folder / "vectors.npy.tmp"
        index_tmp = self.folder / "index.json.tmp"
        index = {"format": FORMAT, "model_id": self.model_id, "dim": self.dim, "keys": keys}
        # Under the lock, so that two writers never share the temporary files either.
        with folder_lock(self.folder, exclusive=True):
            with vectors_tmp.open("wb") as handle:
                np.save(handle, self._vectors, allow_pickle=False)
            index_tmp.write_text(json.dumps(index), encoding="utf-8")
            vectors_tmp.replace(self.folder / "vectors.npy")
            index_tmp.replace(self.folder / "index.json")
