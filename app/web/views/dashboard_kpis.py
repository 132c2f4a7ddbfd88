"""The KPI part of the dashboard: per-team figures over the chosen range and two SVG charts
(escalation rate per team; routing accuracy against confidence per band, the live
reliability). The figures come from app.services.kpis; here they are only laid out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from app.schemas.kpis import Interval, Kpis, ShareKpis
from app.services.kpis_sql import share

CHART_WIDTH = 480
LABEL_WIDTH = 140
BAR_HEIGHT = 22
# Up to about half a year, one bar a week; longer ranges one a month (at most ~120 bars).
WEEKLY_UP_TO_DAYS = 183


@dataclass(frozen=True)
class TeamRow:
    team: str
    suggestions: int
    escalation_rate: float | None
    first_level_confirmed_rate: float | None
    routing_accuracy: float | None
    link_rate: float | None
    helpful_share: float | None
    stale_share: float | None
    open_tasks: int | None


@dataclass(frozen=True)
class PercentBar:
    label: str
    value: float
    y: int
    width: int
    mark: int | None = None  # x of a second value (the mean confidence), if any


def _summed(rows: list[ShareKpis] | None) -> dict[str, tuple[int, int]]:
    totals: dict[str, tuple[int, int]] = {}
    for row in rows or []:
        total, count = totals.get(row.team or "-", (0, 0))
        totals[row.team or "-"] = (total + row.total, count + row.count)
    return totals


def team_rows(figures: Kpis) -> list[TeamRow]:
    """One row per team over the whole range (the sums of its periods)."""
    suggested: dict[str, list[int]] = {}
    for s in figures.suggestions:
        counts = suggested.setdefault(s.team or "-", [0, 0, 0, 0])
        counts[0] += s.suggestions
        counts[1] += s.escalated
        counts[2] += s.first_level
        counts[3] += s.first_level_confirmed
    routed: dict[str, list[int]] = {}
    for r in figures.routing:
        counts = routed.setdefault(r.team or "-", [0, 0])
        counts[0] += r.outcomes
        counts[1] += r.agreed
    links, helpful, stale = (
        _summed(figures.link_rate),
        _summed(figures.feedback),
        _summed(figures.stale),
    )
    tasks = {t.team or "-": t.open for t in figures.open_tasks or []}
    teams = sorted(
        set(suggested) | set(routed) | set(links) | set(helpful) | set(stale) | set(tasks)
    )
    rows = []
    for team in teams:
        n, escalated, first, confirmed = suggested.get(team, [0, 0, 0, 0])
        outcomes, agreed = routed.get(team, [0, 0])
        rows.append(
            TeamRow(
                team=team,
                suggestions=n,
                escalation_rate=share(escalated, n),
                first_level_confirmed_rate=share(confirmed, first),
                routing_accuracy=share(agreed, outcomes),
                link_rate=share(links[team][1], links[team][0]) if team in links else None,
                helpful_share=share(helpful[team][1], helpful[team][0])
                if team in helpful
                else None,
                stale_share=share(stale[team][1], stale[team][0]) if team in stale else None,
                open_tasks=tasks.get(team, 0) if figures.open_tasks is not None else None,
            )
        )
    return rows


def _bar(index: int, label: str, value: float, mark: float | None = None) -> PercentBar:
    room = CHART_WIDTH - LABEL_WIDTH - 60
    return PercentBar(
        label,
        value,
        index * (BAR_HEIGHT + 6),
        max(1, round(room * value)),
        None if mark is None else LABEL_WIDTH + round(room * mark),
    )


def escalation_bars(rows: list[TeamRow]) -> list[PercentBar]:
    shown = [r for r in rows if r.escalation_rate is not None]
    return [_bar(i, r.team, r.escalation_rate or 0.0) for i, r in enumerate(shown)]


def reliability_bars(figures: Kpis) -> list[PercentBar]:
    """Accuracy per confidence band over all teams, with the band's mean confidence marked."""
    bands: dict[str, list[float]] = {}
    for r in figures.routing:
        counts = bands.setdefault(r.band, [0, 0, 0.0, 0])
        counts[0] += r.outcomes
        counts[1] += r.agreed
        if r.mean_confidence is not None:
            counts[2] += r.mean_confidence * r.outcomes
            counts[3] += r.outcomes
    bars = []
    for index, band in enumerate(sorted(bands)):
        outcomes, agreed, weighted, weight = bands[band]
        mean = weighted / weight if weight else None
        bars.append(_bar(index, band, agreed / outcomes if outcomes else 0.0, mean))
    return bars


def chart_height(bars: Sequence[object]) -> int:
    """An empty chart takes no room: the page says in words that it is empty."""
    return len(bars) * (BAR_HEIGHT + 6)


@dataclass(frozen=True)
class PeriodBar:
    day: date  # the period's first day
    value: int  # suggestions
    escalation_rate: float | None
    y: int
    width: int


def interval_for(start: date, end: date) -> Interval:
    return "week" if (end - start).days < WEEKLY_UP_TO_DAYS else "month"


def periods(start: date, end: date, interval: Interval) -> list[str]:
    """Every period the range touches, as the KPI rows name them (first day, ISO)."""
    if interval == "week":
        first = start - timedelta(days=start.weekday())
        return [
            (first + timedelta(weeks=n)).isoformat() for n in range((end - first).days // 7 + 1)
        ]
    months = (end.year - start.year) * 12 + end.month - start.month
    return [
        date(
            start.year + (start.month - 1 + n) // 12, (start.month - 1 + n) % 12 + 1, 1
        ).isoformat()
        for n in range(months + 1)
    ]


def period_bars(figures: Kpis) -> list[PeriodBar]:
    """Suggestions per period over the range (empty periods too), with the escalation rate."""
    counts = {period: [0, 0] for period in periods(figures.start, figures.end, figures.interval)}
    for s in figures.suggestions:
        entry = counts.setdefault(s.period, [0, 0])
        entry[0] += s.suggestions
        entry[1] += s.escalated
    top = max((n for n, _ in counts.values()), default=0) or 1
    room = CHART_WIDTH - LABEL_WIDTH - 80
    return [
        PeriodBar(
            day=date.fromisoformat(period),
            value=n,
            escalation_rate=share(escalated, n),
            y=index * (BAR_HEIGHT + 6),
            width=round(room * n / top),
        )
        for index, (period, (n, escalated)) in enumerate(sorted(counts.items()))
    ]
