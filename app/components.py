"""The heavy parts, built once from settings: embedders and router (the engine: app.database).

The service's lifespan, the CLI and the benchmarks all build them here, so a setting
means the same thing wherever Stellwerk runs.
"""

from __future__ import annotations

from app.settings import Settings
from index.embedder import Embedder, load_embedder, resolve_model
from routing.config import RoutingConfig
from routing.second_model import SecondModel
from routing.service import Router


def load_configured_embedder(settings: Settings, name: str | None = None) -> Embedder:
    """The configured embedding model, or model `name` with the same settings."""
    return load_embedder(
        name or settings.embedding_model,
        cache_dir=settings.resolved_model_cache_dir,
        engine=settings.embedding_engine,
        batch_size=settings.embedding_batch_size,
        max_seq_length=settings.embedding_max_seq_length,
        threads=settings.embedding_threads,
    )


def load_search_second_model(settings: Settings, loaded: Embedder | None = None) -> Embedder | None:
    """The search's second model (index.second_standing); None when turned off. `loaded`
    is used when it is that model (the router's, say), so the process holds it once."""
    if not settings.search_second_model:
        return None
    wanted = resolve_model(settings.search_second_model, settings.resolved_model_cache_dir)
    if loaded is not None and loaded.model_id == wanted.model_id:
        return loaded
    return load_configured_embedder(settings, settings.search_second_model)


def router_second_embedder(settings: Settings, search_second: Embedder | None) -> Embedder | None:
    """The search's second model for the router too, when both settings name the same
    model; else None (the router loads its own on first use)."""
    if search_second is None or not settings.routing_second_model:
        return None
    wanted = resolve_model(settings.routing_second_model, settings.resolved_model_cache_dir)
    return search_second if wanted.model_id == search_second.model_id else None


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


def routing_config_from(settings: Settings) -> RoutingConfig:
    """The router's part of the settings; the rest keeps the measured defaults."""
    return RoutingConfig(
        min_confidence=settings.routing_min_confidence,
        classifier_min_tickets=settings.routing_classifier_min_tickets,
        classifier_max_tickets=settings.routing_classifier_max_tickets,
        neighbours=settings.routing_neighbours,
        models_kept=settings.routing_models_kept,
        max_words=settings.chunk_max_words,
    )


def open_router(
    settings: Settings,
    embedder: Embedder,
    *,
    second_embedder: Embedder | None = None,
    config: RoutingConfig | None = None,
) -> Router:
    """The router on the configured folder, with its saved model when one fits."""
    return Router.open(
        settings.routing_dir,
        config=config or routing_config_from(settings),
        model_id=embedder.model_id,
        second=load_second_model(settings, second_embedder),
    )
