"""Versions of derived state on disk: a directory per version and an atomic CURRENT pointer.

Index snapshots and trained routing models share this layout. A version is written into a
hidden staging directory, fsynced, renamed into place, and only then does CURRENT point to
it; a reader or a crash sees the previous version or the new one, whole, never a mix.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

POINTER = "CURRENT"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_path(path: Path) -> None:
    """fsync a file or a directory (a directory makes renames inside it durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class VersionedDirs:
    """`root/<versions>/<name>/...` plus `root/CURRENT` naming the version in use."""

    def __init__(self, root: Path, versions: str) -> None:
        self.root = root
        self.versions = root / versions

    def current(self) -> Path | None:
        pointer = self.root / POINTER
        if not pointer.exists():
            return None
        name = pointer.read_text(encoding="utf-8").strip()
        return self.versions / name if name else None

    @contextmanager
    def new_version(self, stamp: datetime) -> Iterator[Path]:
        """Yield a staging directory to fill; on success it becomes the current version.

        On an exception the staging directory is removed and CURRENT is left alone.
        """
        self.versions.mkdir(parents=True, exist_ok=True)
        name = f"{stamp:%Y%m%dT%H%M%S%fZ}-{os.getpid()}"
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.versions))
        try:
            yield staging
            for path in staging.iterdir():
                fsync_path(path)
            staging.rename(self.versions / name)
            fsync_path(self.versions)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        pointer_tmp = self.root / f".{POINTER}.{os.getpid()}.tmp"
        pointer_tmp.write_text(name + "\n", encoding="utf-8")
        fsync_path(pointer_tmp)
        pointer_tmp.replace(self.root / POINTER)
        fsync_path(self.root)

    def prune(self, *, keep: int) -> None:
        """Delete all but the newest `keep` versions; never the current one."""
        if not self.versions.exists():
            return
        current = self.current()
        finished = sorted(
            (p for p in self.versions.iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.name,
        )
        for old in finished[:-keep] if keep > 0 else finished:
            if current is not None and old.resolve() == current.resolve():
                continue
            shutil.rmtree(old, ignore_errors=True)
