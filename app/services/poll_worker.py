"""The thread that polls connectors configured with an interval (GLPI 10), started and
stopped by the lifespan beside the delivery worker; `stellwerk connectors poll` runs the
same rounds from the command line."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import httpx
from sqlalchemy.orm import Session, sessionmaker

from app.services.connector_poll import due_connectors, poll_once
from app.settings import Settings
from db.models import utcnow
from ingest.live_index import LiveIndex
from routing.service import Router

log = logging.getLogger("stellwerk.polls")

TICK_SECONDS = 5.0  # how often due connectors are looked for; intervals are in seconds


class PollWorker:
    def __init__(
        self,
        factory: sessionmaker[Session],
        live: LiveIndex,
        router: Router,
        settings: Settings,
        *,
        on_queued: Callable[[], None] = lambda: None,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        self.factory, self.live, self.router, self.settings = factory, live, router, settings
        self.on_queued = on_queued
        self.tick_seconds = tick_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stellwerk-polls", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        with httpx.Client(timeout=self.settings.connector_timeout_seconds) as client:
            while not self._stop.is_set():
                try:
                    self.run_once(client)
                except Exception:  # the database may be away for a moment; try again
                    log.exception("poll round failed")
                self._stop.wait(self.tick_seconds)

    def run_once(self, client: httpx.Client) -> int:
        """Poll every due connector once; how many were polled."""
        with self.factory() as session:
            names = due_connectors(session, utcnow())
        for name in names:
            if self._stop.is_set():
                break
            try:
                summary = poll_once(
                    self.factory, self.live, self.router, self.settings, client, name=name
                )
            except Exception as exc:  # one tool away must not stop the others
                log.warning("polling %s failed: %s", name, exc)
                continue
            if summary.changed:
                log.info("polled %s: %s", name, dict(summary.outcomes))
            if summary.queued:
                self.on_queued()
        return len(names)
