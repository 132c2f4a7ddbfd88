"""The digest's "new gaps": the hook the gap finding (issue 12, item 3) fills in.

Until it lands, no gap is found, so the list is empty; the digest page and message already
show the section."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from app.schemas.digests import DigestGap
from app.services.visibility import Visibility


def new_gaps(
    session: Session, visibility: Visibility, *, start: date, end: date, team: str | None
) -> list[DigestGap]:
    """Knowledge gaps first seen between `start` and `end` that the caller may see."""
    return []
