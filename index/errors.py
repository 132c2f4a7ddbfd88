"""Errors raised by the index package; the app maps them to HTTP in one place."""

from __future__ import annotations


class IndexError_(Exception):  # noqa: N801 - trailing underscore avoids the builtin IndexError
    """Base class for index failures."""

    code = "index_error"


class SnapshotMismatch(IndexError_):
    """A snapshot was built by another model or with another dimension."""

    code = "index_model_mismatch"


class SnapshotCorrupt(IndexError_):
    """A snapshot's files do not match its manifest."""

    code = "index_snapshot_corrupt"


class ModelUnavailable(IndexError_):
    """The configured embedding model cannot be loaded offline."""

    code = "model_unavailable"
