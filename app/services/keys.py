"""Create, list and revoke API keys; a key is shown once and stored only as a digest."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import ROLES, Principal, key_digest, key_prefix, new_key
from app.errors import Conflict, InvalidInput, KeyNotFound
from app.schemas.keys import KeyOut
from app.services.audit import record
from db.models import ApiKey, utcnow


def key_out(key: ApiKey) -> KeyOut:
    return KeyOut(
        id=key.id,
        name=key.name,
        role=key.role,
        teams=list(key.teams),
        company=key.company,
        prefix=key.prefix,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
    )


def create_key(
    session: Session,
    *,
    actor: Principal,
    name: str,
    role: str,
    teams: list[str],
    company: str | None,
) -> tuple[ApiKey, str]:
    """Store a new key in the caller's transaction; returns (row, the key in clear, once)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("A key needs a name of 1 to 200 characters.")
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}; one of {', '.join(ROLES)}.")
    teams = sorted({team.strip() for team in teams if team.strip()})
    company = company.strip() if company else None
    if role == "specialist" and not teams:
        raise InvalidInput("A specialist key needs at least one --team.")
    if role != "specialist" and teams:
        raise InvalidInput("Only specialist keys belong to teams.")
    if role == "contractor" and not company:
        raise InvalidInput("A contractor key needs --company.")
    if role != "contractor" and company:
        raise InvalidInput("Only contractor keys belong to a company.")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(f"A key named {name!r} exists already.")
    while True:
        token = new_key()
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == key_prefix(token))) is None:
            break
    key = ApiKey(
        name=name,
        role=role,
        teams=teams,
        company=company,
        prefix=key_prefix(token),
        key_hash=key_digest(token),
        created_at=utcnow(),
    )
    session.add(key)
    session.flush()
    record(session, actor, "key.create", f"key:{key.id}", name=name, role=role)
    return key, token


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def find_key(session: Session, id_or_name: str) -> ApiKey:
    key = None
    if id_or_name.isdigit():
        key = session.get(ApiKey, int(id_or_name))
    if key is None:
        key = session.scalar(select(ApiKey).where(ApiKey.name == id_or_name))
    if key is None:
        raise KeyNotFound(f"No key with id or name {id_or_name!r}.")
    return key


def revoke_key(session: Session, *, actor: Principal, id_or_name: str) -> ApiKey:
    key = find_key(session, id_or_name)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record(session, actor, "key.revoke", f"key:{key.id}", name=key.name)
    return key


def active_key(session: Session, key_id: int) -> ApiKey | None:
    """The key with this id unless it is revoked (or gone): a web session's sign-in."""
    key = session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        return None
    return key
