"""No client can stall the others: four maximal /suggest requests at once leave a search
answering without queueing behind their encodes, on a real server with the real model
(issue 14). The figure against the idle search (target 2x) is `bench/fair_load.py`'s."""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.main import create_app
from index.embedder import Embedder
from tests.knowledge_base import KnowledgeBase, copy_knowledge_base, kb_settings
from tests.live_server import serve

pytestmark = pytest.mark.slow

_LOG_WORDS = (
    "ERROR Verbindung zum Server vpn-gw-03 abgebrochen timeout after 30000 ms retrying "
    "Drucker spooler service stopped unexpectedly Outlook profile corrupt code 0x8004010F"
).split()


def _maximal_description(seed: int) -> str:
    """A pasted log as long as the schema allows (50,000 characters)."""
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    words: list[str] = []
    size = 0
    while size < 50_000:
        word = f"{rng.choice(_LOG_WORDS)}{rng.randint(0, 9999)}"
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:50_000]


@pytest.fixture
def server(
    tmp_path: Path,
    demo_knowledge_base: KnowledgeBase,
    real_embedder: Embedder,
) -> Iterator[str]:
    data_dir = copy_knowledge_base(demo_knowledge_base, tmp_path / "data")
    # The measuring client searches back to back for as long as the suggests run: the
    # per-key rate would answer it 429 once its burst is spent (seen when the suggests took
    # 8 s). The rate is off so that what is measured is the encoder's fairness alone.
    settings = kb_settings(data_dir).model_copy(update={"key_requests_per_minute": 0})
    with serve(create_app(settings, embedder=real_embedder)) as base_url:
        yield f"{base_url}/api/v1"


def test_four_maximal_suggests_leave_a_search_fast(
    server: str, demo_knowledge_base: KnowledgeBase
) -> None:
    keys = demo_knowledge_base.keys
    searcher = {"Authorization": f"Bearer {keys['agent']}"}
    query = {"query": "VPN Verbindung bricht ab", "k": 5}

    def search_seconds() -> float:
        started = time.perf_counter()
        response = httpx.post(f"{server}/search", json=query, headers=searcher, timeout=120)
        assert response.status_code == 200
        return time.perf_counter() - started

    for _ in range(3):
        search_seconds()
    idle = statistics.median(search_seconds() for _ in range(9))

    answers: list[httpx.Response] = []

    suggest_seconds: list[float] = []

    def maximal_suggest(key: str, seed: int) -> None:
        started = time.perf_counter()
        body = {"title": "Fehlerprotokoll", "description": _maximal_description(seed)}
        answers.append(
            httpx.post(
                f"{server}/suggest",
                json=body,
                headers={"Authorization": f"Bearer {key}"},
                timeout=300,
            )
        )
        suggest_seconds.append(time.perf_counter() - started)

    # Four callers with keys of their own: the per-key limits alone cannot be what helps.
    callers = [
        threading.Thread(target=maximal_suggest, args=(keys[name], seed))
        for seed, name in enumerate(("integration", "specialist", "admin", "reviewer"))
    ]
    for caller in callers:
        caller.start()
    time.sleep(0.2)
    busy: list[float] = []
    while any(caller.is_alive() for caller in callers) or len(busy) < 3:
        busy.append(search_seconds())
    for caller in callers:
        caller.join(300)

    assert len(answers) == 4
    for answer in answers:
        if answer.status_code != 200:
            assert answer.status_code in (429, 503), answer.text
            assert int(answer.headers["retry-after"]) >= 1
    # A search that queued behind the long work would wait for the slices ahead of it:
    # with one lock for both lanes the median was 0.54 s against suggests of 1.4-3.2 s.
    # Through its own lane it waits for none: 0.05 s against 1.2-3.5 s, and 0.08 s with
    # another process spinning on one of the two cores (as another test worker does), where
    # a bound of twice the idle search (0.07 s) is the CPU share, not a queue, and failed.
    shortest_suggest = min(suggest_seconds)
    bound = max(2 * idle, shortest_suggest / 10)
    assert statistics.median(busy) <= bound, (idle, shortest_suggest, busy)
