"""Snapshots: atomic switch, model and engine check, corruption check, pruning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.dense import DenseIndex
from index.errors import SnapshotCorrupt, SnapshotMismatch
from index.lexical import LexicalIndex
from index.snapshot import (
    INDEX_FILE,
    LEXICAL_FILE,
    MANIFEST_FILE,
    SNAPSHOTS,
    current_snapshot_dir,
    engines_compatible,
    load_snapshot,
    write_snapshot,
)


def _indexes(count: int) -> tuple[DenseIndex, LexicalIndex]:
    rng = np.random.default_rng(count)
    vectors = rng.normal(size=(count, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = DenseIndex(8)
    index.add(np.arange(count, dtype=np.int64), vectors)
    lexical = LexicalIndex()
    lexical.add_many((i, f"passage number {i} about printers") for i in range(count))
    return index, lexical


def test_round_trip_with_manifest(tmp_path: Path) -> None:
    manifest = write_snapshot(tmp_path, *_indexes(5), model_id="m", engine="onnx", watermark=42)
    assert (manifest.count, manifest.dim, manifest.watermark) == (5, 8, 42)
    loaded = load_snapshot(tmp_path, expected_model_id="m", expected_dim=8, expected_engine="onnx")
    assert loaded is not None
    index, lexical, read_back = loaded
    assert len(index) == 5
    assert lexical.search("printers", 10)[0][1] > 0
    assert len(lexical) == 5
    assert read_back == manifest


def test_no_snapshot_yet(tmp_path: Path) -> None:
    assert (
        load_snapshot(tmp_path, expected_model_id="m", expected_dim=8, expected_engine="onnx")
        is None
    )


def test_snapshot_of_another_model_is_refused_with_advice(tmp_path: Path) -> None:
    write_snapshot(tmp_path, *_indexes(3), model_id="all-minilm-l6-v2", engine="onnx", watermark=1)
    with pytest.raises(SnapshotMismatch, match="stellwerk index rebuild"):
        load_snapshot(
            tmp_path,
            expected_model_id="multilingual-e5-small",
            expected_dim=8,
            expected_engine="onnx",
        )


def test_tampered_index_file_is_detected(tmp_path: Path) -> None:
    write_snapshot(tmp_path, *_indexes(3), model_id="m", engine="onnx", watermark=1)
    snapshot = current_snapshot_dir(tmp_path)
    assert snapshot is not None
    with (snapshot / INDEX_FILE).open("ab") as handle:
        handle.write(b"garbage")
    with pytest.raises(SnapshotCorrupt):
        load_snapshot(tmp_path, expected_model_id="m", expected_dim=8, expected_engine="onnx")


def test_tampered_lexical_file_is_detected(tmp_path: Path) -> None:
    write_snapshot(tmp_path, *_indexes(3), model_id="m", engine="onnx", watermark=1)
    snapshot = current_snapshot_dir(tmp_path)
    assert snapshot is not None
    with (snapshot / LEXICAL_FILE).open("ab") as handle:
        handle.write(b"garbage")
    with pytest.raises(SnapshotCorrupt, match="lexical"):
        load_snapshot(tmp_path, expected_model_id="m", expected_dim=8, expected_engine="onnx")


def test_new_snapshot_replaces_pointer_and_old_ones_are_pruned(tmp_path: Path) -> None:
    for count in (1, 2, 3, 4):
        write_snapshot(
            tmp_path, *_indexes(count), model_id="m", engine="onnx", watermark=count, keep=2
        )
    remaining = [p for p in (tmp_path / SNAPSHOTS).iterdir() if not p.name.startswith(".")]
    assert len(remaining) == 2
    loaded = load_snapshot(tmp_path, expected_model_id="m", expected_dim=8, expected_engine="onnx")
    assert loaded is not None
    assert loaded[2].watermark == 4


def test_failed_write_leaves_the_previous_snapshot_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_snapshot(tmp_path, *_indexes(3), model_id="m", engine="onnx", watermark=1)
    before = current_snapshot_dir(tmp_path)

    def explode(self: DenseIndex, path: Path) -> None:
        path.write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(DenseIndex, "save", explode)
    with pytest.raises(OSError, match="disk full"):
        write_snapshot(tmp_path, *_indexes(9), model_id="m", engine="onnx", watermark=2)
    assert current_snapshot_dir(tmp_path) == before
    leftovers = [p for p in (tmp_path / SNAPSHOTS).iterdir() if p.name.startswith(".")]
    assert leftovers == []
    loaded = load_snapshot(tmp_path, expected_model_id="m", expected_dim=8, expected_engine="onnx")
    assert loaded is not None
    assert loaded[2].watermark == 1


def test_the_manifest_records_the_engine(tmp_path: Path) -> None:
    write_snapshot(tmp_path, *_indexes(3), model_id="m", engine="onnx-int8", watermark=1)
    snapshot = current_snapshot_dir(tmp_path)
    assert snapshot is not None
    assert json.loads((snapshot / MANIFEST_FILE).read_text())["engine"] == "onnx-int8"


@pytest.mark.parametrize(
    ("built_by", "queried_by"), [("torch", "onnx-int8"), ("onnx-int8", "onnx")]
)
def test_measured_interchangeable_engines_share_a_snapshot(
    tmp_path: Path, built_by: str, queried_by: str
) -> None:
    write_snapshot(tmp_path, *_indexes(3), model_id="m", engine=built_by, watermark=1)
    loaded = load_snapshot(
        tmp_path, expected_model_id="m", expected_dim=8, expected_engine=queried_by
    )
    assert loaded is not None
    assert loaded[2].engine == built_by


def test_an_engine_not_measured_against_the_snapshots_is_refused_with_advice(
    tmp_path: Path,
) -> None:
    write_snapshot(tmp_path, *_indexes(3), model_id="m", engine="onnx-int4", watermark=1)
    with pytest.raises(SnapshotMismatch, match=r"onnx-int4.*stellwerk index rebuild"):
        load_snapshot(tmp_path, expected_model_id="m", expected_dim=8, expected_engine="onnx-int8")


def test_a_snapshot_from_before_engines_were_recorded_counts_as_torch(tmp_path: Path) -> None:
    write_snapshot(tmp_path, *_indexes(3), model_id="m", engine="torch", watermark=1)
    snapshot = current_snapshot_dir(tmp_path)
    assert snapshot is not None
    manifest = json.loads((snapshot / MANIFEST_FILE).read_text())
    del manifest["engine"]
    (snapshot / MANIFEST_FILE).write_text(json.dumps(manifest))
    loaded = load_snapshot(tmp_path, expected_model_id="m", expected_dim=8, expected_engine="torch")
    assert loaded is not None and loaded[2].engine == "torch"
    assert not engines_compatible("fake", "torch")
