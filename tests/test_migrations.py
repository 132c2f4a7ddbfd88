"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.orm import Session, sessionmaker

from db.models import Base


def test_migrated_schema_matches_the_models(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        connection = session.connection()
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
