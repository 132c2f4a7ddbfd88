"""A webhook answered within a bounded time (STELLWERK_WEBHOOK_DEADLINE_SECONDS): taking a
verified delivery runs in a pool of its own; when the suggestion is not ready by the
deadline, the delivery is put in the persistent queue and the tool gets 202 at once.

The computation that missed the deadline goes on: when it ends, it marks the queued
delivery done (and queues what Znuny would have applied from the answer, now gone). Should
the service stop first, the delivery worker takes the queued delivery after a restart, the
same way; the delivery id keeps the two from acting twice."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.errors import ConnectorNotFound
from app.schemas.connectors import WebhookAnswer
from app.services import outbox
from app.services.refs import ticket_id
from app.services.webhooks import (
    Accepted,
    WebhookResult,
    enqueue_writes,
    hook_config,
    take_inbound,
)
from app.settings import Settings
from connectors.base import inbound_of_payload, inbound_payload
from connectors.errors import NotSupported
from db.models import OutboxItem, utcnow
from db.session import transaction
from ingest.live_index import LiveIndex
from routing.service import Router

log = logging.getLogger("stellwerk.webhooks")

# A queued delivery whose computation is still running waits this long before the worker
# takes it too (a suggestion takes tens of milliseconds, a very slow one seconds): it runs
# twice only if the first one is lost, and then the delivery id keeps its effects single.
RUNNING_GRACE = timedelta(seconds=60)
WORKERS = 4  # suggestions computed at once for webhooks; more wait in the pool, then queue


class WebhookTaker:
    """Takes verified deliveries within the deadline, or queues them."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        live: LiveIndex,
        router: Router,
        settings: Settings,
        *,
        deadline_seconds: float | None = None,
    ) -> None:
        self.factory, self.live, self.router, self.settings = factory, live, router, settings
        self.deadline = deadline_seconds or settings.webhook_deadline_seconds
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="stellwerk-webhook")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def take(self, accepted: Accepted) -> WebhookResult:
        future = self._pool.submit(
            take_inbound,
            self.factory,
            self.live,
            self.router,
            self.settings,
            accepted.config,
            accepted.inbound,
        )
        try:
            return future.result(timeout=self.deadline)
        except FutureTimeout:
            pass
        running = not future.cancel()  # not started yet: the queue alone takes it, now
        item_id = defer(self.factory, accepted, wait=RUNNING_GRACE if running else timedelta(0))
        log.info("delivery %s of %s queued: not ready within %.1fs",
                 accepted.inbound.delivery_id, accepted.config.name, self.deadline)  # fmt: skip
        if running:
            future.add_done_callback(lambda done: self._settle(item_id, done))
        ticket = accepted.inbound.ticket
        ref = ticket_id(accepted.config.name, ticket.number) if ticket else None
        return WebhookResult(WebhookAnswer(status="queued", ticket=ref, queued=1))

    def _settle(self, item_id: int, done: Future[WebhookResult]) -> None:
        """The late computation ended: its queued delivery is done (unless a worker took it
        meanwhile, and will find it taken). What the tool would have applied from the
        answer is queued instead: only the computation that recorded the delivery has any."""
        if done.cancelled() or done.exception() is not None:
            return  # the queue takes it when due
        result = done.result()
        try:
            with transaction(self.factory) as session:
                taken = session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.id == item_id, OutboxItem.status == "pending")
                    .values(status="delivered", delivered_at=utcnow(), last_error=None)
                )
                if result.writes and result.answer.ticket:
                    connector = item_connector(session, item_id)
                    enqueue_writes(session, connector, result.answer.ticket, list(result.writes))
                if getattr(taken, "rowcount", 0) == 1 and result.writes:
                    log.info("queued delivery %d: its note goes through the queue", item_id)
        except Exception:  # the queue takes it when due
            log.exception("settling queued delivery %d failed", item_id)


def item_connector(session: Session, item_id: int) -> str:
    item = session.get(OutboxItem, item_id)
    return item.connector or "" if item is not None else ""


def defer(factory: sessionmaker[Session], accepted: Accepted, *, wait: timedelta) -> int:
    """Queue a verified delivery to be taken by the delivery worker after `wait`."""
    ticket = accepted.inbound.ticket
    target = ticket_id(accepted.config.name, ticket.number) if ticket else "delivery"
    with transaction(factory) as session:
        item = outbox.enqueue(
            session,
            connector=accepted.config.name,
            kind="inbound",
            target=target,
            payload=inbound_payload(accepted.inbound),
        )
        item.next_attempt_at = utcnow() + wait
        return item.id


def take_queued(
    factory: sessionmaker[Session],
    live: LiveIndex,
    router: Router,
    settings: Settings,
    item: OutboxItem,
) -> int:
    """The delivery worker's part: take a queued delivery as the webhook would have (its
    note through the queue, even for Znuny: the answer is gone); how many writes queued."""
    try:
        config, _ = hook_config(factory, item.connector or "")
    except ConnectorNotFound as exc:
        raise NotSupported(f"The connector {item.connector!r} was removed.") from exc
    inbound = inbound_of_payload(item.payload)
    result = take_inbound(factory, live, router, settings, config, inbound, inline=False)
    return result.answer.queued
