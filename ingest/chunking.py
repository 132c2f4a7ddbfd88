"""Cut sections and tickets into passages that fit the embedding model's window."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.markdown import Section

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    """One passage: the text to embed, and where in its document it comes from."""

    heading_path: tuple[str, ...]
    anchor: str | None
    text: str

    def embedding_text(self) -> str:
        """Text handed to the model: the heading path gives the passage its context."""
        return "\n".join((" > ".join(self.heading_path), self.text))


def _word_count(text: str) -> int:
    return len(text.split())


def _split_long_block(block: str, max_words: int) -> list[str]:
    """Split a block at sentence ends, or at word windows when a sentence is too long."""
    pieces: list[str] = []
    current: list[str] = []
    count = 0
    for sentence in _SENTENCE_END.split(block):
        words = sentence.split()
        while len(words) > max_words:
            if current:
                pieces.append(" ".join(current))
                current, count = [], 0
            pieces.append(" ".join(words[:max_words]))
            words = words[max_words:]
        if count + len(words) > max_words and current:
            pieces.append(" ".join(current))
            current, count = [], 0
        current.extend(words)
        count += len(words)
    if current:
        pieces.append(" ".join(current))
    return pieces


def pack_blocks(blocks: Sequence[str], max_words: int) -> list[str]:
    """Greedily pack consecutive blocks into passages of at most `max_words` words."""
    passages: list[str] = []
    current: list[str] = []
    count = 0
    for block in blocks:
        for piece in (
            _split_long_block(block, max_words) if _word_count(block) > max_words else [block]
        ):
            words = _word_count(piece)
            if current and count + words > max_words:
                passages.append("\n".join(current))
                current, count = [], 0
            current.append(piece)
            count += words
    if current:
        passages.append("\n".join(current))
    return passages


def chunk_sections(sections: Sequence[Section], max_words: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in sections:
        for text in pack_blocks(section.blocks, max_words):
            chunks.append(Chunk(section.heading_path, section.anchor, text))
    return chunks


def chunk_ticket(title: str, description: str, max_words: int) -> list[Chunk]:
    """A ticket's problem statement, split into passages if it is long."""
    blocks = [part.strip() for part in re.split(r"\n\s*\n", description) if part.strip()]
    return [Chunk((title,), None, text) for text in (pack_blocks(blocks, max_words) or [""])]
