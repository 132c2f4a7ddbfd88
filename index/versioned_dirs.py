"""Versions of derived state on disk: a directory per version and an atomic CURRENT pointer.

Index snapshots and trained routing models share this layout. A version is written into a
hidden staging directory, fsynced, renamed into place, and only then does CURRENT point to
it; a reader or a crash sees the previous version or the new one, whole, never a mix.

A writer that is killed leaves its staging directory (`.staging-<pid>@<host>-*`) or its
pointer file (`.CURRENT.<pid>@<host>.tmp`) behind. `remove_leftovers` (run by every new
version and when a store is opened) deletes those whose writer is gone: the process named
in the name is no longer running on this host, or, when the writer cannot be checked (another
host, a name from before the pid was written into it), the leftover is older than the grace
period. A writer that is still running is never disturbed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

POINTER = "CURRENT"
STAGING_PREFIX = ".staging-"
# Leftovers of a writer that cannot be checked are removed after this long; a version is
# written in seconds (the slow work, embedding or training, happens before its staging).
LEFTOVER_GRACE_SECONDS = 3600.0


def _writer_tag() -> str:
    """`<pid>@<host>`: which process writes a staging directory or a pointer file."""
    return f"{os.getpid()}@{socket.gethostname()}"


def _process_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # running, as another user
        return True
    except OSError:
        return True  # cannot tell: treat as running, the grace period decides
    return True


def _writer_gone(tag: str) -> bool | None:
    """True/False when the writer `<pid>@<host>` runs here and is gone/running; None when
    it cannot be checked (another host, or no tag in the name)."""
    pid, at, host = tag.partition("@")
    if not at or not pid.isdigit() or host != socket.gethostname():
        return None
    return not _process_running(int(pid))


def _leftover_writer(name: str) -> str | None:
    """The writer tag in a leftover's name, '' when it has none, None when not a leftover."""
    if name.startswith(STAGING_PREFIX):
        rest = name[len(STAGING_PREFIX) :]
        tag, dash, _ = rest.rpartition("-")
        return tag if dash and "@" in tag else ""
    if name.startswith(f".{POINTER}.") and name.endswith(".tmp"):
        return name[len(POINTER) + 2 : -len(".tmp")]
    return None


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
        self.remove_leftovers()
        name = f"{stamp:%Y%m%dT%H%M%S%fZ}-{os.getpid()}"
        staging = Path(
            tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{_writer_tag()}-", dir=self.versions)
        )
        try:
            yield staging
            for path in staging.iterdir():
                fsync_path(path)
            staging.rename(self.versions / name)
            fsync_path(self.versions)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        pointer_tmp = self.root / f".{POINTER}.{_writer_tag()}.tmp"
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

    def remove_leftovers(
        self, *, grace_seconds: float = LEFTOVER_GRACE_SECONDS, now: float | None = None
    ) -> list[Path]:
        """Delete staging directories and pointer files of killed writers; returns them.

        One whose writer runs on this host is removed once that process is gone, and kept
        while it runs, however old; one whose writer cannot be checked is removed once its
        modification time is older than `grace_seconds`. Errors (a read-only folder, a
        leftover removed by another process first) are ignored: cleaning is best effort.
        """
        now = time.time() if now is None else now
        removed: list[Path] = []
        candidates = [
            path
            for folder in (self.versions, self.root)
            if folder.is_dir()
            for path in folder.iterdir()
        ]
        for path in candidates:
            tag = _leftover_writer(path.name)
            if tag is None or (path.parent == self.root and path.is_dir()):
                continue
            gone = _writer_gone(tag)
            if gone is None:
                try:
                    gone = now - path.stat().st_mtime > grace_seconds
                except OSError:
                    continue
            if not gone:
                continue
            try:
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except OSError:
                continue
            removed.append(path)
        return removed
