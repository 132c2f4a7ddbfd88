"""One trainer for all replicas, and the model they all serve, in the database.

Every replica sees every change and would retrain; with a PostgreSQL advisory lock only
the one holding it trains (`trainer_lease`), and it stores the model in `routing_models`
(`publish`) with the state of the data it read (`training_state`), so a replica that
gets the lease later for the same data does not train it again. Every replica checks the
newest version within its refresh interval and swaps to it (`newest_version`, `fetch`),
so all of them answer with the same model. On SQLite
(one process) the lease is always granted and the table simply holds the versions.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from db.models import IndexChange, RoutingModelRow
from routing.errors import RoutingModelCorrupt
from routing.staged import RoutingModel
from routing.store import RoutingManifest, _MovedModulesUnpickler

# The lease's key, computed in SQL: one per schema, so that deployments (or test workers)
# sharing a database in schemas of their own do not wait for each other's trainer.
TRAINER_LOCK = "hashtextextended('stellwerk-train:' || current_schema(), 0)"


@contextmanager
def trainer_lease(session: Session) -> Iterator[bool]:
    """True for the one replica that may train now (PostgreSQL: an advisory lock, held on a
    connection of its own until the block ends, whatever the session commits meanwhile);
    always True elsewhere."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        yield True
        return
    engine = bind.engine
    with engine.connect() as connection:
        granted = bool(
            connection.execute(text(f"SELECT pg_try_advisory_lock({TRAINER_LOCK})")).scalar()
        )
        connection.commit()
        try:
            yield granted
        finally:
            if granted:
                connection.execute(text(f"SELECT pg_advisory_unlock({TRAINER_LOCK})"))
                connection.commit()


def publish(session: Session, model: RoutingModel, manifest: RoutingManifest, *, keep: int) -> int:
    """Store a trained model as the newest version; keeps the newest `keep`. Its id."""
    payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    manifest_data = {**asdict(manifest), "checksum": hashlib.sha256(payload).hexdigest()}
    row = RoutingModelRow(trained_at=datetime.now(UTC), manifest=manifest_data, payload=payload)
    session.add(row)
    session.flush()
    kept = select(RoutingModelRow.id).order_by(RoutingModelRow.id.desc()).limit(keep)
    session.execute(
        delete(RoutingModelRow).where(RoutingModelRow.id.not_in(kept.scalar_subquery()))
    )
    session.commit()
    return row.id


def training_state(session: Session) -> str:
    """What a training reads, in one line: the change log's length and head.

    A training reads resolved tickets and team charters (published articles), and every
    write of either through Stellwerk adds or removes passages, each logged in the change
    log, which only grows. Equal states: the same training set. A change committing out of
    sequence order lengthens the log without moving its head, so the count is part of it.
    """
    count, head = session.execute(select(func.count(), func.max(IndexChange.seq))).one()
    return f"{int(count)}:{int(head or 0)}"


def newest_manifest(session: Session) -> tuple[int, RoutingManifest] | None:
    """The newest stored version and its manifest, without reading the model itself."""
    row = session.execute(
        select(RoutingModelRow.id, RoutingModelRow.manifest)
        .order_by(RoutingModelRow.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return int(row[0]), RoutingManifest.from_json(dict(row[1]))


def newest_version(session: Session) -> int | None:
    value = session.scalar(select(func.max(RoutingModelRow.id)))
    return int(value) if value is not None else None


def fetch(session: Session, version: int) -> tuple[RoutingModel, RoutingManifest]:
    """A stored version, checked against its checksum before it is unpickled (only rows
    Stellwerk wrote itself are read)."""
    row = session.get(RoutingModelRow, version)
    if row is None:
        raise RoutingModelCorrupt(f"Routing model version {version} is gone.")
    manifest = RoutingManifest.from_json(dict(row.manifest))
    if hashlib.sha256(row.payload).hexdigest() != manifest.checksum:
        raise RoutingModelCorrupt(f"Routing model version {version} fails its checksum.")
    try:
        model = _MovedModulesUnpickler(io.BytesIO(row.payload)).load()
    except (pickle.UnpicklingError, ImportError, AttributeError, EOFError, TypeError) as exc:
        raise RoutingModelCorrupt(f"Routing model version {version} cannot be read: {exc}") from exc
    if not isinstance(model, RoutingModel):
        raise RoutingModelCorrupt(f"Routing model version {version} holds no routing model.")
    return model, manifest
