"""Errors raised while reading or ingesting documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class IngestError(Exception):
    """Input that cannot be ingested; `details` name the offending fields or lines."""

    code = "invalid_document"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


class InvalidArticle(IngestError):
    code = "invalid_article"


class InvalidTicket(IngestError):
    code = "invalid_ticket"


@dataclass(frozen=True)
class SkippedRecord:
    """A record left out of a run with `--skip-invalid`: where it is (file:line, or a file)
    and why."""

    where: str
    reason: str
