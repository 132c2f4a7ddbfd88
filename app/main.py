"""The application factory: builds the FastAPI app and wires its parts in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __doc__ as app_doc
from app.api import (
    articles,
    audit,
    connectors,
    digests,
    escalations,
    feedback,
    gaps,
    health,
    kpis,
    links,
    metrics,
    pulses,
    reviews,
    search,
    stats,
    suggest,
    tasks,
    teams,
    tickets,
    training,
)
from app.buckets import buckets_from
from app.components import (
    load_configured_embedder,
    load_search_second_model,
    open_router,
    router_second_embedder,
)
from app.database import engine_from_settings
from app.errors import install_error_handlers
from app.failure_limiter import FailureLimiter
from app.key_limits import KeyLimits
from app.limits import BodySizeLimit
from app.metrics import RequestMetrics
from app.openapi import install_openapi
from app.request_id import RequestId
from app.services.delivery_worker import DeliveryWorker
from app.services.events import prune as prune_events
from app.services.outbox import Backoff
from app.services.poll_worker import PollWorker
from app.services.webhook_deadline import WebhookTaker, take_queued
from app.settings import Settings
from app.state import AppState, Runtime
from app.web.errors import page_error
from app.web.install import install_web
from db.session import migrate, session_factory
from index.embedder import Embedder
from ingest.index_sync import open_searcher
from ingest.live_index import LiveIndex

log = logging.getLogger("stellwerk")

API_PREFIX = "/api/v1"


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
            with factory.begin() as session:
                prune_events(session, settings.event_retention_days)
            model = embedder or load_configured_embedder(settings)
            search_second = load_search_second_model(settings, second_embedder)
            with factory() as session:
                searcher, manifest = open_searcher(
                    session,
                    index_dir=settings.index_dir,
                    dim=model.dim,
                    model_id=model.model_id,
                    engine=model.engine,
                    exact_max=settings.index_exact_max_vectors,
                    second_model_id=search_second.model_id if search_second else None,
                )
            log.info(
                "index ready: %d passages (%s)",
                len(searcher),
                "from snapshot" if manifest else "built from the database",
            )
            if searcher.second is not None:
                log.info(
                    "search second model %s: %d passages with its vectors",
                    searcher.second.model_id,
                    len(searcher.second),
                )
                if len(searcher) and not len(searcher.second):
                    log.warning(
                        "no passage has vectors of the search's second model %s: English "
                        "documents are ranked without it until `stellwerk index rebuild` "
                        "fills them in (a knowledge base without English needs none)",
                        searcher.second.model_id,
                    )
            router = open_router(
                settings,
                model,
                second_embedder=second_embedder or router_second_embedder(settings, search_second),
            )

            def retrain_router(changes: int = 0) -> None:
                # Every replica sees every change; one training per state of the data.
                router.retrain_in_background(
                    factory,
                    model,
                    min_interval=settings.routing_retrain_seconds,
                    unless_current=True,
                )

            router.sync(factory, background=False)  # another replica's newer model
            if router.model is None:
                retrain_router()
            live_index = LiveIndex(
                searcher,
                embedder=model,
                factory=factory,
                refresh_seconds=settings.index_refresh_seconds,
                default_system=settings.search_system,
                on_change=retrain_router,
                on_refresh=lambda: router.sync(factory),
                second_embedder=search_second,
            )
            live_index.on_timing = router.on_timing = state.metrics.observe_stage
            deliveries = None
            if settings.connector_worker:
                deliveries = DeliveryWorker(
                    factory,
                    backoff=Backoff(
                        settings.connector_retry_seconds,
                        settings.connector_retry_max_seconds,
                        settings.connector_max_attempts,
                    ),
                    poll_seconds=settings.connector_poll_seconds,
                    timeout_seconds=settings.connector_timeout_seconds,
                    take_inbound=lambda item: take_queued(
                        factory, live_index, router, settings, item
                    ),
                )
                deliveries.start()
            webhooks = WebhookTaker(factory, live_index, router, settings)
            polls = None
            if settings.connector_worker:
                polls = PollWorker(
                    factory,
                    live_index,
                    router,
                    settings,
                    on_queued=deliveries.wake if deliveries is not None else lambda: None,
                )
                polls.start()
            state.runtime = Runtime(
                session_factory=factory,
                live_index=live_index,
                router=router,
                key_limits=KeyLimits(
                    per_minute=settings.key_requests_per_minute,
                    burst=settings.key_request_burst,
                    in_flight=settings.key_max_in_flight,
                    queue_seconds=settings.key_queue_seconds,
                    buckets=buckets,
                ),
                deliveries=deliveries,
                polls=polls,
                webhooks=webhooks,
            )
            yield
        finally:
            runtime, state.runtime = state.runtime, None
            if runtime is not None:
                if runtime.polls is not None:
                    runtime.polls.stop()
                runtime.webhooks.close()
                if runtime.deliveries is not None:
                    runtime.deliveries.stop()
                runtime.router.close()
            engine.dispose()

    app = FastAPI(
        title="Stellwerk",
        summary=(app_doc or "").strip(),
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    # Limits count in this process, or in Redis for every replica (app.buckets).
    buckets = buckets_from(settings.redis_url, settings.redis_prefix)
    state = AppState(
        settings=settings,
        auth_limiter=FailureLimiter(
            burst=settings.auth_failure_burst,
            refill_seconds=settings.auth_failure_refill_seconds,
            buckets=buckets,
        ),
    )
    app.state.stellwerk = state
    state.metrics.watch(state)
    install_error_handlers(app, pages=page_error)
    # Every router but /health requires an API key (see app.auth); these are issue 5's.
    for module in (
        audit,
        feedback,
        tasks,
        links,
        escalations,
        stats,
        kpis,
        gaps,
        training,
        pulses,
        digests,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for module in (health, search, suggest, tickets, articles, reviews, teams, connectors):
        app.include_router(module.router, prefix=API_PREFIX)
    # The pages for people (app/web): signed in by session cookie; the API stays Bearer-only.
    install_web(app, settings)
    install_openapi(app, settings, API_PREFIX)
    # Prometheus at /metrics (app.metrics): outside the API's prefix, as scrapers expect.
    app.include_router(metrics.router)
    app.add_middleware(RequestMetrics, metrics=state.metrics, mounts=("/static",))
    app.add_middleware(RequestId)  # outermost of ours: every log line of a request has it
    return app
