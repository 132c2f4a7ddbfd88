"""Prometheus metrics of one app: its own registry, request timing, and figures read at scrape.

Every app built by `create_app` holds one `Metrics` (never prometheus-client's global
registry, so apps in one process, as in tests, count apart). Requests are labelled by the
route's template (`/api/v1/articles/{slug}`), never the raw path, so the label values stay
few. What the database or the runtime knows (index size, change-feed lag, router, connector
deliveries) is read when Prometheus scrapes, not kept up to date on every change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.models import ConnectorConfig, InboundDelivery, IndexChange, OutboxItem

if TYPE_CHECKING:
    from app.state import AppState

log = logging.getLogger("stellwerk.metrics")

# Encoding a query takes milliseconds, a ticket with a long log up to seconds on a CPU.
_STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"  # the label of requests no route answered (404s of random paths)
# Any token is a method to HTTP; others are one label value, or a client could make series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    """The registry of one app and the families its code counts into."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("method", "route", "status")
        self.requests = Counter(
            "stellwerk_http_requests",
            "HTTP requests answered, by method, route template and status.",
            labels,
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "stellwerk_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            labels,
            registry=self.registry,
        )
        self.stage_seconds = {
            stage: Histogram(
                f"stellwerk_{stage}_seconds",
                description,
                registry=self.registry,
                buckets=_STAGE_BUCKETS,
            )
            for stage, description in (
                ("encode", "Time to embed a query or a new ticket with the index model."),
                ("search", "Time of one index search (dense, BM25 or both, fused)."),
                ("routing", "Time to route one ticket to a team (with the second model)."),
            )
        }
        self.auth_failures = Counter(
            "stellwerk_auth_failures",
            "Failed authentications (API and sign-in), by reason.",
            ("reason",),
            registry=self.registry,
        )
        self.limit_rejections = Counter(
            "stellwerk_limit_rejections",
            "Requests refused by a limit: auth_failures (429), key_rate (429), key_queue (503).",
            ("limit",),
            registry=self.registry,
        )

    def observe_stage(self, stage: str, seconds: float) -> None:
        """The timing hook handed to the live index and the router."""
        histogram = self.stage_seconds.get("routing" if stage == "route" else stage)
        if histogram is not None:
            histogram.observe(seconds)

    def watch(self, state: AppState) -> None:
        """Read the runtime's figures at every scrape (see `RuntimeCollector`)."""
        self.registry.register(RuntimeCollector(state))


class RuntimeCollector(Collector):
    """Figures read at scrape time: readiness, index, change feed, router, connectors."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        runtime = self.state.runtime
        ready = GaugeMetricFamily("stellwerk_ready", "1 once the index is loaded, else 0.")
        ready.add_metric([], 1.0 if runtime is not None else 0.0)
        yield ready
        if runtime is None:
            return
        live = runtime.live_index
        yield _gauge("stellwerk_index_passages", "Passages in this replica's index.", len(live))
        yield _gauge(
            "stellwerk_index_watermark",
            "Newest change-log sequence number this replica's index has applied.",
            live.watermark,
        )
        status = runtime.router.status()
        info = GaugeMetricFamily(
            "stellwerk_router_model",
            "1 for the serving routing model, labelled by stage and version.",
            labels=("stage", "version"),
        )
        info.add_metric([status.stage, status.version or ""], 1.0)
        yield info
        yield _gauge("stellwerk_router_training", "1 while a training runs.", status.training)
        yield _gauge("stellwerk_router_tickets", "Tickets the serving model knows.", status.tickets)
        if status.training_seconds is not None:
            yield _gauge(
                "stellwerk_router_last_training_seconds",
                "How long the last training attempt took.",
                status.training_seconds,
            )
        try:
            yield from self._from_database(live.watermark)
        except Exception as exc:  # a scrape never fails: the database figures are left out
            log.warning("metrics: database figures left out: %s", type(exc).__name__)
            yield _gauge("stellwerk_metrics_database_up", "1 if the scrape read the database.", 0)

    def _from_database(self, watermark: int) -> Iterator[Metric]:
        runtime = self.state.ready()
        with runtime.session_factory() as session:
            head = session.scalar(select(func.max(IndexChange.seq))) or 0
            outbox = session.execute(
                select(OutboxItem.connector, OutboxItem.status, func.count()).group_by(
                    OutboxItem.connector, OutboxItem.status
                )
            ).all()
            inbound = session.execute(
                select(ConnectorConfig.name, InboundDelivery.outcome, func.count())
                .join(ConnectorConfig, ConnectorConfig.id == InboundDelivery.connector_id)
                .group_by(ConnectorConfig.name, InboundDelivery.outcome)
            ).all()
        yield _gauge("stellwerk_metrics_database_up", "1 if the scrape read the database.", 1)
        yield _gauge(
            "stellwerk_change_feed_head", "Newest sequence number in the change log.", head
        )
        yield _gauge(
            "stellwerk_change_feed_lag",
            "Changes in the log this replica's index has not applied yet.",
            max(0, head - watermark),
        )
        deliveries = GaugeMetricFamily(
            "stellwerk_connector_outbox_items",
            "Write-backs and notifications in the outbox, by connector and status "
            "(pending, sending, delivered, failed).",
            labels=("connector", "status"),
        )
        for connector, status, count in outbox:
            deliveries.add_metric([connector or "", status], float(count))
        yield deliveries
        received = GaugeMetricFamily(
            "stellwerk_connector_inbound_deliveries",
            "Webhook deliveries taken in, by connector and outcome.",
            labels=("connector", "outcome"),
        )
        for connector, outcome, count in inbound:
            received.add_metric([connector, outcome], float(count))
        yield received


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def route_template(scope: Scope, mounts: tuple[str, ...]) -> str:
    """The template of the route that answered: the path with its parameters put back.

    FastAPI puts the matched route and its `path_params` in the scope; an included router's
    route knows only its own part of the path, so the template is rebuilt from the request's
    path, each parameter's segment (from the right) named again."""
    route = scope.get("route")
    path: str = scope.get("path", "")
    if route is None:
        for mount in mounts:
            if path.startswith(mount + "/"):
                return mount + "/{path}"
        return UNMATCHED
    segments = path.split("/")
    for name, value in (scope.get("path_params") or {}).items():
        text = str(value)
        if "/" in text and path.endswith("/" + text):  # a {name:path} parameter, last
            segments = [*"/".join(segments).removesuffix("/" + text).split("/"), f"{{{name}}}"]
            continue
        for position in range(len(segments) - 1, 0, -1):
            if segments[position] == text:
                segments[position] = f"{{{name}}}"
                break
        else:  # not found as a segment (a converter changed it): the route's own, bounded
            return str(getattr(route, "path", UNMATCHED))
    return "/".join(segments)


class RequestMetrics:
    """ASGI middleware: counts and times every HTTP request by route template and status."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, mounts: tuple[str, ...] = ()) -> None:
        self.app = app
        self.metrics = metrics
        self.mounts = mounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception escaping here becomes a 500 in the error handler

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            labels = (method, route_template(scope, self.mounts), str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.request_seconds.labels(*labels).observe(time.perf_counter() - started)
