"""Contractor firms told when a ticket is escalated to a team they work for: per firm an
endpoint and a secret; the message is signed (HMAC-SHA256) and holds only what the firm
may see: the ticket's summary, the escalation rule, links to articles shared with it."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.errors import Conflict, InvalidInput, NotFound
from app.services.audit import record
from app.services.suggest import Suggestion
from app.services.visibility import contractor_may_see
from connectors.errors import NotSupported
from connectors.http import send
from connectors.signatures import hex_hmac
from db.models import Article, ContractorEndpoint, OutboxItem
from ingest.markdown import company_key

SIGNATURE_HEADER = "X-Stellwerk-Signature"


def check_endpoint(url: str, secret: str) -> None:
    """An endpoint's URL is HTTP(S) and its signing secret long enough to resist guessing."""
    if not url.startswith(("https://", "http://")):
        raise InvalidInput(f"Invalid URL {url!r}.")
    if len(secret) < 16:
        raise InvalidInput("An endpoint's secret needs at least 16 characters.")


def add_endpoint(
    session: Session, *, principal: Principal, firm: str, url: str, secret: str
) -> ContractorEndpoint:
    principal.require("admin")
    check_endpoint(url, secret)
    if find_endpoint(session, firm) is not None:
        raise Conflict(f"Firm {firm!r} has an endpoint; remove it first.")
    row = ContractorEndpoint(firm=firm, url=url, secret=secret)
    session.add(row)
    session.flush()
    record(session, principal, "contractor.endpoint", f"firm:{firm}", url=url)
    return row


def find_endpoint(session: Session, firm: str) -> ContractorEndpoint | None:
    wanted = company_key(firm)
    for row in session.scalars(select(ContractorEndpoint)):
        if company_key(row.firm) == wanted:
            return row
    return None


def list_endpoints(session: Session) -> list[ContractorEndpoint]:
    return list(session.scalars(select(ContractorEndpoint).order_by(ContractorEndpoint.firm)))


def remove_endpoint(session: Session, *, principal: Principal, firm: str) -> None:
    principal.require("admin")
    row = find_endpoint(session, firm)
    if row is None:
        raise NotFound(f"No endpoint for firm {firm!r}.")
    session.delete(row)
    record(session, principal, "contractor.endpoint.delete", f"firm:{firm}")


def _absolute(link: str, public_url: str | None) -> str:
    return f"{public_url.rstrip('/')}{link}" if public_url and link.startswith("/") else link


def contractor_message(
    session: Session,
    suggestion: Suggestion,
    *,
    ticket_ref: str,
    title: str,
    public_url: str | None,
) -> tuple[str, dict[str, Any]] | None:
    """(firm, message) when the ticket goes to a team of a firm with an endpoint."""
    escalation = suggestion.escalation
    firm = escalation.contractor
    if escalation.action != "escalate" or not firm or find_endpoint(session, firm) is None:
        return None
    slugs = [s.id.removeprefix("article:") for s in suggestion.solutions if s.kind == "article"]
    if escalation.guideline is not None:
        slugs.append(escalation.guideline.slug)
    shared = [
        {"title": a.title, "link": _absolute(f"/api/v1/articles/{a.slug}", public_url)}
        for a in session.scalars(select(Article).where(Article.slug.in_(slugs)))
        if a.status == "published" and contractor_may_see(firm, a.audience, a.companies)
    ]
    message = {
        "event": "ticket.escalated",
        "firm": firm,
        "ticket": {"id": ticket_ref, "summary": title},
        "team": escalation.team,
        "escalation": {
            "reason": escalation.reason,
            "criteria": escalation.guideline.criteria if escalation.guideline else [],
        },
        "articles": shared,
    }
    return firm, message


def signed(secret: str, body: bytes, timestamp: int) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>." + body>`: a receiver rejects old ones."""
    return "sha256=" + hex_hmac(secret, f"{timestamp}.".encode() + body)


def send_notification(session: Session, client: httpx.Client, item: OutboxItem) -> None:
    endpoint = find_endpoint(session, str(item.payload.get("firm", "")))
    if endpoint is None:
        raise NotSupported(f"Firm {item.payload.get('firm')!r} has no endpoint any more.")
    post_signed(client, endpoint.url, endpoint.secret, item.payload["message"], item.id)


def post_signed(
    client: httpx.Client, url: str, secret: str, message: dict[str, Any], delivery_id: int
) -> None:
    """POST a message as JSON, signed with the endpoint's secret and a timestamp."""
    body = json.dumps(message, sort_keys=True).encode("utf-8")
    timestamp = int(time.time())
    send(
        client,
        "POST",
        url,
        content=body,
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signed(secret, body, timestamp),
            "X-Stellwerk-Timestamp": str(timestamp),
            # The same id on a resend: a firm counts each notification once.
            "X-Stellwerk-Delivery": str(delivery_id),
        },
    )
