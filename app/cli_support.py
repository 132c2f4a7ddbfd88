"""What every `stellwerk` command group shares: a database context, clean failures, the router."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.db import engine_from_settings, migrate, session_factory
from app.errors import StellwerkError
from app.settings import Settings
from index.embedder import Embedder
from index.errors import IndexError_
from ingest.errors import IngestError

if TYPE_CHECKING:
    from app.routing.second_model import SecondModel
    from app.routing.service import RouterStatus

T = TypeVar("T")


@dataclass
class Context:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]


@contextmanager
def cli_context(*, migrate_schema: bool = True) -> Iterator[Context]:
    """Settings from the environment and a migrated database, disposed of afterwards."""
    settings = Settings()
    engine = engine_from_settings(settings)
    try:
        if migrate_schema and settings.auto_migrate:
            migrate(engine)
        yield Context(settings, engine, session_factory(engine))
    finally:
        engine.dispose()


def fail_cleanly(action: Callable[[], T]) -> T:
    """Run a command body; known failures exit 1 with a one-line reason."""
    try:
        return action()
    except (StellwerkError, IngestError, IndexError_) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def load_cli_embedder(settings: Settings) -> Embedder:
    from app.main import load_configured_embedder

    typer.echo(f"loading model {settings.embedding_model} ...", err=True)
    return load_configured_embedder(settings)


def load_cli_second_model(settings: Settings) -> SecondModel | None:
    from app.main import load_second_model

    return load_second_model(settings)


def train_router(ctx: Context, embedder: Embedder) -> RouterStatus:
    """Retrain the team router from the database; a failed training keeps the old model."""
    from app.routing.config import routing_config_from
    from app.routing.service import Router

    router = Router.open(
        ctx.settings.routing_dir,
        config=routing_config_from(ctx.settings),
        model_id=embedder.model_id,
        second=load_cli_second_model(ctx.settings),
    )
    router.retrain(ctx.factory, embedder)
    return router.status()
