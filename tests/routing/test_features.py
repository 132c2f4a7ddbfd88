"""A new ticket's vectors: the routing one equals what ingest stores for a resolved ticket."""

from __future__ import annotations

import numpy as np

from ingest.ticket_vectors import encode_new_ticket
from routing.features import TicketText, embed_tickets
from tests.fakes import HashingEmbedder


def test_a_new_ticket_routes_with_the_vector_a_resolved_one_gets() -> None:
    embedder = HashingEmbedder(dim=128)
    paragraphs = [f"paragraph {i} " + " ".join(f"w{i}x{j}" for j in range(120)) for i in range(3)]
    ticket = TicketText("VPN drops", "\n\n".join(paragraphs))  # several passages
    vectors = encode_new_ticket(embedder, ticket.title, ticket.description, max_words=100)
    query, document = vectors.question, vectors.document
    np.testing.assert_allclose(document, embed_tickets(embedder, [ticket], max_words=100)[0])
    np.testing.assert_allclose(query, embedder.encode_queries([ticket.lexical])[0])
