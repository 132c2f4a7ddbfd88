"""Bodies of an article's versions and their review state."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class VersionOut(BaseModel):
    number: int
    state: str = Field(description="draft, in_review, published (live), superseded, archived.")
    author: str
    created_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    note: str | None


class VersionDetail(VersionOut):
    markdown: str
    diff: str = Field(description="Unified diff against the version before.")


class VersionList(BaseModel):
    slug: str
    versions: list[VersionOut]
