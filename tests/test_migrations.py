"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from db.models import Base
from db.session import create_db_engine, migrate
from tests.conftest import _postgres_schema_url


def test_migrated_schema_matches_the_models(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        connection = session.connection()
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


@pytest.mark.postgres
def test_replicas_starting_at_once_migrate_once() -> None:
    for url in _postgres_schema_url():
        engines = [create_db_engine(url) for _ in range(3)]
        errors: list[BaseException] = []
        start = threading.Barrier(len(engines))

        def start_replica(engine: Engine, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                migrate(engine)
            except BaseException as exc:  # collected and reported below
                errors.append(exc)  # noqa: B023 (one loop pass: the schema's own list)

        threads = [threading.Thread(target=start_replica, args=(e,), daemon=True) for e in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        try:
            # Without the lock, concurrent DDL deadlocks or fails on existing tables.
            assert not any(thread.is_alive() for thread in threads), "migrations hang"
            assert errors == []
            with engines[0].connect() as connection:
                versions = connection.execute(text("SELECT version_num FROM alembic_version"))
                assert len(versions.all()) == 1
                differences = compare_metadata(
                    MigrationContext.configure(connection), Base.metadata
                )
            assert differences == []
        finally:
            for engine in engines:
                engine.dispose()
