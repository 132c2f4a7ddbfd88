"""Bounded integers for paths and queries: anything the database cannot bind (SQLite
stops at 2^63) is the one-shape 422 before a handler runs, never a 500."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_INT = 2**31 - 1  # the largest INTEGER both SQLite and PostgreSQL store in every column

Offset = Annotated[int, Query(ge=0, le=MAX_INT)]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_INT)]
TaskId = Annotated[int, Path(ge=1, le=MAX_INT)]
