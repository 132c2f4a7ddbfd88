"""The configured database engine: light to import, so Alembic on its own loads no model."""

from __future__ import annotations

from sqlalchemy import Engine

from app.settings import Settings
from db.session import create_db_engine


def engine_from_settings(settings: Settings) -> Engine:
    """The configured database; a SQLite file in the data folder unless a URL is set."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return create_db_engine(
        settings.resolved_database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
    )
