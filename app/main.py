"""The application factory: builds the FastAPI app and wires its parts in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __doc__ as app_doc
from app.api import articles, audit, feedback, health, search, stats, suggest, teams, tickets
from app.auth import FailureLimiter
from app.db import engine_from_settings, migrate, session_factory
from app.errors import install_error_handlers
from app.limits import BodySizeLimit
from app.routing.config import routing_config_from
from app.routing.second_model import SecondModel
from app.routing.service import Router
from app.settings import Settings
from index.embedder import Embedder, load_embedder, resolve_model
from ingest.index_sync import LiveIndex, open_searcher

log = logging.getLogger("stellwerk")

API_PREFIX = "/api/v1"


def load_configured_embedder(settings: Settings, name: str | None = None) -> Embedder:
    """The configured embedding model, or model `name` with the same settings."""
    return load_embedder(
        name or settings.embedding_model,
        cache_dir=settings.resolved_model_cache_dir,
        batch_size=settings.embedding_batch_size,
        max_seq_length=settings.embedding_max_seq_length,
        threads=settings.embedding_threads,
    )


def load_second_model(settings: Settings, embedder: Embedder | None = None) -> SecondModel | None:
    """The routing classifier's second embedding model, loaded on first use; None when it
    is turned off. `embedder` is an already loaded model to use instead of the configured.
    """
    cache_dir = settings.routing_dir / "vector-cache"
    if embedder is not None:
        return SecondModel.loaded(embedder, cache_dir=cache_dir, max_words=settings.chunk_max_words)
    if not settings.routing_second_model:
        return None
    name = settings.routing_second_model
    model_id = resolve_model(name, settings.resolved_model_cache_dir).model_id
    return SecondModel(
        model_id,
        lambda: load_configured_embedder(settings, name),
        cache_dir=cache_dir,
        max_words=settings.chunk_max_words,
    )


def create_app(
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    second_embedder: Embedder | None = None,
) -> FastAPI:
    """Build the app. Nothing heavy happens here; the lifespan loads models and index.

    `embedder` and `second_embedder` let tests share loaded models across apps; by default
    the configured models are loaded at start-up.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = engine_from_settings(settings)
        try:
            if settings.auto_migrate:
                migrate(engine)
            factory = session_factory(engine)
            model = embedder or load_configured_embedder(settings)
            with factory() as session:
                searcher, manifest = open_searcher(
                    session,
                    index_dir=settings.index_dir,
                    dim=model.dim,
                    model_id=model.model_id,
                    exact_max=settings.index_exact_max_vectors,
                )
            log.info(
                "index ready: %d passages (%s)",
                len(searcher),
                "from snapshot" if manifest else "built from the database",
            )
            router = Router.open(
                settings.routing_dir,
                config=routing_config_from(settings),
                model_id=model.model_id,
                second=load_second_model(settings, second_embedder),
            )

            def retrain_router(changes: int = 0) -> None:
                router.retrain_in_background(
                    factory, model, min_interval=settings.routing_retrain_seconds
                )

            if router.model is None:
                retrain_router()
            app.state.session_factory = factory
            app.state.router = router
            app.state.live_index = LiveIndex(
                searcher,
                embedder=model,
                factory=factory,
                refresh_seconds=settings.index_refresh_seconds,
                default_system=settings.search_system,
                on_change=retrain_router,
            )
            yield
        finally:
            app.state.live_index = None
            if app.state.router is not None:
                app.state.router.close()
            app.state.router = None
            engine.dispose()

    app = FastAPI(
        title="Stellwerk",
        summary=(app_doc or "").strip(),
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.live_index = None
    app.state.router = None
    app.state.auth_limiter = FailureLimiter(
        burst=settings.auth_failure_burst, refill_seconds=settings.auth_failure_refill_seconds
    )
    install_error_handlers(app)
    # Every router but /health requires an API key (see app.auth); these are issue 5's.
    for module in (audit, feedback, stats):
        app.include_router(module.router, prefix=API_PREFIX)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for module in (health, search, suggest, tickets, articles, teams):
        app.include_router(module.router, prefix=API_PREFIX)
    return app
