"""Database tables: the source of truth from which every index is derived.

One module per concept; every name is re-exported here, so `from db.models import X`
works everywhere.
"""

from __future__ import annotations

from db.models.access import ApiKey, AuditEntry
from db.models.base import Base, UtcDateTime, as_utc, utcnow
from db.models.connectors import (
    ConnectorConfig,
    ContractorEndpoint,
    InboundDelivery,
    OutboxItem,
    TeamEndpoint,
    ToolTicket,
)
from db.models.content import Article, ArticleVersion, IndexChange, Passage, Ticket
from db.models.events import SearchEvent, SuggestionEvent, SuggestionShown
from db.models.feedback import EscalationOutcome, Feedback, SolutionLink, Task
from db.models.polls import ConnectorPoll
from db.models.pulses import Pulse
from db.models.rollups import (
    EscalatedTicket,
    FirstSuggestion,
    FixDay,
    FixPair,
    SearchDay,
    SuggestionConfirmed,
    SuggestionDay,
    TicketDay,
)
from db.models.routing import RoutingModelRow

__all__ = [
    "ApiKey",
    "Article",
    "ArticleVersion",
    "AuditEntry",
    "Base",
    "ConnectorConfig",
    "ConnectorPoll",
    "ContractorEndpoint",
    "EscalatedTicket",
    "EscalationOutcome",
    "Feedback",
    "FirstSuggestion",
    "FixDay",
    "FixPair",
    "InboundDelivery",
    "IndexChange",
    "OutboxItem",
    "Passage",
    "Pulse",
    "RoutingModelRow",
    "SearchDay",
    "SearchEvent",
    "SolutionLink",
    "SuggestionConfirmed",
    "SuggestionDay",
    "SuggestionEvent",
    "SuggestionShown",
    "Task",
    "TeamEndpoint",
    "Ticket",
    "TicketDay",
    "ToolTicket",
    "UtcDateTime",
    "as_utc",
    "utcnow",
]
