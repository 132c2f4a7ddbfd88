"""Alembic environment: uses the engine handed over by app.db, or one built from settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from app.db import engine_from_settings
from app.models import Base
from app.settings import Settings

config = context.config
engine: Engine | None = config.attributes.get("engine")
if engine is None:
    engine = engine_from_settings(Settings())

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
