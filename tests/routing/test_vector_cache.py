"""Ticket vectors cached on disk between evaluation runs (`--cache-dir`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from index.embedder import Vectors
from routing.errors import DatasetError
from routing.features import TicketText, embed_tickets, passage_texts
from routing.vector_cache import VectorCache, folder_lock, ticket_key
from tests.fakes import HashingEmbedder


def _tickets(count: int) -> list[TicketText]:
    return [
        TicketText(f"Ticket {i}", f"printer queue {i} stuck on floor {i % 3}") for i in range(count)
    ]


def test_second_run_reads_the_cache_and_never_calls_the_embedder(tmp_path: Path) -> None:
    embedder = HashingEmbedder(dim=32)
    tickets = _tickets(12)
    first = embed_tickets(embedder, tickets, cache=VectorCache(tmp_path, embedder.model_id, 32))
    assert embedder.encoded_documents == 12

    cache = VectorCache(tmp_path, embedder.model_id, 32)  # a new process reads the files
    second = embed_tickets(embedder, tickets, cache=cache)
    assert embedder.encoded_documents == 12
    assert (cache.hits, cache.misses) == (12, 0)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, embed_tickets(HashingEmbedder(dim=32), tickets))


def test_only_new_or_changed_tickets_are_encoded(tmp_path: Path) -> None:
    embedder = HashingEmbedder(dim=32)
    tickets = _tickets(5)
    embed_tickets(embedder, tickets, cache=VectorCache(tmp_path, embedder.model_id, 32))
    changed = [*tickets[:4], TicketText("Ticket 4", "VPN drops"), TicketText("New", "mailbox")]
    cache = VectorCache(tmp_path, embedder.model_id, 32)
    vectors = embed_tickets(embedder, changed, cache=cache)
    assert embedder.encoded_documents == 5 + 2
    assert (cache.hits, cache.misses) == (4, 2)
    np.testing.assert_array_equal(vectors, embed_tickets(HashingEmbedder(dim=32), changed))
    assert len(VectorCache(tmp_path, embedder.model_id, 32)) == 7


def test_duplicate_tickets_in_one_run_are_stored_once(tmp_path: Path) -> None:
    embedder = HashingEmbedder(dim=32)
    tickets = [*_tickets(3), *_tickets(3)]
    vectors = embed_tickets(embedder, tickets, cache=VectorCache(tmp_path, embedder.model_id, 32))
    np.testing.assert_array_equal(vectors[:3], vectors[3:])
    assert len(VectorCache(tmp_path, embedder.model_id, 32)) == 3


def test_each_model_has_its_own_folder(tmp_path: Path) -> None:
    tickets = _tickets(4)
    small = HashingEmbedder(dim=32, model_id="model/a")
    embed_tickets(small, tickets, cache=VectorCache(tmp_path, small.model_id, 32))
    other = HashingEmbedder(dim=32, model_id="model/b")
    cache = VectorCache(tmp_path, other.model_id, 32)
    embed_tickets(other, tickets, cache=cache)
    assert other.encoded_documents == 4
    assert len({p.name for p in tmp_path.iterdir()}) == 2


def test_key_depends_on_every_passage_text() -> None:
    assert ticket_key(["a", "b"]) != ticket_key(["ab"])
    assert ticket_key(["passage: a"]) != ticket_key(["a"])
    assert ticket_key(["a"]) == ticket_key(["a"])


def test_a_cache_that_does_not_match_the_model_is_refused(tmp_path: Path) -> None:
    embedder = HashingEmbedder(dim=32)
    embed_tickets(embedder, _tickets(3), cache=VectorCache(tmp_path, embedder.model_id, 32))
    with pytest.raises(DatasetError, match="does not match"):
        VectorCache(tmp_path, embedder.model_id, 64)


class _FailingEmbedder(HashingEmbedder):
    """Fails on its third call, like a run interrupted part-way."""

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        if self.encoded_documents >= 4:
            raise RuntimeError("interrupted")
        return super().encode_documents(texts, show_progress=show_progress)


def test_an_interrupted_run_keeps_what_it_encoded(tmp_path: Path) -> None:
    embedder = _FailingEmbedder(dim=32)
    tickets = _tickets(10)
    cache = VectorCache(tmp_path, embedder.model_id, 32)
    with pytest.raises(RuntimeError, match="interrupted"):
        embed_tickets(embedder, tickets, cache=cache, batch=2, save_every=2)
    assert len(VectorCache(tmp_path, embedder.model_id, 32)) == 4


def test_retain_drops_the_vectors_of_other_tickets_on_disk(tmp_path: Path) -> None:
    embedder = HashingEmbedder(dim=32)
    tickets = _tickets(6)
    cache = VectorCache(tmp_path, embedder.model_id, 32)
    expected = embed_tickets(embedder, tickets, cache=cache)
    keys = [ticket_key(passage_texts(t)) for t in tickets]
    assert set(cache.get(keys)) == set(keys)

    cache.retain(keys[3:])
    reopened = VectorCache(tmp_path, embedder.model_id, 32)
    assert len(reopened) == 3
    found = reopened.get(keys)
    assert set(found) == set(keys[3:])
    for row, key in enumerate(keys[3:], start=3):
        np.testing.assert_array_equal(found[key], expected[row])


def test_a_reader_waits_while_another_process_writes(tmp_path: Path) -> None:
    embedder = HashingEmbedder(dim=32)
    cache = VectorCache(tmp_path, embedder.model_id, 32)
    embed_tickets(embedder, _tickets(4), cache=cache)
    opened: list[VectorCache] = []
    with folder_lock(cache.folder, exclusive=True):  # a writer between its two renames
        reader = threading.Thread(
            target=lambda: opened.append(VectorCache(tmp_path, embedder.model_id, 32))
        )
        reader.start()
        reader.join(timeout=0.3)
        assert reader.is_alive() and not opened
    reader.join(timeout=5)
    assert len(opened[0]) == 4
