"""One trainer for all replicas, one model for all: a replica that cannot get the trainer
lease does not train, and every replica swaps to the model the trainer stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.state import app_state
from db.models import RoutingModelRow
from db.session import create_db_engine, session_factory
from ingest.pipeline import ingest_tickets
from ingest.tickets import ResolvedTicket
from routing.config import RoutingConfig
from routing.service import Router
from routing.shared import TRAINER_LOCK, newest_version, trainer_lease
from tests.auth_helpers import factory_of
from tests.conftest import _postgres_schema_url
from tests.fakes import HashingEmbedder
from tests.routing.helpers import synthetic_tickets

CONFIG = RoutingConfig(min_confidence=0.0, classifier_min_tickets=10_000)


def _replica(root: Path, embedder: HashingEmbedder) -> Router:
    return Router.open(root, config=CONFIG, model_id=embedder.model_id)


def _history(factory: sessionmaker[Session]) -> HashingEmbedder:
    """60 resolved tickets in the database; the embedder that embedded them."""
    embedder = HashingEmbedder(dim=64)
    records = [ResolvedTicket.model_validate(r) for r in synthetic_tickets(60)]
    ingest_tickets(factory, embedder, records, max_words=180)
    return embedder


def test_every_replica_serves_the_model_the_trainer_stored(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    embedder = _history(factory)
    trainer, other = _replica(tmp_path / "a", embedder), _replica(tmp_path / "b", embedder)
    assert trainer.retrain(factory, embedder)
    with factory() as session:
        assert newest_version(session) == trainer.version is not None
    assert other.model is None
    other.sync(factory, background=False)
    assert other.version == trainer.version
    assert other.model is not None and other.model.stage == trainer.model.stage
    assert other.status().trained_at == trainer.status().trained_at


def test_a_replica_does_not_train_again_on_the_data_the_shared_model_knows(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    embedder = _history(factory)
    trainer, other = _replica(tmp_path / "a", embedder), _replica(tmp_path / "b", embedder)
    assert trainer.retrain(factory, embedder, unless_current=True)
    # The other replica saw the same changes and gets the lease after the trainer's.
    assert not other.retrain(factory, embedder, unless_current=True)
    assert other.status().last_outcome == "skipped"
    assert other.version == trainer.version  # serves the trainer's model meanwhile
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(RoutingModelRow)) == 1
    late = ResolvedTicket(id="late", title="VPN", description="tunnel drops", team="network")
    ingest_tickets(factory, embedder, [late], max_words=180)
    assert other.retrain(factory, embedder, unless_current=True)  # new data: trains
    assert trainer.version is not None and other.version == trainer.version + 1


@pytest.mark.postgres
def test_only_the_lease_holder_trains(postgres: sessionmaker[Session], tmp_path: Path) -> None:
    factory = postgres
    embedder = _history(factory)
    replica = _replica(tmp_path / "a", embedder)
    with factory() as holder:  # another replica is training
        holder.execute(text(f"SELECT pg_advisory_lock({TRAINER_LOCK})"))
        assert not replica.retrain(factory, embedder)
        assert replica.status().last_outcome == "skipped"
        assert replica.model is None
        holder.execute(text(f"SELECT pg_advisory_unlock({TRAINER_LOCK})"))
        holder.commit()
    assert replica.retrain(factory, embedder)
    assert replica.version is not None


@pytest.mark.postgres
def test_the_lease_is_per_schema(postgres: sessionmaker[Session], migrated_schema_sql: str) -> None:
    """Deployments sharing a database in schemas of their own (the test workers do) each
    have a trainer; within one schema there is one."""
    for other_url in _postgres_schema_url(migrated_schema_sql):
        engine = create_db_engine(other_url)
        other = session_factory(engine)
        with postgres() as a, postgres() as a_again, other() as b, trainer_lease(a) as granted:
            assert granted
            with trainer_lease(a_again) as same_schema, trainer_lease(b) as other_schema:
                assert not same_schema
                assert other_schema
        engine.dispose()


def test_ready_names_the_routing_version(
    client: TestClient, fake_embedder: HashingEmbedder
) -> None:
    router = app_state(client.app).ready().router
    factory = factory_of(client)
    records = [ResolvedTicket.model_validate(r) for r in synthetic_tickets(40)]
    ingest_tickets(factory, fake_embedder, records, max_words=180)
    assert router.retrain(factory, fake_embedder)
    body = client.get("/api/v1/ready").json()
    assert body["routing_version"] == str(router.version)
