"""The lead dashboard: the knowledge KPIs as figures and a server-rendered SVG chart."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.deps import PagePrincipalDep, SessionDep
from app.services.stats import knowledge_stats
from app.services.visibility import visibility_for
from app.web.render import render

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
def dashboard(request: Request, session: SessionDep, principal: PagePrincipalDep) -> Response:
    """Admins and specialists (team leads hold specialist keys); others get the API's 403."""
    principal.require("admin", "specialist")
    stats = knowledge_stats(session, visibility_for(session, principal))
    chart = bars(stats.articles_by_team)
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
        },
    )
