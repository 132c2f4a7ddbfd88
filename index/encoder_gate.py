"""Two lanes for forward passes in a process: short work never queues behind long work.

A plain lock served encodes in arrival order, so a search's three-word query waited behind
the whole of a 50,000-character ticket. Here short calls (a search query, a normal ticket)
have a lane of their own, one at a time on every core; long calls (a long ticket, an
ingest batch) share another lane, one slice of about a full passage at a time on all cores
but one (`bulk_threads`), so a free core is always left for the short lane and long calls
take turns slice by slice instead of one waiting for another's whole length.

`encode_in_lanes` is the one way an engine's forward pass is called: it picks the lane and,
for long work, sorts the texts by token count before slicing, so each slice pads its texts
to about the same length instead of to the longest of a random mix.
"""

from __future__ import annotations

import enum
import functools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt

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


class Lane(enum.Enum):
    """Which lane a forward pass runs in, and so how many threads it may use."""

    SHORT = "short"  # every configured thread
    BULK = "bulk"  # a slice of long work: every core but one
    JOB = "job"  # a whole bulk job (the CLI): every configured thread, with progress


Forward = Callable[[list[str], Lane], npt.NDArray[np.float32]]


def encode_in_lanes(
    gate: EncoderGate,
    texts: list[str],
    forward: Forward,
    *,
    dim: int,
    token_counts: Callable[[list[str]], Sequence[int]],
    whole_job: bool = False,
) -> npt.NDArray[np.float32]:
    """Run ``forward`` on ``texts`` through ``gate``; vectors come back in input order.

    Short work is one pass in the short lane. Long work is sorted by token count and cut
    into slices (`slices`), each its own turn in the bulk lane; a whole job is one turn.
    """
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    if not whole_job and is_short(texts):
        with gate.turn(short=True):
            return forward(texts, Lane.SHORT)
    order = np.argsort(np.asarray(token_counts(texts)), kind="stable")
    ordered = [texts[i] for i in order]
    if whole_job:
        with gate.turn(short=False):
            vectors = forward(ordered, Lane.JOB)
    else:
        parts = []
        for start, end in slices(ordered):
            with gate.turn(short=False):
                parts.append(forward(ordered[start:end], Lane.BULK))
        vectors = np.concatenate(parts)
    restored = np.empty_like(vectors)
    restored[order] = vectors
    return restored
