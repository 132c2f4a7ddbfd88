"""Passages fit the model window and keep their context."""

from __future__ import annotations

from ingest.chunking import chunk_sections, chunk_ticket, pack_blocks
from ingest.markdown import Section


def test_small_blocks_are_packed_together() -> None:
    assert pack_blocks(["one two", "three four"], max_words=10) == ["one two\nthree four"]


def test_long_sections_split_at_block_and_sentence_borders() -> None:
    sentence = "word " * 9 + "end."
    blocks = [" ".join([sentence] * 3), "short block"]
    passages = pack_blocks(blocks, max_words=25)
    assert all(len(p.split()) <= 25 for p in passages)
    assert " ".join(" ".join(passages).split()) == " ".join(" ".join(blocks).split())


def test_a_sentence_longer_than_the_window_is_cut_into_windows() -> None:
    passages = pack_blocks(["x " * 50], max_words=20)
    assert [len(p.split()) for p in passages] == [20, 20, 10]


def test_chunk_embedding_text_starts_with_heading_path() -> None:
    chunks = chunk_sections([Section(("VPN", "Fix"), "fix", ("Update the client.",))], 100)
    assert chunks[0].embedding_text() == "VPN > Fix\nUpdate the client."
    assert chunks[0].anchor == "fix"


def test_ticket_chunks_keep_the_title_as_context() -> None:
    chunks = chunk_ticket("Printer offline", "para one\n\npara two", 100)
    assert len(chunks) == 1
    assert chunks[0].embedding_text() == "Printer offline\npara one\npara two"
