"""The digest's "new gaps": the knowledge gaps mined over the digest's week, as the
digest's reader may see them (the gap finding of app/services/gaps.py).

Mining encodes the week's tickets and searches, so it needs the embedder; a digest built
without one (`GapReader` absent) says so by an empty list rather than guessing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.schemas.digests import DigestGap
from app.services.gaps import mine_gaps, ticket_document_encoder
from app.services.gaps_sources import Encode
from app.services.visibility import Visibility
from index.embedder import Embedder

MAX_GAPS = 5


@dataclass(frozen=True)
class GapReader:
    """What mining needs: the model the passages were embedded with, and its encoder."""

    model_id: str
    encode: Encode


def gap_reader(embedder: Embedder, max_words: int) -> GapReader:
    return GapReader(embedder.model_id, ticket_document_encoder(embedder, max_words))


def new_gaps(
    session: Session,
    visibility: Visibility,
    *,
    start: date,
    end: date,
    team: str | None,
    reader: GapReader | None,
) -> list[DigestGap]:
    """Knowledge gaps of the week from `start` to `end` that the caller may see; for a
    team, those it owns. The week is mined whole, so the coverage cut is read from every
    team's tickets rather than from the few of one team."""
    if reader is None:
        return []
    found = mine_gaps(
        session,
        visibility,
        start=start,
        end=end,
        team=None,
        model_id=reader.model_id,
        encode=reader.encode,
    )
    owned = [gap for gap in found.gaps if team is None or gap.team == team]
    return [
        DigestGap(title=gap.proposed_title, size=gap.size, link=f"/dashboard#gap-{gap.key}")
        for gap in owned[:MAX_GAPS]
    ]
