"""Prometheus metrics at /metrics (issue 15, item 6): the families, read by prometheus-client's
own parser, and who may read them: admins and the metrics token, no one else."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from app.main import create_app
from app.metrics import route_template
from app.settings import Settings
from app.state import app_state
from db.models import OutboxItem
from db.session import create_db_engine, session_factory
from ingest.pipeline import ingest_tickets
from ingest.tickets import ResolvedTicket
from tests.auth_helpers import authorize, bearer, factory_of, keys_of
from tests.factories import ticket
from tests.fakes import HashingEmbedder

TOKEN = "metrics-token-0123456789abcdef0123456789"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, **headers: str) -> tuple[set[str], Samples]:
    response = client.get("/metrics", headers=headers or None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    families = list(text_string_to_metric_families(response.text))
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in families
        for sample in family.samples
    }
    return {family.name for family in families}, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _ingest_elsewhere(settings: Settings) -> None:
    """What `stellwerk ingest tickets` does from another process: the app has not seen it."""
    engine = create_db_engine(settings.resolved_database_url)
    try:
        rows = [ticket("1", "VPN drops", "every ten minutes"), ticket("2", "Printer", "jams")]
        ingest_tickets(
            session_factory(engine),
            HashingEmbedder(),
            [ResolvedTicket.model_validate(row) for row in rows],
            max_words=180,
        )
    finally:
        engine.dispose()


def test_metrics_name_every_family(client: TestClient, settings: Settings) -> None:
    body = {"title": "VPN drops", "description": "every ten minutes"}
    assert client.post("/api/v1/search", json={"query": "VPN"}).status_code == 200
    assert client.post("/api/v1/suggest", json=body).status_code == 200
    for slug in ("nope", "also-nope"):
        assert client.get(f"/api/v1/articles/{slug}").status_code == 404
    assert client.get("/no/such/page/42").status_code == 404
    assert client.request("BREW", "/api/v1/health").status_code == 405
    assert client.get("/api/v1/ready", headers=bearer("sw_wrong" + "x" * 40)).status_code == 401
    with factory_of(client)() as session, session.begin():
        session.add(OutboxItem(connector="zammad", kind="note", target="T1", status="failed"))
        session.add(OutboxItem(connector="zammad", kind="note", target="T2", status="delivered"))
    _ingest_elsewhere(settings)
    assert app_state(client.app).ready().router.wait_idle()  # the start-up training

    names, samples = scrape(client)
    assert {
        "stellwerk_http_requests",
        "stellwerk_http_request_duration_seconds",
        "stellwerk_encode_seconds",
        "stellwerk_search_seconds",
        "stellwerk_routing_seconds",
        "stellwerk_index_passages",
        "stellwerk_change_feed_lag",
        "stellwerk_router_model",
        "stellwerk_router_training",
        "stellwerk_router_last_training_seconds",
        "stellwerk_connector_outbox_items",
        "stellwerk_connector_inbound_deliveries",
        "stellwerk_auth_failures",
        "stellwerk_limit_rejections",
    } <= names
    # By route template, never the raw path: both slugs are one series.
    article = {"method": "GET", "route": "/api/v1/articles/{slug}", "status": "404"}
    assert value(samples, "stellwerk_http_requests_total", **article) == 2
    assert value(samples, "stellwerk_http_request_duration_seconds_count", **article) == 2
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(samples, "stellwerk_http_requests_total", **unmatched) == 1
    brewed = {"method": "other", "route": "/api/v1/health", "status": "405"}
    assert value(samples, "stellwerk_http_requests_total", **brewed) == 1
    assert not any("nope" in str(labels) for _, labels in samples)
    assert value(samples, "stellwerk_search_seconds_count") >= 2  # search, suggest's search
    assert value(samples, "stellwerk_encode_seconds_count") >= 2  # the query, the ticket
    assert value(samples, "stellwerk_routing_seconds_count") == 1
    assert value(samples, "stellwerk_auth_failures_total", reason="unknown_key") == 1
    assert value(samples, "stellwerk_connector_outbox_items", connector="zammad", status="failed")
    assert value(samples, "stellwerk_ready") == 1
    status = app_state(client.app).ready().router.status()
    assert value(
        samples, "stellwerk_router_model", stage=status.stage, version=status.version or ""
    )
    # Two passages written by another process, not yet applied here: a lag of two.
    assert value(samples, "stellwerk_index_passages") == 0
    assert value(samples, "stellwerk_change_feed_lag") == 2
    assert client.get("/api/v1/ready").json()["indexed_passages"] == 2  # catches up
    _, samples = scrape(client)
    assert value(samples, "stellwerk_change_feed_lag") == 0
    assert value(samples, "stellwerk_index_passages") == 2


def test_limit_rejections_are_counted(settings: Settings, fake_embedder: HashingEmbedder) -> None:
    limited = settings.model_copy(update={"key_request_burst": 1, "key_requests_per_minute": 1})
    with TestClient(create_app(limited, embedder=fake_embedder)) as client:
        authorize(client)
        assert client.post("/api/v1/search", json={"query": "VPN"}).status_code == 200
        assert client.post("/api/v1/search", json={"query": "VPN"}).status_code == 429
        _, samples = scrape(client)
    assert value(samples, "stellwerk_limit_rejections_total", limit="key_rate") == 1


@pytest.fixture
def token_client(settings: Settings, fake_embedder: HashingEmbedder) -> Iterator[TestClient]:
    with_token = settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    with TestClient(create_app(with_token, embedder=fake_embedder)) as client:
        authorize(client)
        yield client


def test_only_admins_and_the_token_read_metrics(
    token_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    keys = keys_of(token_client)
    scrape(token_client)  # the admin key
    scrape(token_client, Authorization=f"Bearer {TOKEN}")
    for role in ("agent", "specialist", "integration", "contractor"):
        assert token_client.get("/metrics", headers=bearer(keys[role])).status_code == 403
    for wrong in ("", "Bearer ", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer ümlaut"):
        header = [(b"authorization", wrong.encode("latin-1"))]
        response = token_client.get("/metrics", headers=header)
        assert response.status_code == 401, wrong
        assert response.json()["error"]["code"] == "unauthorized"  # JSON, not a sign-in page
    assert caplog.records and TOKEN[:12] not in caplog.text  # the token is never logged


def test_the_token_reads_metrics_before_the_index_is_loaded(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        embedding_model="fake",
        metrics_token=SecretStr(TOKEN),
        _env_file=None,  # type: ignore[call-arg]
    )
    client = TestClient(create_app(settings, embedder=HashingEmbedder()))  # no lifespan
    _, samples = scrape(client, Authorization=f"Bearer {TOKEN}")
    assert value(samples, "stellwerk_ready") == 0


def test_every_app_counts_in_its_own_registry(tmp_path: Path) -> None:
    apps = [
        create_app(Settings(data_dir=tmp_path / str(n), _env_file=None), embedder=HashingEmbedder())  # type: ignore[call-arg]
        for n in range(2)
    ]
    first, second = (app.state.stellwerk.metrics for app in apps)
    first.requests.labels("GET", "/x", "200").inc()
    assert (
        first.registry.get_sample_value(
            "stellwerk_http_requests_total", {"method": "GET", "route": "/x", "status": "200"}
        )
        == 1
    )
    assert (
        second.registry.get_sample_value(
            "stellwerk_http_requests_total", {"method": "GET", "route": "/x", "status": "200"}
        )
        is None
    )
    assert REGISTRY.get_sample_value("stellwerk_http_requests_total") is None
    assert "stellwerk_http_requests" not in {m.name for m in REGISTRY.collect()}


def test_a_scrape_without_the_database_leaves_its_figures_out(token_client: TestClient) -> None:
    state = app_state(token_client.app)
    runtime = state.ready()

    def broken() -> None:
        raise ConnectionError("database down")

    state.runtime = replace(runtime, session_factory=broken)  # type: ignore[arg-type]
    try:
        names, samples = scrape(token_client, Authorization=f"Bearer {TOKEN}")
    finally:
        state.runtime = runtime
    assert value(samples, "stellwerk_metrics_database_up") == 0
    assert "stellwerk_change_feed_lag" not in names
    assert value(samples, "stellwerk_index_passages") == 0  # what the process knows, still


def test_route_templates_name_parameters_not_values() -> None:
    route = object()
    scope = {
        "path": "/api/v1/articles/articles",
        "route": route,
        "path_params": {"slug": "articles"},
    }
    assert route_template(scope, ()) == "/api/v1/articles/{slug}"
    scope = {"path": "/static/css/site.css"}
    assert route_template(scope, ("/static",)) == "/static/{path}"
    assert route_template({"path": "/random/1"}, ("/static",)) == "unmatched"
