"""The search's second model: English documents' passages get its vectors, at ingest and
filled in later, and every searcher attaches them (build, catch-up)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Passage, Ticket
from index.searcher import Searcher
from ingest import reindex
from ingest.chunking import Chunk
from ingest.index_sync import build_searcher, catch_up
from ingest.pipeline import ingest_tickets
from ingest.second_passages import encode_second, is_english
from ingest.store import drop_passages
from ingest.tickets import ResolvedTicket
from tests.fakes import HashingEmbedder

ENGLISH = ResolvedTicket(
    id="en", title="The printer is offline", description="It has not printed since the update."
)
GERMAN = ResolvedTicket(
    id="de", title="Der Drucker ist offline", description="Seit dem Update druckt er nicht mehr."
)
STATED = ResolvedTicket(id="stated", title="SAP GUI 0x80070005", description="", language="en")


def _chunk(text: str) -> Chunk:
    return Chunk((), None, text)


def test_english_by_the_stated_language_else_by_its_words() -> None:
    assert is_english("en", [_chunk("Der Drucker ist offline")])
    assert is_english("en-GB", [_chunk("")])
    assert not is_english("de", [_chunk("The printer is offline")])
    assert is_english(None, [_chunk("The printer is offline and it does not print")])
    assert not is_english(None, [_chunk("Der Drucker ist offline und druckt nicht")])
    assert not is_english(None, [_chunk("SAP GUI 0x80070005")])


def test_only_english_documents_are_encoded_in_one_call() -> None:
    second = HashingEmbedder(dim=16, model_id="second-16")
    english = [_chunk("the printer is offline"), _chunk("it does not print")]
    encoded = encode_second(second, [("de", [_chunk("Drucker")]), ("en", english), ("en", [])])
    assert encoded[0] is None and encoded[2] is None
    assert encoded[1] is not None and encoded[1].model_id == "second-16"
    assert encoded[1].vectors.shape == (2, 16)
    assert second.encoded_documents == 2
    assert encode_second(None, [("en", english)]) == [None]


def _second_rows(factory: sessionmaker[Session]) -> dict[str, str | None]:
    with factory() as session:
        passages = session.scalars(select(Passage).order_by(Passage.id)).all()
        return {p.ticket.external_id: p.second_model_id for p in passages if p.ticket}


def _searcher(
    factory: sessionmaker[Session], main: HashingEmbedder, second_model_id: str = "second-16"
) -> Searcher:
    with factory() as session:
        return build_searcher(
            session,
            dim=main.dim,
            model_id=main.model_id,
            exact_max=1000,
            second_model_id=second_model_id,
        )


def test_ingest_stores_second_vectors_for_english_tickets_only(
    factory: sessionmaker[Session],
) -> None:
    main, second = HashingEmbedder(), HashingEmbedder(dim=16, model_id="second-16")
    ingest_tickets(factory, main, [ENGLISH, GERMAN, STATED], max_words=180, second=second)
    assert _second_rows(factory) == {"en": "second-16", "de": None, "stated": "second-16"}
    other = _searcher(factory, main, second_model_id="x")
    assert other.second is not None and len(other.second) == 0  # another model's vectors
    searcher = _searcher(factory, main)
    assert searcher.second is not None and len(searcher.second) == 2


def test_filled_in_vectors_reach_a_running_searcher(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    main, second = HashingEmbedder(), HashingEmbedder(dim=16, model_id="second-16")
    more = [
        ResolvedTicket(id=f"en{n}", title=f"VPN {n} drops", description="It drops every hour.")
        for n in range(4)
    ]
    ingest_tickets(factory, main, [ENGLISH, GERMAN, *more], max_words=180)  # no second model
    searcher = _searcher(factory, main)
    assert searcher.second is not None and len(searcher.second) == 0
    monkeypatch.setattr(reindex, "BATCH", 2)  # documents read in several batches
    assert reindex.fill_second_vectors(factory, second) == 5
    assert reindex.fill_second_vectors(factory, second) == 0
    assert _second_rows(factory)["de"] is None
    with factory() as session:
        catch_up(session, searcher, main.model_id)
    assert len(searcher.second) == 5
    assert len(searcher) == 6  # the main index keeps the passages it had
    with factory() as session:
        passage = session.scalars(
            select(Passage).where(Passage.second_model_id.is_not(None))
        ).first()
        assert passage is not None and passage.second_embedding is not None
        text = Chunk(tuple(passage.heading_path), passage.anchor, passage.text).embedding_text()
        stored = np.frombuffer(passage.second_embedding, dtype=np.float32)
    assert np.array_equal(stored, second.encode_documents([text])[0])


def test_a_document_deleted_while_its_vectors_are_encoded_leaves_every_index(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    main, second = HashingEmbedder(), HashingEmbedder(dim=16, model_id="second-16")
    ingest_tickets(factory, main, [ENGLISH], max_words=180)
    searcher = _searcher(factory, main)
    assert len(searcher) == 1

    def delete_then_encode(*args: Any, **kwargs: Any) -> Any:
        with factory() as session, session.begin():  # another writer, meanwhile
            ticket = session.scalars(select(Ticket)).one()
            drop_passages(session, ticket)
            session.delete(ticket)
        return encode_second(*args, **kwargs)

    monkeypatch.setattr("ingest.reindex.encode_second", delete_then_encode)
    assert reindex.fill_second_vectors(factory, second) == 0
    with factory() as session:
        catch_up(session, searcher, main.model_id)
    assert len(searcher) == 0


def test_a_new_ticket_is_read_by_the_second_model_once_for_searches_and_router(
    factory: sessionmaker[Session],
) -> None:
    """/suggest ranks the solutions and the first-level how-to by the ticket's text and
    routes by its passages: one second-model call gives both."""
    from index.query_vector import query_vectors
    from ingest.live_index import LiveIndex
    from routing.features import TicketText, embed_tickets

    main, second = HashingEmbedder(), HashingEmbedder(dim=16, model_id="second-16")
    ingest_tickets(factory, main, [ENGLISH, GERMAN], max_words=180, second=second)
    live = LiveIndex(
        _searcher(factory, main),
        embedder=main,
        factory=factory,
        refresh_seconds=60.0,
        second_embedder=second,
    )
    title, description = "The printer is offline again", "since the update it does not print"
    queries, documents = second.encoded_queries, second.encoded_documents
    vectors = live.encode_ticket(title, description, max_words=180, second_document_for="second-16")
    assert (second.encoded_queries, second.encoded_documents) == (queries + 1, documents + 1)
    reading = vectors.second
    assert reading is not None and reading.question is not None and reading.document is not None
    text = f"{title}\n{description}"
    np.testing.assert_allclose(reading.question, second.encode_queries([text])[0], atol=1e-6)
    routed = embed_tickets(second, [TicketText(title, description)], max_words=180)[0]
    np.testing.assert_allclose(reading.document, routed, atol=1e-6)

    queries = second.encoded_queries
    first = live.search_by_vectors(vectors.query, text, 2)
    assert live.search_by_vectors(vectors.query, text, 1) == first[:1]
    assert second.encoded_queries == queries  # both searches took the ticket's reading
    live.search_by_vectors(query_vectors(main, text), text, 2)
    assert second.encoded_queries == queries + 1  # a typed query is read when searched

    # A router that wants no second reading gets none; a German ticket is not searched by it.
    only_search = live.encode_ticket(title, description, max_words=180)
    assert only_search.second is not None and only_search.second.document is None
    german = live.encode_ticket("Der Drucker ist offline", "seit dem Update", max_words=180)
    assert german.second is None
    for_router = live.encode_ticket(
        "Der Drucker ist offline", "seit dem Update", max_words=180, second_document_for="second-16"
    )
    assert for_router.second is not None and for_router.second.question is None
    assert for_router.second.document is not None
