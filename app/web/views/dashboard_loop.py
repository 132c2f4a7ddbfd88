"""The dashboard's training and satisfaction charts (issue 12, items 4 and 5), over the
dashboard's range and team: topics by tickets behind them, mean ratings per team and side. The
figures come from app.services.training and app.services.pulses; here they are laid out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.auth import Principal
from app.schemas.pulses import PulseFigures
from app.services.pulses import pulse_summary
from app.services.training import training
from app.services.visibility import visibility_for
from app.web.views.dashboard_kpis import BAR_HEIGHT, CHART_WIDTH, LABEL_WIDTH, chart_height

ROOM = CHART_WIDTH - LABEL_WIDTH - 60
MAX_BARS = 10


@dataclass(frozen=True)
class LabelledBar:
    label: str
    shown: str  # the value as printed beside the bar
    y: int
    width: int


def _bars(items: list[tuple[str, float, str]], top: float) -> list[LabelledBar]:
    return [
        LabelledBar(label, shown, index * (BAR_HEIGHT + 6), max(1, round(ROOM * value / top)))
        for index, (label, value, shown) in enumerate(items[:MAX_BARS])
    ]


def _satisfaction(figures: list[PulseFigures]) -> list[tuple[str, float, str]]:
    """Mean rating per team and side over the range (weighted by ratings)."""
    sums: dict[tuple[str, str], list[float]] = {}
    for f in figures:
        if f.mean_rating is None:
            continue
        entry = sums.setdefault((f.team or "-", f"{f.side}/{f.aspect}"), [0.0, 0.0])
        entry[0] += f.mean_rating * f.ratings
        entry[1] += f.ratings
    return [
        (f"{team} · {side}", total / n, f"{total / n:.1f} ({int(n)})")
        for (team, side), (total, n) in sorted(sums.items())
    ]


def loop_charts(
    session: Session, principal: Principal, start: date, end: date, team: str | None
) -> dict[str, Any]:
    """The template context of dashboard_loop.html: what GET /training and GET /pulses
    answer the caller for the same range and team."""
    visibility = visibility_for(session, principal)
    needs = training(session, visibility, start=start, end=end, team=team)
    topics = sorted(
        [*(needs.first_level or []), *(needs.routing or []), *needs.firms],
        key=lambda t: (-t.count, t.topic),
    )
    training_bars = _bars(
        [(f"{t.topic} ({t.firm or t.team or '-'})", t.count, str(t.count)) for t in topics],
        max((t.count for t in topics), default=1),
    )
    pulses = pulse_summary(session, principal, start=start, end=end, team=team)
    satisfaction_bars = _bars(_satisfaction(pulses.figures), 5.0)
    return {
        "training_bars": training_bars,
        "training_height": chart_height(training_bars),
        "satisfaction_bars": satisfaction_bars,
        "satisfaction_height": chart_height(satisfaction_bars),
    }
