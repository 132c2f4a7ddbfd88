"""The Router: trains from the database, never blocks routing, keeps serving on bad data."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from db.models import Ticket
from index.embedder import Vectors
from index.errors import ModelUnavailable
from ingest.pipeline import ingest_articles, ingest_tickets
from ingest.ticket_vectors import read_by_second
from ingest.tickets import ResolvedTicket
from routing import service, training
from routing.config import RoutingConfig
from routing.features import TicketText, embed_tickets
from routing.model import ClassifierConfig
from routing.second_model import SecondModel
from routing.service import Router
from routing.training import load_training_set
from tests.factories import ticket
from tests.fakes import HashingEmbedder
from tests.routing.helpers import synthetic_tickets, write_charters

CONFIG = RoutingConfig(min_confidence=0.0, classifier_min_tickets=30)


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder(dim=256)


def _ingest(
    factory: sessionmaker[Session], embedder: HashingEmbedder, records: list[dict[str, Any]]
) -> None:
    tickets = [ResolvedTicket.model_validate(r) for r in records]
    ingest_tickets(factory, embedder, tickets, max_words=180)


def _route(router: Router, embedder: HashingEmbedder, title: str, description: str) -> Any:
    text = TicketText(title, description)
    return router.route(text, embed_tickets(embedder, [text])[0])


@pytest.fixture
def charters(factory: sessionmaker[Session], embedder: HashingEmbedder, tmp_path: Path) -> None:
    ingest_articles(factory, embedder, write_charters(tmp_path / "articles"), max_words=180)


def test_grows_from_charters_to_vote_to_classifier(
    factory: sessionmaker[Session], embedder: HashingEmbedder, tmp_path: Path, charters: None
) -> None:
    router = Router.open(tmp_path / "routing", config=CONFIG, model_id=embedder.model_id)
    assert router.status().stage == "none"
    assert _route(router, embedder, "VPN", "tunnel drops").abstained

    assert router.retrain(factory, embedder)
    assert router.status().stage == "charters"
    decision = _route(router, embedder, "VPN client problems", "the VPN tunnel drops")
    assert decision.team == "network"
    assert decision.charter_lines[0].team == "network"

    _ingest(factory, embedder, synthetic_tickets(9, seed=1))
    assert router.retrain(factory, embedder)
    status = router.status()
    assert (status.stage, status.tickets) == ("vote", 9)
    decision = _route(router, embedder, "outlook mailbox", "exchange quota archive")
    assert decision.team == "messaging"
    assert decision.similar_tickets[0].team == "messaging"
    assert decision.similar_tickets[0].ticket_id is not None

    _ingest(factory, embedder, synthetic_tickets(60, seed=2))
    assert router.retrain(factory, embedder)
    assert router.status().stage == "classifier"
    decision = _route(router, embedder, "printer toner", "spooler queue scanner")
    assert decision.stage == "classifier"
    assert decision.team == "workplace"
    assert len(decision.teams) == 3

    reopened = Router.open(tmp_path / "routing", config=CONFIG, model_id=embedder.model_id)
    assert reopened.status().stage == "classifier"
    assert reopened.status().tickets == 69


def test_classifier_trains_on_the_newest_tickets_only(
    factory: sessionmaker[Session], embedder: HashingEmbedder, tmp_path: Path, charters: None
) -> None:
    config = replace(CONFIG, classifier_max_tickets=40)
    router = Router.open(tmp_path / "routing", config=config, model_id=embedder.model_id)
    _ingest(factory, embedder, synthetic_tickets(60, seed=2))
    _ingest(factory, embedder, synthetic_tickets(40, seed=3, teams=("network", "workplace")))
    assert router.retrain(factory, embedder)
    model = router.model
    assert model is not None and model.classifier is not None
    assert model.classifier.teams == ["network", "workplace"]  # the 40 newest
    assert len(model.memory) == 100  # evidence and the vote still see every ticket


def test_bad_training_set_keeps_the_previous_model_and_says_why(
    factory: sessionmaker[Session], embedder: HashingEmbedder, tmp_path: Path, charters: None
) -> None:
    _ingest(factory, embedder, synthetic_tickets(40, seed=3))
    router = Router.open(tmp_path / "routing", config=CONFIG, model_id=embedder.model_id)
    assert router.retrain(factory, embedder)
    assert router.status().stage == "classifier"

    with factory() as session, session.begin():
        session.execute(delete(Ticket))  # an emptied table must not wipe the router
    router.retrain_in_background(factory, embedder).join(timeout=30)
    status = router.status()
    assert status.stage == "classifier"
    assert status.tickets == 40
    assert status.last_outcome == "rejected"
    assert status.last_reason is not None
    assert "0 resolved tickets" in status.last_reason
    assert _route(router, embedder, "printer toner", "spooler queue").team == "workplace"


def test_teams_with_one_or_two_tickets_train_and_route(
    factory: sessionmaker[Session], embedder: HashingEmbedder, tmp_path: Path, charters: None
) -> None:
    records = synthetic_tickets(60, seed=8)
    records.append(ticket("db-1", "Oracle listener down", "ORA-12541 tns", team="database"))
    records.append(ticket("id-1", "Badge not working", "door reader", team="identity"))
    records.append(ticket("erp-1", "SAP posting blocked", "period closed", team="erp"))
    records.append(ticket("erp-2", "SAP invoice stuck", "workflow", team="erp"))
    _ingest(factory, embedder, records)
    router = Router.open(tmp_path / "routing", config=CONFIG, model_id=embedder.model_id)
    assert router.retrain(factory, embedder), router.status().last_reason
    status = router.status()
    assert (status.stage, status.tickets) == ("classifier", 64)
    model = router.model
    assert model is not None and model.classifier is not None
    assert {"database", "identity", "erp"} <= set(model.classifier.teams)
    decision = _route(router, embedder, "printer toner", "spooler queue scanner")
    assert decision.stage == "classifier"
    assert decision.team == "workplace"
    rare = _route(router, embedder, "Oracle listener down again", "ORA-12541 tns")
    assert rare.teams and sum(t.confidence for t in rare.teams) <= 1.0 + 1e-6
    # One ticket never makes a confident team: at most 1 / (1 + 1), two at most 2 / 3.
    stated = {t.team: t.confidence for t in rare.teams}
    assert stated.get("database", 0.0) <= 0.5
    erp = _route(router, embedder, "SAP posting blocked", "period closed")
    assert max(t.confidence for t in erp.teams if t.team == "erp") <= 2 / 3 + 1e-4


def test_one_team_only_is_rejected(
    factory: sessionmaker[Session], embedder: HashingEmbedder, tmp_path: Path, charters: None
) -> None:
    _ingest(factory, embedder, synthetic_tickets(40, seed=4))
    router = Router.open(tmp_path / "routing", config=CONFIG, model_id=embedder.model_id)
    assert router.retrain(factory, embedder)
    with factory() as session, session.begin():
        session.execute(delete(Ticket).where(Ticket.team != "network"))
    _ingest(factory, embedder, synthetic_tickets(40, seed=5, teams=("network",)))
    assert not router.retrain(factory, embedder)
    status = router.status()
    assert status.stage == "classifier"
    assert status.last_reason is not None
    assert "1 team(s)" in status.last_reason


def test_training_exception_keeps_serving(
    factory: sessionmaker[Session],
    embedder: HashingEmbedder,
    tmp_path: Path,
    charters: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router = Router.open(tmp_path / "routing", config=CONFIG, model_id=embedder.model_id)
    assert router.retrain(factory, embedder)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise MemoryError("out of memory")

    monkeypatch.setattr(training, "load_training_set", broken)
    router.retrain_in_background(factory, embedder).join(timeout=30)
    status = router.status()
    assert status.stage == "charters"
    assert status.last_outcome == "failed"
    assert status.last_reason == "MemoryError: out of memory"


def test_routing_never_waits_for_a_training(
    factory: sessionmaker[Session],
    embedder: HashingEmbedder,
    tmp_path: Path,
    charters: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router = Router.open(tmp_path / "routing", config=CONFIG, model_id=embedder.model_id)
    assert router.retrain(factory, embedder)
    started, release = threading.Event(), threading.Event()
    original = training.load_training_set

    def slow(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(timeout=30)
        return original(*args, **kwargs)

    monkeypatch.setattr(training, "load_training_set", slow)
    thread = router.retrain_in_background(factory, embedder)
    assert started.wait(timeout=10)
    assert router.status().training
    assert router.retrain_in_background(factory, embedder) is thread  # queued, not a second
    decision = _route(router, embedder, "VPN client", "tunnel drops")  # answers meanwhile
    assert decision.team == "network"
    release.set()
    thread.join(timeout=30)
    assert not router.status().training
    assert router.status().last_outcome == "trained"


class FakeClock:
    """routing.service's clock: time stands still but for the throttle's waits.

    Stands in for the module's `time` (only `monotonic` is read) and, through `Stop`, for
    the router's stop event, whose `wait(seconds)` is the throttle's pause.
    """

    def __init__(self, events: list[tuple[str, float]]) -> None:
        self.now = 1000.0
        self.events = events

    def monotonic(self) -> float:
        return self.now


class Stop(threading.Event):
    """A stop event whose waits take no real time: each one moves the fake clock on."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.clock.events.append(("wait", timeout))
        self.clock.now += timeout
        return self.is_set()


