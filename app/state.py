"""The typed state of an app: settings and limiter at once, the rest from the lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from app.errors import ServiceUnavailable
from app.failure_limiter import FailureLimiter
from app.key_limits import KeyLimits
from app.metrics import Metrics
from app.settings import Settings
from ingest.live_index import LiveIndex
from routing.service import Router

if TYPE_CHECKING:
    from app.services.delivery_worker import DeliveryWorker
    from app.services.poll_worker import PollWorker
    from app.services.webhook_deadline import WebhookTaker


@dataclass(frozen=True)
class Runtime:
    """What the lifespan builds once (database, index, router) and closes on shutdown."""

    session_factory: sessionmaker[Session]
    live_index: LiveIndex
    router: Router
    key_limits: KeyLimits
    webhooks: WebhookTaker  # takes webhook deliveries within the deadline, or queues them
    deliveries: DeliveryWorker | None = None  # sends queued write-backs (app.services.outbox)
    polls: PollWorker | None = None  # polls connectors without webhooks (GLPI 10)


@dataclass
class AppState:
    """Everything an app holds, on `app.state.stellwerk`; read it through `app_state`."""

    settings: Settings
    auth_limiter: FailureLimiter
    runtime: Runtime | None = None
    metrics: Metrics = field(default_factory=Metrics)  # this app's own registry (app.metrics)

    def ready(self) -> Runtime:
        """The runtime parts, or 503 while the service starts or stops."""
        if self.runtime is None:
            raise ServiceUnavailable("The service is starting; the index is not loaded yet.")
        return self.runtime


def app_state(app: object) -> AppState:
    """The typed state of a Stellwerk app (a FastAPI app, or a test client's `.app`)."""
    state = getattr(getattr(app, "state", None), "stellwerk", None)
    if not isinstance(state, AppState):
        raise TypeError(f"{app!r} is not a Stellwerk app (no AppState)")
    return state
