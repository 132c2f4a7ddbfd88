"""Index snapshots on disk: a directory per build, a manifest, and an atomic CURRENT pointer."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.dense import DenseIndex, IndexKind
from index.errors import SnapshotCorrupt, SnapshotMismatch
from index.lexical import LexicalIndex
from index.versioned_dirs import VersionedDirs, sha256_file

# 3: lexical terms analysed with the stop words of the `stop-words` package and scikit-learn
# (issue 17); an older snapshot indexed other words, so it is rebuilt from the database.
FORMAT_VERSION = 3
SNAPSHOTS = "snapshots"
INDEX_FILE = "dense.faiss"
LEXICAL_FILE = "lexical.npz"
MANIFEST_FILE = "manifest.json"
# Snapshots written before the engine was recorded were all embedded by torch.
UNRECORDED_ENGINE = "torch"
# Engines whose vectors may be searched by each other's queries: ONNX fp32 reproduces torch
# (cosine 1.0000), and int8 queries on an fp32 index rank as well as on an int8 index
# (bench/encode_speed.py and the mixed retrieval runs in docs/BENCHMARKS.md).
INTERCHANGEABLE_ENGINES = frozenset({"torch", "onnx", "onnx-int8"})

log = logging.getLogger("stellwerk.index")


@dataclass(frozen=True)
class Manifest:
    """What a snapshot holds and how it was built."""

    model_id: str
    dim: int
    count: int
    index_kind: IndexKind
    watermark: int
    built_at: str
    checksum: str
    lexical_checksum: str
    format_version: int = FORMAT_VERSION
    engine: str = UNRECORDED_ENGINE  # what embedded the vectors (index.embedder.ENGINES)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        return cls(**data)


def _store(root: Path) -> VersionedDirs:
    return VersionedDirs(root, SNAPSHOTS)


def current_snapshot_dir(root: Path) -> Path | None:
    return _store(root).current()


def read_manifest(snapshot_dir: Path) -> Manifest:
    try:
        data = json.loads((snapshot_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        return Manifest.from_json(data)
    except (OSError, ValueError, TypeError) as exc:
        raise SnapshotCorrupt(f"Unreadable manifest in {snapshot_dir}: {exc}") from exc


def write_snapshot(
    root: Path,
    index: DenseIndex,
    lexical: LexicalIndex,
    *,
    model_id: str,
    engine: str,
    watermark: int,
    keep: int = 2,
    extra: dict[str, Any] | None = None,
) -> Manifest:
    """Write both indexes as a new snapshot and make it current in one atomic step.

    Files go to a fresh directory first and are fsynced; only then the CURRENT pointer is
    replaced, so a reader (or a crash) sees either the old snapshot or the new one, whole.
    """
    built_at = datetime.now(UTC)
    with _store(root).new_version(built_at) as staging:
        index_path = staging / INDEX_FILE
        index.save(index_path)
        lexical_path = staging / LEXICAL_FILE
        lexical.save(lexical_path)
        manifest = Manifest(
            model_id=model_id,
            dim=index.dim,
            count=len(index),
            index_kind=index.kind,
            watermark=watermark,
            built_at=built_at.isoformat(),
            checksum=sha256_file(index_path),
            lexical_checksum=sha256_file(lexical_path),
            engine=engine,
            extra=extra or {},
        )
        (staging / MANIFEST_FILE).write_text(
            json.dumps(asdict(manifest), indent=2), encoding="utf-8"
        )
    prune_snapshots(root, keep=keep)
    return manifest


def prune_snapshots(root: Path, *, keep: int) -> None:
    """Delete all but the newest `keep` snapshots; never the current one."""
    _store(root).prune(keep=keep)


def engines_compatible(snapshot_engine: str, query_engine: str) -> bool:
    """Whether queries embedded by `query_engine` may search vectors of `snapshot_engine`."""
    if snapshot_engine == query_engine:
        return True
    return {snapshot_engine, query_engine} <= INTERCHANGEABLE_ENGINES


def load_snapshot(
    root: Path, *, expected_model_id: str, expected_dim: int, expected_engine: str
) -> tuple[DenseIndex, LexicalIndex, Manifest] | None:
    """Load the current snapshot, or None if there is none yet (or only an older format).

    Raises SnapshotMismatch when it was built by another model (or by an engine whose vectors
    were not measured interchangeable with the configured one) and SnapshotCorrupt when its
    files do not match the manifest. Leftovers of killed writers are removed first.
    """
    _store(root).remove_leftovers()
    snapshot_dir = current_snapshot_dir(root)
    if snapshot_dir is None:
        return None
    try:
        raw = json.loads((snapshot_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SnapshotCorrupt(f"Unreadable manifest in {snapshot_dir}: {exc}") from exc
    if raw.get("format_version") != FORMAT_VERSION:
        return None  # written by an older version: rebuilt from the database
    manifest = read_manifest(snapshot_dir)
    if manifest.model_id != expected_model_id or manifest.dim != expected_dim:
        raise SnapshotMismatch(
            f"The index in {snapshot_dir} was built with model {manifest.model_id!r} "
            f"(dimension {manifest.dim}), but the configured model is {expected_model_id!r} "
            f"(dimension {expected_dim}). Run `stellwerk index rebuild` to re-embed."
        )
    if not engines_compatible(manifest.engine, expected_engine):
        raise SnapshotMismatch(
            f"The index in {snapshot_dir} was embedded by engine {manifest.engine!r}, but the "
            f"configured engine is {expected_engine!r}, whose vectors are not known to match. "
            "Set STELLWERK_EMBEDDING_ENGINE back, or run `stellwerk index rebuild` to re-embed."
        )
    if manifest.engine != expected_engine:
        log.info(
            "snapshot embedded by %s, queries by %s: measured interchangeable",
            manifest.engine,
            expected_engine,
        )
    index_path = snapshot_dir / INDEX_FILE
    if not index_path.exists() or sha256_file(index_path) != manifest.checksum:
        raise SnapshotCorrupt(
            f"The index file in {snapshot_dir} does not match its manifest checksum. "
            "Run `stellwerk index rebuild`."
        )
    lexical_path = snapshot_dir / LEXICAL_FILE
    if not lexical_path.exists() or sha256_file(lexical_path) != manifest.lexical_checksum:
        raise SnapshotCorrupt(
            f"The lexical index in {snapshot_dir} does not match its manifest checksum. "
            "Run `stellwerk index rebuild`."
        )
    index = DenseIndex.load(index_path, manifest.index_kind)
    lexical = LexicalIndex.load(lexical_path)
    if len(index) != manifest.count or len(lexical) != manifest.count:
        raise SnapshotCorrupt(
            f"{snapshot_dir} holds {len(index)} vectors and {len(lexical)} lexical entries, "
            f"manifest says {manifest.count}. Run `stellwerk index rebuild`."
        )
    return index, lexical, manifest
