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
from app.state import AppState, app_state
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


@dataclass(frozen=True)
class KeyLookup:
    """What a presented key turned out to be: an active key, or which failure bucket it spends."""

    row: ApiKey | None
    bucket: str


def lookup_key(session: Session, key: str) -> ApiKey | None:
    """The active key row for a presented key, or None; compares digests in constant time."""
    return identify_key(session, key, address="").row


def shared_bucket(address: str) -> str:
    """The failure bucket an address's unknown prefixes and missing keys share."""
    return f"{address} *"


def identify_key(session: Session, key: str | None, *, address: str) -> KeyLookup:
    """Look a presented key up; a failure spends the bucket of (address, key prefix).

    A prefix that names no key at all spends the address's shared bucket (`*`), as does a
    missing or malformed key: guessing with fresh prefixes cannot open fresh buckets.
    """
    shared = shared_bucket(address)
    if (
        key is None
        or not key.startswith(KEY_SCHEME)
        or len(key) < PREFIX_LENGTH + 16
        or len(key) > 200
    ):
        return KeyLookup(None, shared)
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == key_prefix(key)))
    if row is None:
        return KeyLookup(None, shared)
    if not hmac.compare_digest(row.key_hash, key_digest(key)) or row.revoked_at is not None:
        return KeyLookup(None, f"{address} {row.prefix}")
    return KeyLookup(row, "")


# Declares the scheme in the OpenAPI document (the docs page gets an "Authorize" button);
# auto_error is off so that a missing key gets our own 401 in the one error shape.
bearer_scheme = HTTPBearer(auto_error=False, description="An API key: `stellwerk keys create`.")


_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def refuse_if_failing(state: AppState, address: str) -> None:
    """429 once the address's shared failure bucket is spent: a flood of bad webhook
    signatures is refused like a flood of bad keys, from the same budget."""
    wait = state.auth_limiter.retry_after(shared_bucket(address)) or 0.0
    if wait > 0:
        state.metrics.limit_rejections.labels("auth_failures").inc()
        log.warning("request refused: too many failed authentications from %s", address)
        raise TooManyRequests(
            "Too many failed authentications; try again later.",
            headers={"Retry-After": str(max(1, round(wait)))},
        )


def count_failure(state: AppState, address: str, reason: str) -> None:
    """A failed authentication other than a key's (a webhook signature), by address."""
    state.auth_limiter.failed(shared_bucket(address))
    state.metrics.auth_failures.labels(reason).inc()


def authenticate(state: AppState, address: str, key: str | None) -> Principal:
    """The principal of a presented key; shared by the API's Bearer check and the sign-in.

    A valid key always passes: failures by others never cost it anything. Failures are
    counted per (address, key prefix), so ten wrong keys from behind one proxy lock out only
    further wrong keys from there; once the address's shared bucket is spent, every wrong
    key from it gets 429, so guessing stays slow. Looked up on every request, so a revoke
    applies at once.
    """
    limiter = state.auth_limiter
    with state.ready().session_factory() as session:
        found = identify_key(session, key, address=address)
        row = found.row
        if row is None:
            wait = max(
                limiter.retry_after(found.bucket) or 0.0,
                limiter.retry_after(shared_bucket(address)) or 0.0,
            )
            if wait > 0:
                state.metrics.limit_rejections.labels("auth_failures").inc()
                log.warning("authentication refused: too many failures from %s", address)
                raise TooManyRequests(
                    "Too many failed authentications; try again later.",
                    headers={"Retry-After": str(max(1, round(wait)))},
                )
            limiter.failed(found.bucket)
            state.metrics.auth_failures.labels("no_key" if not key else "unknown_key").inc()
            if not key:
                log.warning("authentication failed from %s: no bearer key", address)
                raise Unauthorized(
                    "An API key is required: Authorization: Bearer <key>.", headers=_CHALLENGE
                )
            # The prefix identifies a key without revealing it; never log the key itself.
            log.warning(
                "authentication failed from %s: unknown or revoked key %s...",
                address,
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
        return principal_of(row)


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """Authenticate the request by its Bearer key (see `authenticate`)."""
    address = request.client.host if request.client else "unknown"
    key = credentials.credentials.strip() if credentials else None
    principal = authenticate(app_state(request.app), address, key or None)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