def test_background_trainings_keep_their_minimum_interval(
    factory: sessionmaker[Session],
    embedder: HashingEmbedder,
    tmp_path: Path,
    charters: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events: list[tuple[str, float]] = []
    clock = FakeClock(events)
    monkeypatch.setattr(service, "time", clock)
    router = Router.open(tmp_path / "routing", config=CONFIG, model_id=embedder.model_id)
    router._stop = Stop(clock)
    release = threading.Event()
    original = router.retrain

    def counted(*args: Any, **kwargs: Any) -> bool:
        events.append(("train", clock.now))
        # The first training lasts until the whole burst has been requested.
        assert release.wait(timeout=30)
        return original(*args, **kwargs)

    monkeypatch.setattr(router, "retrain", counted)
    # A burst of changes: one training now, the other four fold into one after the pause.
    thread = router.retrain_in_background(factory, embedder, min_interval=0.5)
    for _ in range(4):
        assert router.retrain_in_background(factory, embedder, min_interval=0.5) is thread
    release.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert router.wait_idle(timeout=5)
    # The second training started exactly min_interval after the first one had started.
    assert events == [("train", 1000.0), ("wait", 0.5), ("train", 1000.5)]
    assert router.status().last_outcome == "trained"


def test_close_cancels_a_queued_training(
    factory: sessionmaker[Session], embedder: HashingEmbedder, tmp_path: Path, charters: None
) -> None:
    router = Router.open(tmp_path / "routing", config=CONFIG, model_id=embedder.model_id)
    assert router.retrain(factory, embedder)
    trained_at = router.status().last_attempt_at
    router.retrain_in_background(factory, embedder, min_interval=60)  # waits a minute first
    router.close(timeout=5)
    assert router.wait_idle(timeout=5)
    assert router.status().last_attempt_at == trained_at


def test_training_set_averages_passages_of_long_tickets(
    factory: sessionmaker[Session], embedder: HashingEmbedder
) -> None:
    long_description = "\n\n".join(f"paragraph {i} " + "word " * 100 for i in range(3))
    _ingest(factory, embedder, [ticket("L1", "Long one", long_description, team="network")])
    with factory() as session:
        loaded = load_training_set(session, model_id=embedder.model_id, dim=embedder.dim)
    expected = embed_tickets(embedder, [TicketText("Long one", long_description)], max_words=180)
    assert loaded.memory.teams == ["network"]
    assert loaded.memory.vectors.shape == (1, embedder.dim)
    assert abs(float(loaded.memory.vectors[0] @ expected[0]) - 1.0) < 1e-5


def _second(tmp_path: Path, model_id: str = "fake-second") -> tuple[SecondModel, list[int]]:
    """A second model that counts how often it is loaded."""
    second_embedder = HashingEmbedder(dim=32, model_id=model_id)
    loads: list[int] = []

    def load() -> HashingEmbedder:
        loads.append(1)
        return second_embedder

    return SecondModel(model_id, load, cache_dir=tmp_path / "vector-cache"), loads


def test_classifier_reads_the_second_model_and_encodes_only_new_tickets(
    factory: sessionmaker[Session], embedder: HashingEmbedder, tmp_path: Path, charters: None
) -> None:
    second, loads = _second(tmp_path)
    # Kept whatever cross-validation says, to follow the second model's path to the end.
    config = replace(CONFIG, classifier=ClassifierConfig(second_by_cv=False))
    router = Router.open(
        tmp_path / "routing", config=config, model_id=embedder.model_id, second=second
    )
    _ingest(factory, embedder, synthetic_tickets(9, seed=1))
    assert router.retrain(factory, embedder)
    assert router.status().stage == "vote"
    assert not loads  # too few tickets for the classifier: the model is not even loaded

    _ingest(factory, embedder, synthetic_tickets(60, seed=2))
    assert router.retrain(factory, embedder)
    model = router.model
    assert model is not None and model.classifier is not None
    assert {"lr_second", "knn_second"} <= set(model.classifier.learners)
    assert router.status().second_model_id == "fake-second"
    assert len(loads) == 1
    fake = second.embedder
    assert isinstance(fake, HashingEmbedder)
    encoded = fake.encoded_documents
    assert encoded >= 69  # every ticket's passages, once

    decision = _route(router, embedder, "printer toner", "spooler queue scanner")
    assert (decision.stage, decision.team) == ("classifier", "workplace")
    assert fake.encoded_documents == encoded + 1  # the new ticket, one passage

    # A reading of the ticket by this model, made with the search's (/suggest): used as is.
    assert router.second_wanted == "fake-second"
    text = TicketText("printer toner", "spooler queue scanner")
    vector = embed_tickets(embedder, [text])[0]
    read = read_by_second(
        fake, text.title, text.description, max_words=180, question=True, document=True
    )
    assert read is not None and read.document is not None
    before = fake.encoded_documents
    assert router.route(text, vector, read) == decision
    assert fake.encoded_documents == before
    # Another model's reading, or passages cut otherwise, are not this model's: encoded here.
    for unfit in (replace(read, model_id="fake-other"), replace(read, max_words=100)):
        assert router.route(text, vector, unfit) == decision
    assert fake.encoded_documents == before + 2

    _ingest(factory, embedder, synthetic_tickets(5, seed=3))
    assert router.retrain(factory, embedder)
    assert fake.encoded_documents == before + 2 + 5  # the cache held the 69 others
    assert len(loads) == 1


def test_classifier_of_another_second_model_is_not_loaded(
    factory: sessionmaker[Session], embedder: HashingEmbedder, tmp_path: Path, charters: None
) -> None:
    second, _ = _second(tmp_path)
    router = Router.open(
        tmp_path / "routing", config=CONFIG, model_id=embedder.model_id, second=second
    )
    _ingest(factory, embedder, synthetic_tickets(60, seed=2))
    assert router.retrain(factory, embedder)

    same = Router.open(
        tmp_path / "routing", config=CONFIG, model_id=embedder.model_id, second=second
    )
    assert same.status().stage == "classifier"
    other, _ = _second(tmp_path, "fake-other")
    for changed in (other, None):
        reopened = Router.open(
            tmp_path / "routing", config=CONFIG, model_id=embedder.model_id, second=changed
        )
        status = reopened.status()
        assert status.stage == "none"
        assert status.last_outcome == "failed"
        assert status.last_reason is not None and "fake-second" in status.last_reason


def test_second_model_dropped_by_cross_validation_is_not_encoded_at_routing(
    factory: sessionmaker[Session], embedder: HashingEmbedder, tmp_path: Path, charters: None
) -> None:
    # A second model that sees only noise: its learners lose on out-of-fold log-loss.
    noise = np.random.default_rng(0).normal(size=(500, 16)).astype(np.float32)
    calls = iter(range(10_000))

    class NoiseEmbedder(HashingEmbedder):
        def _encode(self, texts: Sequence[str]) -> Vectors:
            rows = noise[[next(calls) % len(noise) for _ in texts]]
            return np.asarray(rows / np.linalg.norm(rows, axis=1, keepdims=True), np.float32)

    noisy = NoiseEmbedder(dim=16, model_id="fake-noise")
    second = SecondModel.loaded(noisy, cache_dir=tmp_path / "vector-cache")
    router = Router.open(
        tmp_path / "routing", config=CONFIG, model_id=embedder.model_id, second=second
    )
    _ingest(factory, embedder, synthetic_tickets(120, seed=2))
    assert router.retrain(factory, embedder)
    model = router.model
    assert model is not None and model.classifier is not None
    assert model.classifier.learner_choice["second_kept"] is False
    assert not model.classifier.uses_second
    assert router.status().second_model_id == "fake-noise"  # trained with it, all the same
    assert router.second_wanted is None
    encoded = noisy.encoded_documents
    decision = _route(router, embedder, "printer toner", "spooler queue scanner")
    assert (decision.stage, decision.team) == ("classifier", "workplace")
    assert noisy.encoded_documents == encoded


def test_saved_classifier_loads_its_second_model_at_open_and_says_when_it_cannot(
    factory: sessionmaker[Session], embedder: HashingEmbedder, tmp_path: Path, charters: None
) -> None:
    config = replace(CONFIG, classifier=ClassifierConfig(second_by_cv=False))
    second, _ = _second(tmp_path)
    router = Router.open(
        tmp_path / "routing", config=config, model_id=embedder.model_id, second=second
    )
    _ingest(factory, embedder, synthetic_tickets(60, seed=2))
    assert router.retrain(factory, embedder)

    fresh, loads = _second(tmp_path)
    reopened = Router.open(
        tmp_path / "routing", config=config, model_id=embedder.model_id, second=fresh
    )
    assert reopened.status().stage == "classifier"
    assert loads == [1]  # loaded at open, before the first request

    def missing() -> HashingEmbedder:
        raise ModelUnavailable("no such folder: /models/minilm")

    broken = SecondModel("fake-second", missing)
    unusable = Router.open(
        tmp_path / "routing", config=config, model_id=embedder.model_id, second=broken
    )
    status = unusable.status()
    assert (status.stage, status.last_outcome) == ("none", "failed")
    assert status.last_reason is not None and "/models/minilm" in status.last_reason
    assert unusable.route(
        TicketText("printer", "toner"), embed_tickets(embedder, [TicketText("printer", "toner")])[0]
    ).abstained
