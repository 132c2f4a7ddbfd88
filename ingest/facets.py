"""The facets a passage carries in the index: what filters and visibility select on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ingest.markdown import visibility_key


class ArticleFacts(Protocol):
    """What the facets read of an article: a stored row or parsed front matter."""

    @property
    def kind(self) -> str: ...
    @property
    def team(self) -> str | None: ...
    @property
    def language(self) -> str: ...
    @property
    def audience(self) -> str: ...
    @property
    def companies(self) -> Sequence[str]: ...


class TicketFacts(Protocol):
    """What the facets read of a resolved ticket: a stored row or an incoming one."""

    @property
    def team(self) -> str | None: ...
    @property
    def language(self) -> str | None: ...


def article_facets(article: ArticleFacts) -> dict[str, str]:
    return {
        "kind": "article",
        "article_kind": article.kind,
        # Team charters route tickets but are not solutions to them.
        "solution": "no" if article.kind == "team" else "yes",
        "team": article.team or "",
        "language": article.language,
        "audience": article.audience,
        # Who may see it, as one value (see visibility_key); filters are unions of these.
        "visible_to": visibility_key(article.audience, article.companies),
    }


def ticket_facets(ticket: TicketFacts) -> dict[str, str]:
    """Tickets are internal: only staff search them."""
    return {
        "kind": "ticket",
        "solution": "yes",
        "team": ticket.team or "",
        "language": ticket.language or "",
        "audience": "internal",
        "visible_to": "internal",
    }
