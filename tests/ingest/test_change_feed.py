"""The change feed never skips a committed change, whatever order transactions commit in.

On PostgreSQL a writer can take its sequence number, stay open, and commit after a later
writer; a reader that only asks for `seq > watermark` moves past it for good.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Passage, Ticket
from index.searcher import Searcher
from ingest.index_sync import build_searcher, catch_up
from ingest.pipeline import ingest_tickets, ticket_chunks, ticket_hash
from ingest.store import save_ticket
from ingest.tickets import ResolvedTicket
from tests.fakes import HashingEmbedder

pytestmark = pytest.mark.postgres


def _write_open(session: Session, embedder: HashingEmbedder, resolved: ResolvedTicket) -> None:
    """Write a ticket and its change rows without committing (its seq values are taken)."""
    chunks = ticket_chunks(resolved, 180)
    save_ticket(
        session,
        resolved,
        content_hash=ticket_hash(resolved),
        chunks=chunks,
        vectors=embedder.encode_documents([c.embedding_text() for c in chunks]),
        model_id=embedder.model_id,
        existing=None,
    )
    session.flush()


def _indexed_tickets(factory: sessionmaker[Session], searcher: Searcher) -> set[str]:
    """External ids of the tickets whose passages the searcher holds."""
    ids = {int(i) for i in searcher.index.ids()}
    with factory() as session:
        rows = session.execute(
            select(Passage.id, Ticket.external_id).join(Ticket, Passage.ticket_id == Ticket.id)
        ).all()
    return {external for pid, external in rows if pid in ids}


def test_a_change_that_commits_after_a_later_one_is_applied(
    postgres: sessionmaker[Session],
) -> None:
    embedder = HashingEmbedder()
    with postgres() as session:
        searcher = build_searcher(
            session, dim=embedder.dim, model_id=embedder.model_id, exact_max=1000
        )
    early = ResolvedTicket(id="EARLY", title="VPN drops", description="every hour", source="t")
    late = ResolvedTicket(id="LATE", title="Printer jams", description="tray 2", source="t")

    slow_writer = postgres()
    slow_writer.begin()
    _write_open(slow_writer, embedder, early)  # takes the lower sequence numbers, stays open
    ingest_tickets(postgres, embedder, [late], max_words=180)  # commits the higher ones
    with postgres() as session:
        assert catch_up(session, searcher, embedder.model_id) > 0
    assert _indexed_tickets(postgres, searcher) == {"LATE"}

    slow_writer.commit()
    slow_writer.close()
    with postgres() as session:
        applied = catch_up(session, searcher, embedder.model_id)
    assert applied > 0
    assert _indexed_tickets(postgres, searcher) == {"EARLY", "LATE"}
    # Read again while no transaction is open: nothing is applied twice.
    with postgres() as session:
        assert catch_up(session, searcher, embedder.model_id) == 0
        assert catch_up(session, searcher, embedder.model_id) == 0
