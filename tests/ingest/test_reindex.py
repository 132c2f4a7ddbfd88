"""Re-embedding passages of another model: every one, batch by batch, with the new vectors."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Passage
from ingest import reindex
from ingest.chunking import Chunk
from ingest.pipeline import ingest_tickets
from ingest.tickets import ResolvedTicket
from tests.fakes import HashingEmbedder


def test_every_stale_passage_gets_the_new_models_vector(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = HashingEmbedder(model_id="old-64"), HashingEmbedder(model_id="new-64")
    tickets = [
        ResolvedTicket(id=str(n), title=f"VPN {n}", description=f"tunnel drops {n}", source="t")
        for n in range(5)
    ]
    ingest_tickets(factory, old, tickets, max_words=180)
    monkeypatch.setattr(reindex, "BATCH", 2)  # several batches, each read and written apart
    assert reindex.reembed_stale_passages(factory, new) == 5
    assert reindex.reembed_stale_passages(factory, new) == 0
    with factory() as session:
        passages = session.scalars(select(Passage).order_by(Passage.id)).all()
    assert {p.model_id for p in passages} == {"new-64"}
    for passage in passages:
        text = Chunk(tuple(passage.heading_path), passage.anchor, passage.text).embedding_text()
        expected = new.encode_documents([text])[0]
        assert np.array_equal(np.frombuffer(passage.embedding, dtype=np.float32), expected)
