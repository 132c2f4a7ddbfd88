"""What every `stellwerk` command group shares: a database context, clean failures, models."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app import components
from app.database import engine_from_settings
from app.errors import PACKAGE_ERRORS, StellwerkError
from app.settings import Settings
from db.session import migrate, session_factory
from index.embedder import Embedder

if TYPE_CHECKING:
    from ingest.live_index import LiveIndex
    from routing.service import Router, RouterStatus

T = TypeVar("T")


@dataclass
class Context:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    _second: list[Embedder | None] = field(default_factory=list)

    def search_second(self) -> Embedder | None:
        """The search's second model (STELLWERK_SEARCH_SECOND_MODEL), loaded on first use;
        None when turned off."""
        if not self._second:
            if self.settings.search_second_model:
                typer.echo(f"loading model {self.settings.search_second_model} ...", err=True)
            self._second.append(components.load_search_second_model(self.settings))
        return self._second[0]


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
    except (StellwerkError, *PACKAGE_ERRORS) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def load_cli_embedder(settings: Settings) -> Embedder:
    typer.echo(f"loading model {settings.embedding_model} ...", err=True)
    return components.load_configured_embedder(settings)


def train_router(ctx: Context, embedder: Embedder) -> RouterStatus:
    """Retrain the team router from the database; a failed training keeps the old model."""
    router = components.open_router(
        ctx.settings,
        embedder,
        second_embedder=components.router_second_embedder(ctx.settings, ctx.search_second()),
    )
    router.retrain(ctx.factory, embedder)
    return router.status()


def command_embedder(ctx: Context, *, check_model: bool = True) -> Embedder:
    """The configured model; by default refused unless it embedded what the database holds."""
    from ingest.index_sync import ensure_same_model

    embedder = load_cli_embedder(ctx.settings)
    if check_model:
        with ctx.factory() as session:
            ensure_same_model(session, embedder.model_id)
    return embedder


def save_snapshot(ctx: Context, embedder: Embedder, *, rebuild: bool = False) -> None:
    """Write a new index snapshot from the database and say what it holds."""
    from ingest.index_sync import refresh_snapshot

    manifest = refresh_snapshot(
        ctx.factory,
        index_dir=ctx.settings.index_dir,
        dim=embedder.dim,
        model_id=embedder.model_id,
        engine=embedder.engine,
        exact_max=ctx.settings.index_exact_max_vectors,
        keep=ctx.settings.snapshots_kept,
        rebuild=rebuild,
    )
    typer.echo(
        f"index snapshot: {manifest.count} passages, {manifest.index_kind}, "
        f"model {manifest.model_id} ({manifest.engine})",
        err=True,
    )


def retrain_after_ingest(ctx: Context, embedder: Embedder) -> None:
    """Retrain the team router after an ingest; a failed training keeps the old model."""
    status = train_router(ctx, embedder)
    if status.last_outcome == "trained":
        typer.echo(f"routing: {status.last_reason}", err=True)
    else:
        typer.echo(f"warning: routing not retrained: {status.last_reason}", err=True)


def live_parts(ctx: Context, embedder: Embedder) -> tuple[LiveIndex, Router]:
    """The index and the router as the service holds them, for a command that suggests."""
    from ingest.index_sync import open_searcher
    from ingest.live_index import LiveIndex

    second = ctx.search_second()
    with ctx.factory() as session:
        searcher, _ = open_searcher(
            session,
            index_dir=ctx.settings.index_dir,
            dim=embedder.dim,
            model_id=embedder.model_id,
            engine=embedder.engine,
            exact_max=ctx.settings.index_exact_max_vectors,
            second_model_id=second.model_id if second is not None else None,
        )
    live = LiveIndex(
        searcher,
        embedder=embedder,
        factory=ctx.factory,
        refresh_seconds=ctx.settings.index_refresh_seconds,
        default_system=ctx.settings.search_system,
        second_embedder=second,
    )
    router = components.open_router(
        ctx.settings,
        embedder,
        second_embedder=components.router_second_embedder(ctx.settings, second),
    )
    router.sync(ctx.factory, background=False)
    return live, router
