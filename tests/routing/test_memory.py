"""Nearest resolved tickets: ties at the k-th similarity go to the earliest tickets."""

from __future__ import annotations

import numpy as np

from routing.memory import TicketMemory, top_k


def test_top_k_keeps_the_earliest_of_tied_values_on_every_row() -> None:
    rng = np.random.default_rng(1)
    similarity = np.round(rng.random((6, 40)), 1).astype(np.float32)  # ties on every row
    top = top_k(similarity, 8)
    # The reference: a stable sort, which orders equal values by position.
    expected = np.sort(np.argsort(-similarity, axis=1, kind="stable")[:, :8], axis=1)
    assert np.array_equal(top, expected)
    assert np.array_equal(top_k(similarity[0], 8), expected[0])
    assert top_k(similarity, 50).shape == (6, 40)


def test_nearest_breaks_ties_by_the_order_tickets_were_remembered() -> None:
    vectors = np.ones((40, 2), dtype=np.float32)  # every ticket equally similar ...
    vectors[[5, 30]] = 2.0  # ... but two
    memory = TicketMemory(
        ticket_ids=list(range(40)),
        external_ids=[f"T-{i}" for i in range(40)],
        titles=[f"ticket {i}" for i in range(40)],
        teams=["network"] * 40,
        vectors=vectors,
    )
    query = np.ones(2, dtype=np.float32)
    found = [n.external_id for n in memory.nearest(query, 5)]
    assert found == ["T-5", "T-30", "T-0", "T-1", "T-2"]
    found = [n.external_id for n in memory.nearest(query, 5, exclude=0)]
    assert found == ["T-5", "T-30", "T-1", "T-2", "T-3"]
