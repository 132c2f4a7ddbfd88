"""Trained routing models on disk: a directory per version, a manifest, an atomic CURRENT."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.routing.errors import RoutingModelCorrupt, RoutingModelMismatch
from app.routing.staged import RoutingModel

FORMAT_VERSION = 1
POINTER = "CURRENT"
VERSIONS = "versions"
MODEL_FILE = "model.pickle"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class RoutingManifest:
    """What a saved routing model is and how it was trained."""

    model_id: str
    trained_at: str
    stage: str
    tickets: int
    teams: dict[str, int]
    charters: list[str]
    checksum: str
    metrics: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoutingManifest:
        return cls(**data)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_version_dir(root: Path) -> Path | None:
    pointer = root / POINTER
    if not pointer.exists():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    return root / VERSIONS / name if name else None


def read_routing_manifest(version_dir: Path) -> RoutingManifest:
    try:
        data = json.loads((version_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        return RoutingManifest.from_json(data)
    except (OSError, ValueError, TypeError) as exc:
        raise RoutingModelCorrupt(f"Unreadable routing manifest in {version_dir}: {exc}") from exc


def save_routing_model(
    root: Path, model: RoutingModel, *, metrics: dict[str, Any] | None = None, keep: int = 2
) -> RoutingManifest:
    """Write the model to a new version directory, then switch CURRENT to it atomically.

    A reader or a crash sees the previous version or the new one, whole, never a mix.
    """
    versions = root / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    trained_at = datetime.now(UTC)
    name = f"{trained_at:%Y%m%dT%H%M%S%fZ}-{os.getpid()}"
    staging = Path(tempfile.mkdtemp(prefix=".training-", dir=versions))
    try:
        model_path = staging / MODEL_FILE
        with model_path.open("wb") as handle:
            pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
        manifest = RoutingManifest(
            model_id=model.model_id,
            trained_at=trained_at.isoformat(),
            stage=model.stage,
            tickets=len(model.memory),
            teams=dict(sorted(model.memory.team_counts.items())),
            charters=model.charters.teams,
            checksum=_sha256(model_path),
            metrics=metrics or {},
        )
        manifest_path = staging / MANIFEST_FILE
        manifest_path.write_text(json.dumps(asdict(manifest), indent=2), encoding="utf-8")
        for path in (model_path, manifest_path):
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        staging.rename(versions / name)
        _fsync(versions)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pointer_tmp = root / f".{POINTER}.{os.getpid()}.tmp"
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    with pointer_tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    pointer_tmp.replace(root / POINTER)
    _fsync(root)
    prune_versions(root, keep=keep)
    return manifest


def prune_versions(root: Path, *, keep: int) -> None:
    """Delete all but the newest `keep` versions; never the current one."""
    versions = root / VERSIONS
    if not versions.exists():
        return
    current = current_version_dir(root)
    finished = sorted(
        (p for p in versions.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    for old in finished[:-keep] if keep > 0 else finished:
        if current is not None and old.resolve() == current.resolve():
            continue
        shutil.rmtree(old, ignore_errors=True)


def load_routing_model(
    root: Path, *, expected_model_id: str
) -> tuple[RoutingModel, RoutingManifest] | None:
    """The current routing model, or None when none was trained yet.

    Raises RoutingModelMismatch when it was trained on another embedding model (its
    vectors would mean nothing) and RoutingModelCorrupt when its file fails the checksum.
    """
    version_dir = current_version_dir(root)
    if version_dir is None:
        return None
    manifest = read_routing_manifest(version_dir)
    if manifest.format_version != FORMAT_VERSION:
        return None  # an older format: the next training replaces it
    if manifest.model_id != expected_model_id:
        raise RoutingModelMismatch(
            f"The routing model in {version_dir} was trained on embeddings of "
            f"{manifest.model_id!r}, but the configured model is {expected_model_id!r}. "
            "Run `stellwerk routing train` after `stellwerk index rebuild`."
        )
    model_path = version_dir / MODEL_FILE
    if not model_path.exists() or _sha256(model_path) != manifest.checksum:
        raise RoutingModelCorrupt(
            f"The routing model file in {version_dir} does not match its manifest checksum. "
            "Run `stellwerk routing train`."
        )
    # Only files we wrote ourselves are unpickled, after their checksum matched the manifest.
    with model_path.open("rb") as handle:
        model = pickle.load(handle)  # noqa: S301
    if not isinstance(model, RoutingModel):
        raise RoutingModelCorrupt(f"{model_path} does not hold a routing model.")
    return model, manifest
