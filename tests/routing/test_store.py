"""Saved routing models: versions, manifest, atomic switch, refusal of another embedder."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from routing.cold_start import CharterIndex
from routing.errors import RoutingModelCorrupt, RoutingModelMismatch
from routing.memory import TicketMemory
from routing.staged import RoutingModel
from routing.store import (
    FORMAT_VERSION,
    MODEL_FILE,
    VERSIONS,
    current_version_dir,
    load_routing_model,
    save_routing_model,
)


def _model(model_id: str = "fake", teams: tuple[str, ...] = ("a", "b")) -> RoutingModel:
    memory = TicketMemory(
        ticket_ids=list(range(len(teams))),
        external_ids=[f"T{i}" for i in range(len(teams))],
        titles=[f"title {i}" for i in range(len(teams))],
        teams=list(teams),
        vectors=np.eye(len(teams), 4, dtype=np.float32),
    )
    return RoutingModel(model_id, CharterIndex(), memory)


def test_round_trip_with_manifest(tmp_path: Path) -> None:
    manifest = save_routing_model(tmp_path, _model(), metrics={"accuracy": 0.9})
    assert manifest.model_id == "fake"
    assert manifest.tickets == 2
    assert manifest.teams == {"a": 1, "b": 1}
    assert manifest.stage == "vote"
    loaded = load_routing_model(tmp_path, expected_model_id="fake")
    assert loaded is not None
    model, again = loaded
    assert again == manifest
    assert model.memory.teams == ["a", "b"]


def test_nothing_saved_yet_loads_none(tmp_path: Path) -> None:
    assert load_routing_model(tmp_path, expected_model_id="fake") is None


def test_model_of_another_embedder_is_refused(tmp_path: Path) -> None:
    save_routing_model(tmp_path, _model("other-model"))
    with pytest.raises(RoutingModelMismatch, match="other-model"):
        load_routing_model(tmp_path, expected_model_id="fake")


def test_tampered_file_is_refused(tmp_path: Path) -> None:
    save_routing_model(tmp_path, _model())
    version = current_version_dir(tmp_path)
    assert version is not None
    (version / MODEL_FILE).write_bytes(b"not the model")
    with pytest.raises(RoutingModelCorrupt, match="checksum"):
        load_routing_model(tmp_path, expected_model_id="fake")


def test_crash_while_saving_keeps_the_previous_version_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_routing_model(tmp_path, _model(teams=("a", "b")))
    before = current_version_dir(tmp_path)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pickle, "dump", crash)
    with pytest.raises(OSError, match="disk full"):
        save_routing_model(tmp_path, _model(teams=("a", "b", "c")))
    assert current_version_dir(tmp_path) == before
    leftovers = [p.name for p in (tmp_path / VERSIONS).iterdir() if p.name.startswith(".")]
    assert leftovers == []
    loaded = load_routing_model(tmp_path, expected_model_id="fake")
    assert loaded is not None
    assert loaded[0].memory.teams == ["a", "b"]


def test_old_versions_are_pruned(tmp_path: Path) -> None:
    for _ in range(4):
        save_routing_model(tmp_path, _model(), keep=2)
    versions = sorted(p.name for p in (tmp_path / VERSIONS).iterdir())
    assert len(versions) == 2
    current = current_version_dir(tmp_path)
    assert current is not None
    assert current.name == versions[-1]


def test_manifest_of_a_newer_format_is_skipped_not_reported_corrupt(tmp_path: Path) -> None:
    save_routing_model(tmp_path, _model())
    version = current_version_dir(tmp_path)
    assert version is not None
    manifest_path = version / "manifest.json"
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    data.update(format_version=FORMAT_VERSION + 1, a_field_from_the_future=[1, 2])
    manifest_path.write_text(json.dumps(data), encoding="utf-8")
    assert load_routing_model(tmp_path, expected_model_id="fake") is None  # retrain, no error
