"""Body of GET /kpis: the KPI families over a time range, per team and per week or month.

Definitions in docs/KPIS.md. A family the caller may not see is `null` (a contractor sees
only the figures of its own firm's suggestions)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

Interval = Literal["week", "month"]
Band = Literal["0.0-0.5", "0.5-0.7", "0.7-0.9", "0.9-1.0", "unknown"]


class SuggestionKpis(BaseModel):
    """Suggestions answered in one period for one suggested team."""

    period: str = Field(description="First day of the week (Monday) or month, ISO date.")
    team: str | None = Field(description="The team suggested (null: none).")
    suggestions: int
    escalated: int = Field(description="Suggestions whose action was `escalate`.")
    escalation_rate: float | None
    first_level: int = Field(description="Suggestions whose action was resolve_at_first_level.")
    first_level_confirmed: int = Field(
        description="Of those, confirmed by a solution link of the ticket or a helpful mark "
        "by the same caller on a solution shown."
    )
    first_level_confirmed_rate: float | None = Field(
        description="first_level_confirmed / first_level."
    )


class RoutingKpis(BaseModel):
    """Escalation outcomes of one period for one suggested team and confidence band."""

    period: str
    team: str | None = Field(description="The team suggested.")
    band: Band = Field(description="Confidence of the ticket's first recorded suggestion.")
    outcomes: int
    agreed: int = Field(description="Outcomes whose final team is the suggested one.")
    accuracy: float | None
    mean_confidence: float | None = Field(
        description="Mean confidence in the band: beside accuracy, the live reliability."
    )


class ShareKpis(BaseModel):
    """A share: `count` of `total`; `period` null for a figure of today."""

    period: str | None
    team: str | None
    total: int
    count: int
    share: float | None


class ReuseKpis(BaseModel):
    period: str
    team: str | None
    reused: int = Field(description="Solution links made (an article solved a ticket).")
    created: int = Field(description="How-to articles created.")
    reuse_per_create: float | None


class DurationKpis(BaseModel):
    period: str
    team: str | None
    published: int = Field(description="Versions published (approved) in the period.")
    mean_hours: float | None = Field(description="Mean hours from the draft to its approval.")


class ArticleFeedbackKpis(BaseModel):
    target: str
    team: str | None
    total: int
    helpful: int
    share: float | None


class TaskKpis(BaseModel):
    team: str | None
    open: int
    mean_age_days: float | None
    max_age_days: float | None


class FirmKpis(BaseModel):
    """One contractor firm's figures in one period (a firm sees only its own row)."""

    period: str
    firm: str
    escalations: int = Field(description="Suggestions that escalated to one of its teams.")
    outcomes: int = Field(
        description="Escalation outcomes whose first or final team is one of its teams."
    )
    reassigned: int = Field(description="Of those, the final team is not the first one.")
    feedback: int = Field(
        description="Marks on articles shared with the firm by name, by staff or the firm."
    )
    helpful: int
    helpful_share: float | None


class FirmTaskKpis(BaseModel):
    """Open tasks on a firm's shared articles or its teams, today."""

    firm: str
    open: int
    mean_age_days: float | None


class Kpis(BaseModel):
    start: date = Field(description="First day counted (UTC).")
    end: date = Field(description="Last day counted (UTC), inclusive.")
    interval: Interval
    team: str | None
    scope: Literal["all", "firm"] = Field(
        description="`firm`: only the suggestions of the caller's own firm are counted."
    )
    suggestions: list[SuggestionKpis]
    routing: list[RoutingKpis]
    searches: list[ShareKpis] = Field(
        description="Searches per period (`total`) and those that found nothing (`count`)."
    )
    link_rate: list[ShareKpis] | None = Field(
        description="Resolved tickets (by resolution date) linked to an article."
    )
    reuse: list[ReuseKpis] | None
    never_reused: list[ShareKpis] | None = Field(
        description="Published how-tos never linked to a ticket, per team, today."
    )
    draft_to_published: list[DurationKpis] | None
    stale: list[ShareKpis] | None = Field(
        description="Published articles past their review date, per team, today."
    )
    feedback: list[ShareKpis] | None = Field(description="Helpful marks per team and period.")
    feedback_by_article: list[ArticleFeedbackKpis] | None = Field(
        description="Helpful share per article or ticket, most marked first (at most 50)."
    )
    open_tasks: list[TaskKpis] | None
    reassignments: list[ShareKpis] = Field(
        description="Escalation outcomes with a known first team (`total`) per period and "
        "first team, and those whose final team differs (`count`)."
    )
    firms: list[FirmKpis] = Field(description="Per contractor firm: only the caller's own.")
    firm_tasks: list[FirmTaskKpis]
