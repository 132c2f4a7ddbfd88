"""Who calls: API keys sent as `Authorization: Bearer`, roles, and a brake on guessing keys."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal, get_args

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Forbidden, TooManyRequests, Unauthorized
from app.state import app_state
from db.models import ApiKey, utcnow

log = logging.getLogger("stellwerk.auth")

Role = Literal["agent", "specialist", "contractor", "integration", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
# Everyone but contractors works for the organisation and may see internal knowledge.
STAFF_ROLES: frozenset[str] = frozenset({"agent", "specialist", "integration", "admin"})

KEY_SCHEME = "sw_"
PREFIX_LENGTH = len(KEY_SCHEME) + 8
_LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """The caller of a request, or of a CLI command (`cli`, an admin)."""

    key_id: int | None
    name: str
    role: Role
    teams: tuple[str, ...] = ()
    company: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def owns(self, team: str | None) -> bool:
        """Admins own everything; specialists own their teams' articles and tasks."""
        if self.is_admin:
            return True
        return self.role == "specialist" and team is not None and team in self.teams

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise Forbidden(f"Role {self.role} may not do this (needs one of {', '.join(roles)}).")


CLI_PRINCIPAL = Principal(key_id=None, name="cli", role="admin")


def principal_of(key: ApiKey) -> Principal:
    role: Role = key.role  # type: ignore[assignment]
    return Principal(key.id, key.name, role, tuple(key.teams), key.company)


def new_key() -> str:
    """A fresh key: 256 random bits behind a scheme marker that secret scanners can match."""
    return KEY_SCHEME + secrets.token_urlsafe(32)


def key_prefix(key: str) -> str:
    return key[:PREFIX_LENGTH]


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def lookup_key(session: Session, key: str) -> ApiKey | None:
    """The active key row for a presented key, or None; compares digests in constant time."""
    if not key.startswith(KEY_SCHEME) or len(key) < PREFIX_LENGTH + 16 or len(key) > 200:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == key_prefix(key)))
    if row is None or not hmac.compare_digest(row.key_hash, key_digest(key)):
        return None
    if row.revoked_at is not None:
        return None
    return row


# Declares the scheme in the OpenAPI document (the docs page gets an "Authorize" button);
# auto_error is off so that a missing key gets our own 401 in the one error shape.
bearer_scheme = HTTPBearer(auto_error=False, description="An API key: `stellwerk keys create`.")


_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """Authenticate the request; looked up on every request, so a revoke applies at once."""
    state = app_state(request.app)
    limiter = state.auth_limiter
    client = request.client.host if request.client else "unknown"
    wait = limiter.retry_after(client)
    if wait is not None:
        log.warning("authentication refused: too many failures from %s", client)
        raise TooManyRequests(
            "Too many failed authentications; try again later.",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    key = credentials.credentials.strip() if credentials else None
    if not key:
        limiter.failed(client)
        log.warning("authentication failed from %s: no bearer key", client)
        raise Unauthorized(
            "An API key is required: Authorization: Bearer <key>.", headers=_CHALLENGE
        )
    with state.ready().session_factory() as session:
        row = lookup_key(session, key)
        if row is None:
            limiter.failed(client)
            # The prefix identifies a key without revealing it; never log the key itself.
            log.warning(
                "authentication failed from %s: unknown or revoked key %s...",
                client,
                key_prefix(key) if key.startswith(KEY_SCHEME) else "(not a stellwerk key)",
            )
            raise Unauthorized("The API key is unknown or revoked.", headers=_CHALLENGE)
        now = utcnow()
        last = row.last_used_at
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=now.tzinfo)
        if last is None or now - last > _LAST_USED_RESOLUTION:
            row.last_used_at = now
            session.commit()
        principal = principal_of(row)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
