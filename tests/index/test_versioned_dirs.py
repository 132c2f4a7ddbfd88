"""Leftovers of killed writers: removed when their writer is gone, never while it runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.versioned_dirs import LEFTOVER_GRACE_SECONDS, VersionedDirs

HOST = socket.gethostname()


def _dead_pid() -> int:
    """The pid of a process that has exited (and was reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _staging(store: VersionedDirs, tag: str, *, age: float = 0.0) -> Path:
    store.versions.mkdir(parents=True, exist_ok=True)
    path = store.versions / f".staging-{tag}-k3j_x9q1"
    path.mkdir()
    (path / "dense.faiss").write_bytes(b"half written")
    _age(path, age)
    return path


def _pointer(store: VersionedDirs, tag: str, *, age: float = 0.0) -> Path:
    store.root.mkdir(parents=True, exist_ok=True)
    path = store.root / f".CURRENT.{tag}.tmp"
    path.write_text("20260101T000000000000Z-1\n", encoding="utf-8")
    _age(path, age)
    return path


def _age(path: Path, seconds: float) -> None:
    if seconds:
        stamp = time.time() - seconds
        os.utime(path, (stamp, stamp))


@pytest.fixture
def store(tmp_path: Path) -> VersionedDirs:
    return VersionedDirs(tmp_path / "index", "snapshots")


def test_leftovers_of_a_gone_writer_on_this_host_are_removed_at_once(
    store: VersionedDirs,
) -> None:
    dead = f"{_dead_pid()}@{HOST}"
    staging, pointer = _staging(store, dead), _pointer(store, dead)
    assert sorted(store.remove_leftovers()) == sorted([staging, pointer])
    assert not staging.exists() and not pointer.exists()


def test_a_running_writer_is_never_disturbed_however_old(store: VersionedDirs) -> None:
    alive = f"{os.getpid()}@{HOST}"
    old = 10 * LEFTOVER_GRACE_SECONDS
    staging, pointer = _staging(store, alive, age=old), _pointer(store, alive, age=old)
    assert store.remove_leftovers() == []
    assert staging.exists() and pointer.exists()


def test_unverifiable_writers_wait_for_the_grace_period(store: VersionedDirs) -> None:
    # Another host's writer, and names written before the writer was part of them.
    fresh = [
        _staging(store, f"{os.getpid()}@another-host"),
        _pointer(store, "12345"),
        store.versions / ".staging-ab12cd34",
    ]
    fresh[-1].mkdir()
    assert store.remove_leftovers() == []
    assert all(path.exists() for path in fresh)
    for path in fresh:
        _age(path, LEFTOVER_GRACE_SECONDS + 60)
    assert sorted(store.remove_leftovers()) == sorted(fresh)
    assert not any(path.exists() for path in fresh)


def test_finished_versions_and_the_pointer_are_left_alone(store: VersionedDirs) -> None:
    from datetime import UTC, datetime

    with store.new_version(datetime.now(UTC)) as staging:
        (staging / "file").write_text("x", encoding="utf-8")
        assert staging.name.startswith(f".staging-{os.getpid()}@{HOST}-")
    current = store.current()
    assert current is not None
    old = time.time() - 10 * LEFTOVER_GRACE_SECONDS
    for path in (current, store.root / "CURRENT"):
        os.utime(path, (old, old))
    assert store.remove_leftovers() == []
    assert store.current() == current and (current / "file").exists()


def test_a_new_snapshot_and_opening_the_index_remove_leftovers(tmp_path: Path) -> None:
    from index.snapshot import SNAPSHOTS, load_snapshot, write_snapshot
    from tests.index.test_snapshot import _indexes

    store = VersionedDirs(tmp_path, SNAPSHOTS)
    dead = f"{_dead_pid()}@{HOST}"
    staging, pointer = _staging(store, dead), _pointer(store, dead)
    write_snapshot(tmp_path, *_indexes(3), model_id="m", engine="onnx", watermark=1)
    assert not staging.exists() and not pointer.exists()

    untagged = store.versions / ".staging-ab12cd34"  # from before writers were named
    untagged.mkdir()
    _age(untagged, 2 * LEFTOVER_GRACE_SECONDS)
    assert (
        load_snapshot(tmp_path, expected_model_id="m", expected_dim=8, expected_engine="onnx")
        is not None
    )
    assert not untagged.exists()


def test_a_training_and_opening_the_router_remove_leftovers(tmp_path: Path) -> None:
    from routing.store import VERSIONS, load_routing_model, save_routing_model
    from tests.routing.test_store import _model

    store = VersionedDirs(tmp_path, VERSIONS)
    dead = f"{_dead_pid()}@{HOST}"
    staging, pointer = _staging(store, dead), _pointer(store, dead)
    save_routing_model(tmp_path, _model())
    assert not staging.exists() and not pointer.exists()

    pointer = _pointer(store, "4242", age=2 * LEFTOVER_GRACE_SECONDS)
    assert load_routing_model(tmp_path, expected_model_id="fake") is not None
    assert not pointer.exists()
