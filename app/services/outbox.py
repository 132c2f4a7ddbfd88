"""The delivery queue: write-backs and notifications persisted in the database, sent by a
worker with retries and backoff, visible in the delivery log; nothing lost on a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.schemas.connectors import DeliveryList, DeliveryOut
from db.models import OutboxItem, utcnow
from db.session import page, transaction

# `inbound`: a webhook delivery whose suggestion missed the webhook deadline, taken later;
# `digest`: a weekly digest for a team's or a firm's endpoint.
KINDS = ("note", "group", "contractor", "inbound", "digest")


def enqueue(
    session: Session, *, connector: str | None, kind: str, target: str, payload: dict[str, Any]
) -> OutboxItem:
    """Queue one delivery in the caller's transaction: it exists once that commits."""
    if kind not in KINDS:
        raise ValueError(f"unknown delivery kind {kind!r}")
    item = OutboxItem(
        connector=connector, kind=kind, target=target[:300], payload=payload, status="pending"
    )
    session.add(item)
    session.flush()
    return item


@dataclass(frozen=True)
class Backoff:
    first: float
    longest: float
    attempts: int

    def delay(self, attempt: int) -> timedelta:
        """The wait after failed attempt `attempt` (1-based): first, 2*first, ... longest."""
        return timedelta(seconds=min(self.longest, self.first * 2 ** (attempt - 1)))


def claim_due(factory: sessionmaker[Session], *, limit: int, now: datetime) -> list[OutboxItem]:
    """Due pending deliveries, each marked `sending` by a compare-and-set, so that two
    workers (two replicas) never take the same one. The attempt is counted on claim."""
    with factory() as session:
        ids = list(
            session.scalars(
                select(OutboxItem.id)
                .where(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now)
                .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
                .limit(limit)
            )
        )
    claimed: list[OutboxItem] = []
    for item_id in ids:
        with transaction(factory) as session:
            result = session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id, OutboxItem.status == "pending")
                .values(status="sending", attempts=OutboxItem.attempts + 1)
            )
            if getattr(result, "rowcount", 0) == 1:
                item = session.get(OutboxItem, item_id)
                if item is not None:
                    claimed.append(item)
    return claimed


def in_doubt(factory: sessionmaker[Session]) -> list[int]:
    """Deliveries a stopped worker was sending: the tool may have them already. They go
    back to pending, flagged, so the next attempt first asks the tool (by the marker)."""
    with transaction(factory) as session:
        rows = list(session.scalars(select(OutboxItem).where(OutboxItem.status == "sending")))
        for row in rows:
            row.status = "pending"
            row.payload = {**row.payload, "in_doubt": True}
        return [row.id for row in rows]


def mark_delivered(factory: sessionmaker[Session], item_id: int) -> None:
    with transaction(factory) as session:
        item = session.get(OutboxItem, item_id)
        if item is not None:
            item.status = "delivered"
            item.delivered_at = utcnow()
            item.last_error = None


def mark_failed(
    factory: sessionmaker[Session], item_id: int, error: str, backoff: Backoff, *, final: bool
) -> None:
    """Back to pending with the next attempt later, or `failed` after the last attempt (or
    at once when the tool refused it: another attempt would be refused alike)."""
    with transaction(factory) as session:
        item = session.get(OutboxItem, item_id)
        if item is None:
            return
        item.last_error = error[:2000]
        if final or item.attempts >= backoff.attempts:
            item.status = "failed"
        else:
            item.status = "pending"
            item.next_attempt_at = utcnow() + backoff.delay(item.attempts)


def retry_failed(session: Session, item_id: int | None = None) -> int:
    """Failed deliveries back to the queue (one, or all): due at once, attempts reset."""
    query = update(OutboxItem).where(OutboxItem.status == "failed")
    if item_id is not None:
        query = query.where(OutboxItem.id == item_id)
    result = session.execute(query.values(status="pending", attempts=0, next_attempt_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def delivery_out(item: OutboxItem) -> DeliveryOut:
    return DeliveryOut(
        id=item.id,
        connector=item.connector,
        kind=item.kind,
        target=item.target,
        status=item.status,
        attempts=item.attempts,
        next_attempt_at=item.next_attempt_at,
        last_error=item.last_error,
        created_at=item.created_at,
        delivered_at=item.delivered_at,
    )


def list_deliveries(
    session: Session,
    *,
    connector: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> DeliveryList:
    """The delivery log, newest first. Payloads stay out: they are notes about tickets."""
    query = select(OutboxItem)
    if connector:
        query = query.where(OutboxItem.connector == connector)
    if status:
        query = query.where(OutboxItem.status == status)
    rows, total = page(session, query, OutboxItem.id.desc(), limit=limit, offset=offset)
    counted = session.execute(
        select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
    ).all()
    return DeliveryList(
        deliveries=[delivery_out(r) for r in rows],
        total=total,
        counts={status_: int(count) for status_, count in counted},
    )
