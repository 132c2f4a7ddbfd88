"""The worker that sends queued deliveries: one thread in the service, started and stopped
by the lifespan; also callable once (`stellwerk connectors deliver`, tests)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import httpx
from sqlalchemy.orm import Session, sessionmaker

from app.services import outbox
from app.services.connectors import tool_settings
from app.services.contractors import send_notification
from app.services.digest_delivery import send_digest
from connectors.base import MARKER_PREFIX, Note
from connectors.errors import ConnectorError, NotSupported, ToolUnavailable
from connectors.registry import connector_for
from db.models import ConnectorConfig, OutboxItem, utcnow

log = logging.getLogger("stellwerk.deliveries")

BATCH = 20


class DeliveryWorker:
    """Sends due deliveries; a failure waits by backoff, a refusal is marked failed."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        backoff: outbox.Backoff,
        poll_seconds: float,
        timeout_seconds: float,
        client: Callable[[], httpx.Client] | None = None,
        take_inbound: Callable[[OutboxItem], int] | None = None,
    ) -> None:
        self.factory = factory
        # Takes a webhook delivery queued at the deadline (needs the index and the router).
        self.take_inbound = take_inbound
        self.backoff = backoff
        self.poll_seconds = poll_seconds
        self._client = client or (lambda: httpx.Client(timeout=timeout_seconds))
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        doubtful = outbox.in_doubt(self.factory)
        if doubtful:
            log.warning("%d deliveries were being sent when the service stopped", len(doubtful))
        self._thread = threading.Thread(target=self._run, name="stellwerk-deliveries", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for due deliveries now (a webhook just queued one)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        with self._client() as client:
            while not self._stop.is_set():
                try:
                    sent = self.run_once(client)
                except Exception:  # the database may be away for a moment; try again
                    log.exception("delivery worker round failed")
                    sent = 0
                if not sent:
                    self._wake.wait(self.poll_seconds)
                    self._wake.clear()

    def run_once(self, client: httpx.Client) -> int:
        """Send what is due now; how many were attempted."""
        items = outbox.claim_due(self.factory, limit=BATCH, now=utcnow())
        for item in items:
            if self._stop.is_set():
                break
            self._deliver(client, item)
        return len(items)

    def _deliver(self, client: httpx.Client, item: OutboxItem) -> None:
        try:
            self._send(client, item)
        except ToolUnavailable as exc:
            log.warning("delivery %d (%s %s) failed: %s", item.id, item.kind, item.target, exc)
            outbox.mark_failed(self.factory, item.id, str(exc), self.backoff, final=False)
        except ConnectorError as exc:
            log.warning("delivery %d (%s %s) refused: %s", item.id, item.kind, item.target, exc)
            outbox.mark_failed(self.factory, item.id, str(exc), self.backoff, final=True)
        except Exception as exc:
            log.exception("delivery %d (%s %s) failed", item.id, item.kind, item.target)
            outbox.mark_failed(self.factory, item.id, type(exc).__name__, self.backoff, final=False)
        else:
            outbox.mark_delivered(self.factory, item.id)

    def _send(self, client: httpx.Client, item: OutboxItem) -> None:
        if item.kind == "inbound":
            if self.take_inbound is None:
                raise ToolUnavailable("Queued webhook deliveries are taken by the service.")
            self.take_inbound(item)  # its writes are new items, sent in the next round
            return
        if item.kind in ("contractor", "digest"):
            send = send_notification if item.kind == "contractor" else send_digest
            with self.factory() as session:
                send(session, client, item)
            return
        with self.factory() as session:
            from sqlalchemy import select

            row = session.scalar(
                select(ConnectorConfig).where(ConnectorConfig.name == item.connector)
            )
            if row is None:
                raise NotSupported(f"The connector {item.connector!r} was removed.")
            settings = tool_settings(row)
            tool = row.tool
        connector = connector_for(tool)
        key = str(item.payload["ticket_key"])
        if item.kind == "group":
            connector.set_group(client, settings, key, str(item.payload["group"]))
            return
        marker = f"{MARKER_PREFIX}{item.id}"
        if item.payload.get("in_doubt"):
            # The last attempt may have reached the tool before the service stopped.
            try:
                if connector.has_note(client, settings, key, marker):
                    log.info("delivery %d was already in %s", item.id, item.connector)
                    return
            except NotSupported:
                pass
        connector.add_note(client, settings, key, Note(str(item.payload["text"]), marker))
