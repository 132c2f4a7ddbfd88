"""Trained routing models on disk: a directory per version, a manifest, an atomic CURRENT."""

from __future__ import annotations

import json
import pickle
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.versioned_dirs import VersionedDirs, sha256_file
from routing.errors import RoutingModelCorrupt, RoutingModelMismatch
from routing.staged import RoutingModel

FORMAT_VERSION = 2  # 2: the classifier may use a second embedding model
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
    second_model_id: str | None = None
    format_version: int = FORMAT_VERSION
    # The change log's state the training read (routing.shared.training_state): a replica
    # finding the shared model trained on the data as it is does not train it again.
    trained_on: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoutingManifest:
        """Fields this version does not know are ignored: a newer format is then refused
        by its `format_version` (and retrained), not reported as a corrupt file."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


# Where classes of a saved model lived in earlier layouts, and where they live now: a
# model saved before the routing package left `app/` still loads, without a retrain.
MOVED_MODULES = {"app.routing": "routing"}


class _MovedModulesUnpickler(pickle.Unpickler):
    """Reads pickles that name a module by its path before a move."""

    def find_class(self, module: str, name: str) -> Any:
        for old, new in MOVED_MODULES.items():
            if module == old or module.startswith(old + "."):
                module = new + module[len(old) :]
        return super().find_class(module, name)


def _store(root: Path) -> VersionedDirs:
    return VersionedDirs(root, VERSIONS)


def current_version_dir(root: Path) -> Path | None:
    return _store(root).current()


def read_routing_manifest(version_dir: Path) -> RoutingManifest:
    try:
        data = json.loads((version_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        return RoutingManifest.from_json(data)
    except (OSError, ValueError, TypeError) as exc:
        raise RoutingModelCorrupt(f"Unreadable routing manifest in {version_dir}: {exc}") from exc


def save_routing_model(
    root: Path,
    model: RoutingModel,
    *,
    metrics: dict[str, Any] | None = None,
    keep: int = 2,
    trained_on: str | None = None,
) -> RoutingManifest:
    """Write the model to a new version directory, then switch CURRENT to it atomically.

    A reader or a crash sees the previous version or the new one, whole, never a mix.
    """
    trained_at = datetime.now(UTC)
    with _store(root).new_version(trained_at) as staging:
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
            checksum=sha256_file(model_path),
            metrics=metrics or {},
            second_model_id=model.second_model_id,
            trained_on=trained_on,
        )
        (staging / MANIFEST_FILE).write_text(
            json.dumps(asdict(manifest), indent=2), encoding="utf-8"
        )
    prune_versions(root, keep=keep)
    return manifest


def prune_versions(root: Path, *, keep: int) -> None:
    """Delete all but the newest `keep` versions; never the current one."""
    _store(root).prune(keep=keep)


def load_routing_model(
    root: Path, *, expected_model_id: str, expected_second_model_id: str | None = None
) -> tuple[RoutingModel, RoutingManifest] | None:
    """The current routing model, or None when none was trained yet.

    Raises RoutingModelMismatch when it was trained on another embedding model (its
    vectors would mean nothing), or its classifier on another second model than the
    configured one, and RoutingModelCorrupt when its file fails the checksum. Leftovers of
    killed trainings are removed first.
    """
    _store(root).remove_leftovers()
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
    if manifest.stage == "classifier" and manifest.second_model_id != expected_second_model_id:
        raise RoutingModelMismatch(
            f"The routing classifier in {version_dir} was trained with second model "
            f"{manifest.second_model_id!r}, but the configured one is "
            f"{expected_second_model_id!r}. Run `stellwerk routing train`."
        )
    model_path = version_dir / MODEL_FILE
    if not model_path.exists() or sha256_file(model_path) != manifest.checksum:
        raise RoutingModelCorrupt(
            f"The routing model file in {version_dir} does not match its manifest checksum. "
            "Run `stellwerk routing train`."
        )
    # Only files we wrote ourselves are unpickled, after their checksum matched the manifest.
    try:
        with model_path.open("rb") as handle:
            model = _MovedModulesUnpickler(handle).load()
    except (pickle.UnpicklingError, ImportError, AttributeError, EOFError, TypeError) as exc:
        # Classes renamed or removed since it was saved: the next training replaces it.
        raise RoutingModelCorrupt(
            f"The routing model in {version_dir} cannot be read by this version ({exc}). "
            "It is retrained."
        ) from exc
    if not isinstance(model, RoutingModel):
        raise RoutingModelCorrupt(f"{model_path} does not hold a routing model.")
    return model, manifest
