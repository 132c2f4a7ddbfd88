"""Trained routing models stored for every replica."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime


class RoutingModelRow(Base):
    """A trained routing model: the elected trainer stores it, every replica serves it."""

    __tablename__ = "routing_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trained_at: Mapped[datetime] = mapped_column(UtcDateTime())
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
