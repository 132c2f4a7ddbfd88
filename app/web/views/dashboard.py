"""The lead dashboard: the knowledge KPIs and gaps as figures and server-rendered SVG charts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api.params import IsoDate
from app.deps import LiveIndexDep, PagePrincipalDep, SessionDep, SettingsDep
from app.services.gaps import mine_gaps, ticket_document_encoder
from app.services.kpis import date_range, kpis
from app.services.stats import knowledge_stats
from app.services.visibility import visibility_for
from app.web.render import render
from app.web.views import dashboard_gaps
from app.web.views import dashboard_kpis as charts
from app.web.views.dashboard_loop import loop_charts
from db.models import utcnow

router = APIRouter(include_in_schema=False)

BAR_HEIGHT = 22
CHART_WIDTH = 480
LABEL_WIDTH = 140


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int


def bars(counts: dict[str, int]) -> list[Bar]:
    """Horizontal bars, longest first, scaled to the chart's width."""
    top = max(counts.values(), default=0) or 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    room = CHART_WIDTH - LABEL_WIDTH - 40
    return [
        Bar(label or "-", value, index * (BAR_HEIGHT + 6), max(1, round(room * value / top)))
        for index, (label, value) in enumerate(ordered)
    ]


@router.get("/dashboard")
def dashboard(
    request: Request,
    session: SessionDep,
    principal: PagePrincipalDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    start: Annotated[IsoDate | None, Query(alias="from")] = None,
    end: Annotated[IsoDate | None, Query(alias="to")] = None,
    team: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Admins and specialists (team leads hold specialist keys); others get the API's 403.
    The KPIs over the chosen days (default: the last 90), per team (docs/KPIS.md)."""
    principal.require("admin", "specialist")
    visibility = visibility_for(session, principal)
    stats = knowledge_stats(session, visibility)
    chart = bars(stats.articles_by_team)
    first, last = date_range(start, end, utcnow().date())
    figures = kpis(session, visibility, start=first, end=last)
    rows = charts.team_rows(figures)
    escalation = charts.escalation_bars(rows)
    reliability = charts.reliability_bars(figures)
    gaps = mine_gaps(
        session,
        visibility,
        start=first,
        end=last,
        team=team or None,
        model_id=live.embedder.model_id,
        encode=ticket_document_encoder(live.embedder, settings.chunk_max_words),
    )
    gap_bars = dashboard_gaps.gap_bars(gaps)
    return render(
        request,
        "dashboard.html",
        {
            "stats": stats,
            "bars": chart,
            "chart_height": max(1, len(chart)) * (BAR_HEIGHT + 6),
            "chart_width": CHART_WIDTH,
            "label_width": LABEL_WIDTH,
            "bar_height": BAR_HEIGHT,
            "range": {"from": first.isoformat(), "to": last.isoformat()},
            "kpi_rows": rows,
            "escalation_bars": escalation,
            "escalation_height": charts.chart_height(escalation),
            "reliability_bars": reliability,
            "reliability_height": charts.chart_height(reliability),
            **loop_charts(session, principal, first, last),
            "gaps": gaps,
            "gap_team": team or "",
            "gap_teams": sorted(name for name in stats.articles_by_team if name),
            "gap_bars": gap_bars,
            "gap_height": dashboard_gaps.chart_height(gap_bars),
            "gap_label_width": dashboard_gaps.LABEL_WIDTH,
        },
    )
