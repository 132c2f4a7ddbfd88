"""Weekly digests as messages: queued in the connectors' delivery queue (kind `digest`) for
every team with an endpoint and every firm with a contractor endpoint, sent signed like a
firm's notifications, retried with the same backoff. Queuing a week twice queues nothing."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import CLI_PRINCIPAL, Principal
from app.errors import Conflict
from app.schemas.digests import Audience
from app.services import outbox
from app.services.audit import record
from app.services.contractors import check_endpoint, find_endpoint, list_endpoints, post_signed
from app.services.digest_gaps import GapReader
from app.services.digests import digest, message_of, week_of
from connectors.errors import NotSupported
from db.models import OutboxItem, TeamEndpoint


def add_team_endpoint(
    session: Session, *, principal: Principal, team: str, url: str, secret: str
) -> TeamEndpoint:
    principal.require("admin")
    check_endpoint(url, secret)
    if session.scalar(select(TeamEndpoint).where(TeamEndpoint.team == team)) is not None:
        raise Conflict(f"Team {team!r} has an endpoint; remove it first.")
    row = TeamEndpoint(team=team, url=url, secret=secret)
    session.add(row)
    session.flush()
    record(session, principal, "digest.endpoint", f"team:{team}", url=url)
    return row


def _queued(session: Session, target: str, week: str) -> bool:
    payloads = session.scalars(
        select(OutboxItem.payload).where(OutboxItem.kind == "digest", OutboxItem.target == target)
    )
    return any(payload.get("week") == week for payload in payloads)


def enqueue_digests(session: Session, day: date, gaps: GapReader | None) -> list[str]:
    """Queue the week's digest for every team and firm with an endpoint; their targets."""
    week = week_of(day)[0].isoformat()
    audiences: list[tuple[Audience, str]] = [
        *(
            ("team", t)
            for t in session.scalars(select(TeamEndpoint.team).order_by(TeamEndpoint.team))
        ),
        *(("firm", row.firm) for row in list_endpoints(session)),
    ]
    queued = []
    for audience, name in audiences:
        target = f"{audience}:{name}"
        if _queued(session, target, week):
            continue
        found = digest(session, CLI_PRINCIPAL, audience, name, day, gaps=gaps)
        payload = {"audience": audience, "name": name, "week": week, "message": message_of(found)}
        outbox.enqueue(session, connector=None, kind="digest", target=target, payload=payload)
        queued.append(target)
    return queued


def send_digest(session: Session, client: httpx.Client, item: OutboxItem) -> None:
    name = str(item.payload.get("name", ""))
    if item.payload.get("audience") == "team":
        team = session.scalar(select(TeamEndpoint).where(TeamEndpoint.team == name))
        url, secret = (team.url, team.secret) if team is not None else (None, None)
    else:
        firm = find_endpoint(session, name)
        url, secret = (firm.url, firm.secret) if firm is not None else (None, None)
    if url is None or secret is None:
        raise NotSupported(f"{item.target} has no endpoint any more.")
    post_signed(client, url, secret, item.payload["message"], item.id)
