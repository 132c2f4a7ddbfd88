"""Two lanes for forward passes in a process: short work never queues behind long work.

A plain lock served encodes in arrival order, so a search's three-word query waited behind
the whole of a 50,000-character ticket. Here short calls (a search query, a normal ticket)
have a lane of their own, one at a time on every core; long calls (a long ticket, an
ingest batch) share another lane, one slice of about a full passage at a time on all cores
but one (`bulk_threads`), so a free core is always left for the short lane and long calls
take turns slice by slice instead of one waiting for another's whole length.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

# About one passage at the model's full 512-token window; calls up to this size are short.
SLICE_CHARS = 2_000


def bulk_threads() -> int:
    """Threads a long call's forward pass may use: every core but one, at least one."""
    return max(1, (os.cpu_count() or 1) - 1)


class EncoderGate:
    """One short and one long forward pass at a time, each in its own lane."""

    def __init__(self) -> None:
        self._short = threading.Lock()
        self._bulk = threading.Lock()

    @contextmanager
    def turn(self, *, short: bool) -> Iterator[None]:
        with self._short if short else self._bulk:
            yield


def is_short(texts: Sequence[str]) -> bool:
    return sum(len(text) for text in texts) <= SLICE_CHARS


def slices(texts: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) ranges of at most SLICE_CHARS each (a longer text is a slice alone)."""
    ranges: list[tuple[int, int]] = []
    start, size = 0, 0
    for i, text in enumerate(texts):
        if i > start and size + len(text) > SLICE_CHARS:
            ranges.append((start, i))
            start, size = i, 0
        size += len(text)
    if start < len(texts):
        ranges.append((start, len(texts)))
    return ranges


@functools.cache
def process_gate() -> EncoderGate:
    """The gate every model in this process shares: they share its cores."""
    return EncoderGate()
