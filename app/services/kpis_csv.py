"""The KPI figures as one CSV table: one row per figure, the same for API and CLI."""

from __future__ import annotations

import csv
import io

from app.schemas.kpis import Kpis
from app.services.kpis_sql import share

COLUMNS = ("family", "period", "team", "key", "total", "count", "share")


def kpi_rows(figures: Kpis) -> list[tuple[object, ...]]:
    """(family, period, team, key, total, count, share); families hidden from the caller
    are left out."""
    rows: list[tuple[object, ...]] = []
    for s in figures.suggestions:
        rows.append(
            ("escalation", s.period, s.team, "", s.suggestions, s.escalated, s.escalation_rate)
        )
        rows.append(
            (
                "first_level_confirmed",
                s.period,
                s.team,
                "",
                s.first_level,
                s.first_level_confirmed,
                s.first_level_confirmed_rate,
            )
        )
    for r in figures.routing:
        rows.append(("routing", r.period, r.team, r.band, r.outcomes, r.agreed, r.accuracy))
    shares = {
        "searches_without_results": figures.searches,
        "link_rate": figures.link_rate,
        "never_reused": figures.never_reused,
        "stale": figures.stale,
        "feedback": figures.feedback,
        "reassignments": figures.reassignments,
    }
    for family, items in shares.items():
        for item in items or []:
            rows.append(
                (family, item.period or "", item.team, "", item.total, item.count, item.share)
            )
    for u in figures.reuse or []:
        rows.append(("reuse", u.period, u.team, "", u.created, u.reused, u.reuse_per_create))
    for d in figures.draft_to_published or []:
        rows.append(
            ("draft_to_published_hours", d.period, d.team, "", d.published, "", d.mean_hours)
        )
    for a in figures.feedback_by_article or []:
        rows.append(("feedback_by_article", "", a.team, a.target, a.total, a.helpful, a.share))
    for t in figures.open_tasks or []:
        rows.append(
            ("open_tasks_age_days", "", t.team, "", t.open, t.max_age_days, t.mean_age_days)
        )
    for f in figures.firms:
        rows.append(("firm_escalations", f.period, "", f.firm, f.escalations, "", ""))
        reassigned = share(f.reassigned, f.outcomes)
        rows.append(("firm_reassigned", f.period, "", f.firm, f.outcomes, f.reassigned, reassigned))
        rows.append(("firm_feedback", f.period, "", f.firm, f.feedback, f.helpful, f.helpful_share))
    for o in figures.firm_tasks:
        rows.append(("firm_open_tasks_age_days", "", "", o.firm, o.open, "", o.mean_age_days))
    return rows


def kpi_csv(figures: Kpis) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in kpi_rows(figures):
        writer.writerow(["" if value is None else value for value in row])
    return out.getvalue()
