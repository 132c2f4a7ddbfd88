"""The dashboard's knowledge-gap section: the gaps of the range as bars by priority."""

from __future__ import annotations

from dataclasses import dataclass

from app.schemas.gaps import Gap, GapList

BAR_HEIGHT = 22
CHART_WIDTH = 480
LABEL_WIDTH = 200
LABEL_CHARS = 26  # about 190 px at 13 px: the label ends before its bar


@dataclass(frozen=True)
class GapBar:
    label: str
    value: float
    size: int
    y: int
    width: int


def gap_bars(gaps: GapList, limit: int = 10) -> list[GapBar]:
    """The highest-priority gaps as horizontal bars, scaled to the chart's width."""
    shown: list[Gap] = gaps.gaps[:limit]
    top = max((gap.priority for gap in shown), default=0.0) or 1.0
    room = CHART_WIDTH - LABEL_WIDTH - 40
    return [
        GapBar(
            label=gap.proposed_title[:LABEL_CHARS]
            + ("…" if len(gap.proposed_title) > LABEL_CHARS else ""),
            value=gap.priority,
            size=gap.size,
            y=index * (BAR_HEIGHT + 6),
            width=max(1, round(room * gap.priority / top)),
        )
        for index, gap in enumerate(shown)
    ]


def chart_height(bars: list[GapBar]) -> int:
    """An empty chart takes no room: the page says in words that it is empty."""
    return len(bars) * (BAR_HEIGHT + 6)
