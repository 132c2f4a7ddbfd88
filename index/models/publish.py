"""Atomic publishing of a built model folder: temp sibling, marker file last, rename into place."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from index.models.errors import BundledModelError
from index.versioned_dirs import fsync_path

MARKER_FILE: Final = ".complete"
_STALE_TEMP_SECONDS: Final = 3600.0


def is_complete(folder: Path, marker: str) -> bool:
    """Whether ``folder`` was published whole by a build whose marker content is ``marker``."""
    try:
        return (folder / MARKER_FILE).read_text(encoding="utf-8") == marker
    except OSError:
        return False


def publish(target: Path, marker: str, build: Callable[[Path], None]) -> None:
    """Let ``build`` fill a temporary sibling of ``target``, then move it into place.

    The marker file is written last, so a folder without the right marker is never trusted;
    concurrent callers are safe (the loser discards its copy).
    """
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_dirs(parent, target.name)
    with _temporary_dir(parent, target.name) as tmp:
        build(tmp)
        tmp.chmod(0o755)  # mkdtemp creates it private
        fsync_path(tmp)
        write_synced(tmp / MARKER_FILE, marker)  # last: marks the folder as complete
        fsync_path(tmp)
        _move_into_place(tmp, target, marker)


def write_synced(path: Path, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8) to ``path`` and fsync it."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


@contextmanager
def _temporary_dir(parent: Path, name: str) -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # no-op once renamed into place


def _move_into_place(tmp: Path, target: Path, marker: str) -> None:
    """Atomically move the finished ``tmp`` to ``target``; keep an existing complete copy."""
    for _ in range(3):
        try:
            tmp.replace(target)  # fails if target is a non-empty directory
        except OSError:
            if is_complete(target, marker):
                return  # another process won the race; caller discards tmp
            # An incomplete or outdated folder (not written by this code path): move it aside.
            trash = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent)
            )
            try:
                target.replace(trash / "old")
            except FileNotFoundError:
                pass
            finally:
                shutil.rmtree(trash, ignore_errors=True)
            continue
        fsync_path(target.parent)
        return
    raise BundledModelError(f"could not move the built model into place at {target}")


def _remove_stale_temp_dirs(parent: Path, name: str) -> None:
    """Delete temp dirs left behind by crashed builds (untouched for an hour)."""
    cutoff = time.time() - _STALE_TEMP_SECONDS
    for pattern in (f".{name}.*.tmp", f".{name}.*.old"):
        for leftover in parent.glob(pattern):
            try:
                if leftover.stat().st_mtime < cutoff:
                    shutil.rmtree(leftover, ignore_errors=True)
            except OSError:
                continue
