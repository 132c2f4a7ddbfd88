"""Bodies of an article's versions and their review state."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.schemas.common import UtcDatetime


class VersionOut(BaseModel):
    number: int
    state: str = Field(description="draft, in_review, published (live), superseded, archived.")
    author: str
    created_at: UtcDatetime
    reviewed_by: str | None
    reviewed_at: UtcDatetime | None
    note: str | None


class VersionDetail(VersionOut):
    markdown: str
    diff: str = Field(description="Unified diff against the version before.")


class VersionList(BaseModel):
    slug: str
    versions: list[VersionOut]


class PendingVersion(BaseModel):
    """A version not yet live (a draft, or one in review) of an article the caller owns."""

    slug: str
    title: str
    team: str | None
    number: int
    state: str = Field(description="draft or in_review.")
    author: str
    created_at: UtcDatetime
