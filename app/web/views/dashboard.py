"""The lead dashboard: the knowledge KPIs, gaps, training topics and satisfaction as figures
and server-rendered SVG charts, over the chosen days and for one team or all; a gap's owners
draft an article from it into their review queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.api.params import IsoDate
from app.auth import Principal
from app.deps import LiveIndexDep, PagePrincipalDep, SessionDep, SettingsDep
from app.schemas.gaps import GapList
from app.services.gaps import find_gap, mine_gaps, ticket_document_encoder
from app.services.gaps_draft import draft_from_gap, drafted
from app.services.kpis import date_range, kpis
from app.services.stats import knowledge_stats
from app.services.teams import list_teams
from app.services.visibility import visibility_for
from app.settings import Settings
from app.web.forms import CsrfChecked
from app.web.render import render
from app.web.views import dashboard_gaps
from app.web.views import dashboard_kpis as charts
from app.web.views.dashboard_loop import loop_charts
from db.models import utcnow
from ingest.live_index import LiveIndex

router = APIRouter(include_in_schema=False)

BAR_HEIGHT = 22
CHART_WIDTH = 480
LABEL_WIDTH = 140
# The page's team filter: empty is every team the caller may see (the API's team=None).
TeamQuery = Annotated[str, Query(max_length=100)]
TeamForm = Annotated[str, Form(max_length=100)]


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


def _gaps(
    session: Session,
    principal: Principal,
    live: LiveIndex,
    settings: Settings,
    span: tuple[date, date],
    team: str | None,
) -> GapList:
    """What GET /gaps answers the caller for the same days and team."""
    return mine_gaps(
        session,
        visibility_for(session, principal),
        start=span[0],
        end=span[1],
        team=team,
        model_id=live.embedder.model_id,
        encode=ticket_document_encoder(live.embedder, settings.chunk_max_words),
    )


@router.get("/dashboard")
def dashboard(
    request: Request,
    session: SessionDep,
    principal: PagePrincipalDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    start: Annotated[IsoDate | None, Query(alias="from")] = None,
    end: Annotated[IsoDate | None, Query(alias="to")] = None,
    team: TeamQuery = "",
) -> Response:
    """Admins and specialists (team leads hold specialist keys); others get the API's 403.
    Every chart covers the chosen days (default: the last 90) and the chosen team, through
    the services the API calls (docs/KPIS.md)."""
    principal.require("admin", "specialist")
    visibility = visibility_for(session, principal)
    chosen = team.strip() or None
    stats = knowledge_stats(session, visibility)
    by_team = {name: n for name, n in stats.articles_by_team.items() if chosen in (None, name)}
    chart = bars(by_team)
    first, last = date_range(start, end, utcnow().date())
    interval = charts.interval_for(first, last)
    figures = kpis(session, visibility, start=first, end=last, interval=interval, team=chosen)
    rows = charts.team_rows(figures)
    escalation = charts.escalation_bars(rows)
    reliability = charts.reliability_bars(figures)
    trend = charts.period_bars(figures)
    gaps = _gaps(session, principal, live, settings, (first, last), chosen)
    gap_bars = dashboard_gaps.gap_bars(gaps)
    teams = {t.team for t in list_teams(session, visibility).teams} | {
        name for name in stats.articles_by_team if name
    }
    return render(
        request,
        "dashboard.html",
        {
            "stats": stats,
            "bars": chart,
            "chart_height": charts.chart_height(chart),
            "chart_width": CHART_WIDTH,
            "label_width": LABEL_WIDTH,
            "bar_height": BAR_HEIGHT,
            "range": {"from": first.isoformat(), "to": last.isoformat()},
            "first": first,
            "last": last,
            "team": chosen or "",
            "teams": sorted(teams | ({chosen} if chosen else set())),
            "interval": interval,
            "kpi_rows": rows,
            "trend_bars": trend,
            "trend_height": charts.chart_height(trend),
            "escalation_bars": escalation,
            "escalation_height": charts.chart_height(escalation),
            "reliability_bars": reliability,
            "reliability_height": charts.chart_height(reliability),
            **loop_charts(session, principal, first, last, chosen),
            "gaps": gaps,
            "drafted": drafted(session, principal=principal, keys=[g.key for g in gaps.gaps]),
            "gap_bars": gap_bars,
            "gap_height": dashboard_gaps.chart_height(gap_bars),
            "gap_label_width": dashboard_gaps.LABEL_WIDTH,
        },
    )


@router.post("/dashboard/gaps/{key}/draft", dependencies=[CsrfChecked])
def draft_gap(
    key: Annotated[str, Path(max_length=100)],
    session: SessionDep,
    principal: PagePrincipalDep,
    live: LiveIndexDep,
    settings: SettingsDep,
    start: Annotated[IsoDate | None, Form(alias="from")] = None,
    end: Annotated[IsoDate | None, Form(alias="to")] = None,
    team: TeamForm = "",
) -> Response:
    """POST /api/v1/gaps/{key}/draft from the page: the gap of the same days and team
    (404 where the caller cannot see it), drafted by its team's owners only (403), then
    the draft's page, where its reviewers approve it."""
    span = date_range(start, end, utcnow().date())
    gap = find_gap(_gaps(session, principal, live, settings, span, team.strip() or None), key)
    draft = draft_from_gap(session, principal=principal, gap=gap)
    session.commit()
    return RedirectResponse(f"/articles/{draft.slug}", status_code=303)
