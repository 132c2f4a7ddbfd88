"""The encoder gate: short calls have a lane of their own; long ones go slice by slice."""

from __future__ import annotations

import os
import threading
import time

import pytest

from index.encoder_gate import SLICE_CHARS, EncoderGate, bulk_threads, is_short, slices


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
