"""Where a poller stands with a tool that has no webhooks (GLPI 10): its interval, its
cursor in the tool's own clock, the lease of the replica polling it, its last round."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime


class ConnectorPoll(Base):
    __tablename__ = "connector_polls"

    connector_id: Mapped[int] = mapped_column(
        ForeignKey("connectors.id", ondelete="CASCADE"), primary_key=True
    )
    # None: polled only by `stellwerk connectors poll NAME`, never in the background.
    interval_seconds: Mapped[float | None] = mapped_column(Float)
    cursor: Mapped[str | None] = mapped_column(String(40))  # the newest change taken
    leased_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_changed: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
