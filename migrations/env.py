"""Alembic environment: the engine handed over by db.session.migrate, or one from settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from app.database import engine_from_settings
from app.settings import Settings
from db.models import Base

config = context.config
engine: Engine | None = config.attributes.get("engine")
if engine is None:
    engine = engine_from_settings(Settings())

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite alters a table by copying it and dropping the original; with foreign keys
        # on, the drop cascades into every child table (articles -> passages). The pragma
        # only works outside a transaction, so it is set before the migrations begin.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left rows without their parent: {broken[:5]}")
    connection.commit()
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
