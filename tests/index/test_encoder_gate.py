"""The encoder gate: short calls have a lane of their own; long ones go slice by slice."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import numpy.typing as npt
import pytest

from index.encoder_gate import (
    SLICE_CHARS,
    EncoderGate,
    Lane,
    bulk_threads,
    encode_in_lanes,
    is_short,
    slices,
)


def test_a_short_call_never_waits_for_a_long_one() -> None:
    gate = EncoderGate()
    running = threading.Event()
    release = threading.Event()

    def long_call() -> None:
        with gate.turn(short=False):
            running.set()
            release.wait(5)

    holder = threading.Thread(target=long_call)
    holder.start()
    try:
        assert running.wait(5)
        entered = threading.Event()

        def short_call() -> None:
            with gate.turn(short=True):
                entered.set()

        threading.Thread(target=short_call).start()
        assert entered.wait(2), "the short call waited for the long one"
    finally:
        release.set()
        holder.join(5)


@pytest.mark.parametrize("short", [True, False])
def test_one_call_per_lane_at_a_time(short: bool) -> None:
    gate = EncoderGate()
    inside = 0
    most = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal inside, most
        for _ in range(20):
            with gate.turn(short=short):
                with lock:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.001)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most == 1


def test_long_calls_leave_a_core_free() -> None:
    assert bulk_threads() == max(1, (os.cpu_count() or 1) - 1)


def test_slices_cut_long_work_into_passage_sized_parts() -> None:
    passage = "x" * (SLICE_CHARS // 2)
    assert slices([passage] * 5) == [(0, 2), (2, 4), (4, 5)]
    # A text longer than a slice is a slice alone; nothing is dropped or split.
    assert slices(["y" * (3 * SLICE_CHARS), "z"]) == [(0, 1), (1, 2)]
    assert slices([]) == []
    assert is_short(["VPN bricht ab"]) and not is_short([passage] * 3)


def test_long_work_goes_slice_by_slice_sorted_by_token_count() -> None:
    texts = [("w " * n).strip() for n in (900, 5, 600, 20, 1, 700, 300)]
    calls: list[tuple[Lane, list[str]]] = []

    def forward(batch: list[str], lane: Lane) -> npt.NDArray[np.float32]:
        calls.append((lane, batch))
        return np.array([[len(text), 1.0] for text in batch], dtype=np.float32)

    def word_counts(batch: list[str]) -> list[int]:
        return [len(text.split()) for text in batch]

    vectors = encode_in_lanes(EncoderGate(), texts, forward, dim=2, token_counts=word_counts)
    assert vectors[:, 0].tolist() == [len(text) for text in texts]  # input order restored
    assert all(lane is Lane.BULK for lane, _ in calls) and len(calls) > 1
    sent = [text for _, batch in calls for text in batch]
    assert word_counts(sent) == sorted(word_counts(texts))
    assert all(is_short(batch) or len(batch) == 1 for _, batch in calls)


def test_short_work_and_whole_jobs_are_one_pass() -> None:
    lanes: list[Lane] = []

    def forward(batch: list[str], lane: Lane) -> npt.NDArray[np.float32]:
        lanes.append(lane)
        return np.ones((len(batch), 3), dtype=np.float32)

    def count(batch: list[str]) -> list[int]:
        return [len(text) for text in batch]

    gate = EncoderGate()
    assert encode_in_lanes(gate, ["VPN"], forward, dim=3, token_counts=count).shape == (1, 3)
    long_texts = ["x" * SLICE_CHARS] * 3
    encode_in_lanes(gate, long_texts, forward, dim=3, token_counts=count, whole_job=True)
    assert lanes == [Lane.SHORT, Lane.JOB]
    assert encode_in_lanes(gate, [], forward, dim=3, token_counts=count).shape == (0, 3)
