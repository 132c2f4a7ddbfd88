"""The router the app holds: routes without waiting, retrains in the background, reports why."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from index.embedder import Embedder, Vectors
from ingest.ticket_vectors import SecondReading
from routing.config import RoutingConfig
from routing.decision import RoutingDecision, decide
from routing.errors import RoutingError
from routing.features import TicketText
from routing.model import calibration_report
from routing.second_model import SecondModel
from routing.shared import (
    fetch,
    newest_manifest,
    newest_version,
    publish,
    trainer_lease,
    training_state,
)
from routing.staged import RoutingModel
from routing.store import RoutingManifest, load_routing_model, save_routing_model
from routing.training import train_from_database

log = logging.getLogger("stellwerk.routing")


@dataclass(frozen=True)
class RouterStatus:
    """What is serving, and how the last training went."""

    stage: str
    model_id: str | None
    second_model_id: str | None
    trained_at: str | None
    tickets: int
    teams: dict[str, int]
    training: bool
    last_attempt_at: str | None
    last_outcome: str | None  # "trained", "rejected" or "failed"
    last_reason: str | None
    # The shared store's version (routing.shared) every replica serves alike, else the
    # serving model's checksum, shortened.
    version: str | None = None
    training_seconds: float | None = None  # how long the last training attempt took


def classifier_metrics(model: RoutingModel) -> dict[str, Any]:
    """What the saved manifest tells about the classifier: its learners and the choice."""
    if model.classifier is None:
        return {}
    metrics: dict[str, Any] = {"learners": list(model.classifier.learners)}
    if model.classifier.learner_choice:
        metrics["learner_choice"] = dict(model.classifier.learner_choice)
    if model.classifier.model_choice:
        metrics["model_choice"] = dict(model.classifier.model_choice)
    calibration = calibration_report(model.classifier)
    if calibration:
        metrics["calibration"] = calibration
    return metrics


def describe_training(manifest: RoutingManifest) -> str:
    """One line: the stage, the tickets and, with a second model, whether it was kept."""
    text = f"{manifest.stage} model on {manifest.tickets} tickets"
    choice = manifest.metrics.get("learner_choice")
    if manifest.second_model_id and choice:
        verdict = "kept" if choice["second_kept"] else "dropped"
        text += (
            f"; second model {manifest.second_model_id} {verdict} (cross-validated log-loss "
            f"{choice['log_loss_with_second']} with it, {choice['log_loss_without_second']} "
            "without)"
        )
    model_choice = manifest.metrics.get("model_choice")
    if model_choice:
        text += f"; chose {model_choice['chosen']}: {model_choice['reason']}"
    return text


def _shrink_and_map(calibration: dict[str, Any]) -> str:
    """The shrink towards the team shares and whether the isotonic map was kept, and why."""
    text = f", confidence shrunk {calibration.get('prior_weight', 0.0)} towards the team shares"
    brier = calibration.get("top_label_brier")
    if brier:
        verdict = "kept" if calibration.get("isotonic") else "not kept"
        text += (
            f"; isotonic map {verdict} (held-out top-label Brier {brier[1]} with it, "
            f"{brier[0]} without)"
        )
    return text


def describe_calibration(manifest: RoutingManifest) -> list[str]:
    """The calibration and its reliability table (held-out training tickets), as lines."""
    calibration = manifest.metrics.get("calibration")
    if not calibration:
        return []
    lines = [
        f"calibration: temperature {calibration['temperature']}, "
        f"{calibration['rare_teams_capped']} team(s) under 9 tickets capped at n/(n+1)"
        + _shrink_and_map(calibration),
        "reliability (held-out training tickets): band  tickets  stated  observed",
    ]
    lines += [
        f"  {row['band']}  {row['tickets']:>7}  {row['confidence']:.3f}  {row['accuracy']:.3f}"
        for row in calibration.get("reliability_held_out", [])
    ]
    return lines


class Router:
    """Holds the serving routing model; a retrain swaps it only when it succeeds."""

    def __init__(
        self,
        root: Path,
        *,
        config: RoutingConfig,
        model: RoutingModel | None = None,
        manifest: RoutingManifest | None = None,
        second: SecondModel | None = None,
    ) -> None:
        self.root = root
        self.config = config
        self.second = second
        self._model = model
        self._manifest = manifest
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False
        self._stop = threading.Event()
        self._last_started = float("-inf")
        self._last_attempt_at: str | None = None
        self._last_outcome: str | None = None
        self._last_reason: str | None = None
        self.version: int | None = None  # the shared store's version serving (routing.shared)
        self.expected_model_id: str | None = None  # the index model a shared model must match
        self._syncing = threading.Event()
        self._training_seconds: float | None = None
        # Told how long each route() takes (the app's metrics); routing imports no app.
        self.on_timing: Callable[[str, float], None] | None = None

    @classmethod
    def open(
        cls,
        root: Path,
        *,
        config: RoutingConfig,
        model_id: str,
        second: SecondModel | None = None,
    ) -> Router:
        """Load the saved model; a missing or unusable one leaves the router empty, with why.

        `second` is the classifier's second embedding model; a saved classifier trained
        with another one (or without, or with none configured now) is not loaded.
        """
        router = cls(root, config=config, second=second)
        router.expected_model_id = model_id
        try:
            loaded = load_routing_model(
                root,
                expected_model_id=model_id,
                expected_second_model_id=second.model_id if second is not None else None,
            )
        except RoutingError as exc:
            log.warning("routing model not loaded: %s", exc)
            router._record("failed", str(exc))
            return router
        if loaded is None:
            return router
        model, manifest = loaded
        if model.needs_second_vector and second is not None:
            try:  # load it now: the first /suggest should not wait for it, or fail on it
                second.load()
            except Exception as exc:
                log.warning("routing model not loaded: its second model fails: %s", exc)
                router._record("failed", f"second model {second.model_id}: {exc}")
                return router
        router._model, router._manifest = model, manifest
        return router

    @property
    def model(self) -> RoutingModel | None:
        return self._model

    @property
    def second_wanted(self) -> str | None:
        """The second model whose reading of a ticket `route` needs now, or None."""
        model = self._model
        if model is None or not model.needs_second_vector or self.second is None:
            return None
        return self.second.model_id

    def route(
        self, ticket: TicketText, vector: Vectors, second: SecondReading | None = None
    ) -> RoutingDecision:
        """Route with whatever model is serving now; never waits for a training.

        `vector` is the ticket embedded by the index model as a document; the second
        model's vector is taken from `second` when that reading fits (`SecondModel.ticket`),
        else encoded here, when the serving classifier uses one.
        """
        started = time.perf_counter()
        try:
            return self._route(ticket, vector, second)
        finally:
            if self.on_timing is not None:
                self.on_timing("route", time.perf_counter() - started)

    def _route(
        self, ticket: TicketText, vector: Vectors, second: SecondReading | None
    ) -> RoutingDecision:
        model = self._model  # one read: a concurrent swap cannot mix two models
        if model is None:
            return replace(
                decide({}, stage="none", min_confidence=self.config.min_confidence),
                reason="dispatcher decides: the router has no model yet (no charters, no "
                "tickets, or training still running).",
            )
        second_vector = None
        if model.needs_second_vector:
            if self.second is None:  # Router.open refuses such a model; kept for direct use
                raise RoutingError("The routing classifier needs its second embedding model.")
            second_vector = self.second.ticket(ticket, second)
        return model.route(ticket.lexical, vector, self.config, second_vector)

    def _record(self, outcome: str, reason: str | None) -> None:
        self._last_attempt_at = datetime.now(UTC).isoformat()
        self._last_outcome = outcome
        self._last_reason = reason

    def retrain(
        self, factory: sessionmaker[Session], embedder: Embedder, *, unless_current: bool = False
    ) -> bool:
        """Train from the database, save and swap; on failure keep serving and record why.

        With `unless_current` (the trainings the service starts on changes), a shared model
        trained on the data as it is now is served instead of training the same again: every
        replica sees every change, and one training per state of the data is enough for all.
        """
        self._last_started = time.monotonic()
        try:
            return self._retrain(factory, embedder, unless_current)
        finally:
            self._training_seconds = time.monotonic() - self._last_started

    def _retrain(
        self, factory: sessionmaker[Session], embedder: Embedder, unless_current: bool
    ) -> bool:
        serving = self._model.stage if self._model is not None else "none"
        current: int | None = None
        try:
            with factory() as session, trainer_lease(session) as mine:
                if not mine:  # another replica trains; its model arrives through sync()
                    self._record("skipped", "another replica holds the trainer lease")
                    return False
                state = training_state(session)
                current = self._trained_on(session, state, embedder) if unless_current else None
                if current is None:
                    model = train_from_database(
                        session, embedder, self.config, serving_stage=serving, second=self.second
                    )
                    manifest = save_routing_model(
                        self.root,
                        model,
                        metrics=classifier_metrics(model),
                        keep=self.config.models_kept,
                        trained_on=state,
                    )
                    version = publish(session, model, manifest, keep=self.config.models_kept)
        except RoutingError as exc:
            log.warning("routing training rejected: %s", exc)
            self._record("rejected", str(exc))
            return False
        except Exception as exc:  # a failed training must never take routing down
            log.exception("routing training failed")
            self._record("failed", f"{type(exc).__name__}: {exc}")
            return False
        if current is not None:
            self._record("skipped", f"version {current} is trained on the data as it is")
            if current != self.version:
                self._swap_to(factory, current)
            return False
        with self._lock:
            self._model, self._manifest, self.version = model, manifest, version
        self._record("trained", describe_training(manifest))
        log.info("routing model trained: %s", self._last_reason)
        return True

    def _trained_on(self, session: Session, state: str, embedder: Embedder) -> int | None:
        """The stored version trained on `state` for this replica's models, if it is the
        newest."""
        newest = newest_manifest(session)
        if newest is None:
            return None
        version, manifest = newest
        second = self.second.model_id if self.second is not None else None
        same_models = manifest.model_id == embedder.model_id and manifest.second_model_id in (
            None,
            second,
        )
        return version if manifest.trained_on == state and same_models else None

    def sync(self, factory: sessionmaker[Session], *, background: bool = True) -> None:
        """Swap to the newest model a replica stored, if it is newer than the serving one.

        The check is one indexed query (cheap enough for every index refresh); the fetch of
        a newer model runs in a thread unless `background` is off.
        """
        try:
            with factory() as session:
                newest = newest_version(session)
        except Exception as exc:  # routing must not fail a request over the shared store
            log.warning("routing model store not readable: %s", exc)
            return
        if newest is None or newest == self.version or self._syncing.is_set():
            return
        if not background:
            self._swap_to(factory, newest)
            return
        self._syncing.set()

        def run() -> None:
            try:
                self._swap_to(factory, newest)
            finally:
                self._syncing.clear()

        threading.Thread(target=run, name="routing-sync", daemon=True).start()

    def _swap_to(self, factory: sessionmaker[Session], version: int) -> None:
        try:
            with factory() as session:
                model, manifest = fetch(session, version)
        except RoutingError as exc:
            log.warning("routing model version %d not loaded: %s", version, exc)
            return
        expected = self.expected_model_id or (self._model.model_id if self._model else None)
        if expected is not None and model.model_id != expected:
            log.warning("routing model version %d is for another embedding model", version)
            return
        with self._lock:
            self._model, self._manifest, self.version = model, manifest, version
        log.info("routing model version %d from the shared store: %s", version, manifest.stage)

    def retrain_in_background(
        self,
        factory: sessionmaker[Session],
        embedder: Embedder,
        *,
        min_interval: float = 0.0,
        unless_current: bool = False,
    ) -> threading.Thread:
        """Start a training thread; a request during a training runs one more afterwards.

        Trainings start at least `min_interval` seconds apart, so a stream of pushed tickets
        costs one training per interval, not one per ticket. `unless_current`: see `retrain`.
        """
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return self._thread

            def run() -> None:
                while True:
                    wait = self._last_started + min_interval - time.monotonic()
                    if wait > 0:
                        self._stop.wait(wait)
                    if not self._stop.is_set():
                        self.retrain(factory, embedder, unless_current=unless_current)
                    with self._lock:
                        if not self._again or self._stop.is_set():
                            self._thread = None
                            self._again = False
                            return
                        self._again = False

            self._thread = threading.Thread(target=run, name="routing-training", daemon=True)
            self._thread.start()
            return self._thread

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no training runs or is queued; False when `timeout` ran out first."""
        deadline = time.monotonic() + timeout
        while (thread := self._thread) is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            thread.join(min(remaining, 0.1))
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop waiting trainings; a training already running finishes within `timeout`."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def status(self) -> RouterStatus:
        manifest = self._manifest
        model = self._model
        thread = self._thread
        return RouterStatus(
            stage=model.stage if model is not None else "none",
            model_id=model.model_id if model is not None else None,
            second_model_id=model.second_model_id if model is not None else None,
            trained_at=manifest.trained_at if manifest is not None else None,
            tickets=len(model.memory) if model is not None else 0,
            teams=model.memory.team_counts if model is not None else {},
            training=thread is not None and thread.is_alive(),
            last_attempt_at=self._last_attempt_at,
            last_outcome=self._last_outcome,
            last_reason=self._last_reason,
            version=(
                str(self.version)
                if self.version is not None
                else manifest.checksum[:12]
                if manifest is not None
                else None
            ),
            training_seconds=self._training_seconds,
        )
