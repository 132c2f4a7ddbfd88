"""`stellwerk kpis`: the KPI figures the API answers, as the admin sees them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from app.auth import CLI_PRINCIPAL
from app.cli.context import cli_context, fail_cleanly
from app.schemas.kpis import Interval
from app.services.kpis import date_range, kpis
from app.services.kpis_csv import kpi_csv
from app.services.visibility import Visibility
from db.models import utcnow


def parse_range(start: str | None, end: str | None) -> tuple[date, date]:
    """--from/--to as the API reads from/to: ISO dates, 90 days back to today by default."""
    try:
        first = date.fromisoformat(start) if start else None
        last = date.fromisoformat(end) if end else None
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date: {exc}") from exc
    return date_range(first, last, utcnow().date())


def kpis_command(
    start: Annotated[str | None, typer.Option("--from", help="First day, ISO date.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (inclusive).")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    interval: Annotated[str, typer.Option(help="week or month.")] = "week",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Print the KPIs (docs/KPIS.md) over a time range: CSV, or JSON with --json."""
    if interval not in ("week", "month"):
        raise typer.BadParameter("week or month", param_hint="--interval")
    bucket: Interval = "month" if interval == "month" else "week"

    def run() -> None:
        first, last = parse_range(start, end)
        with cli_context() as ctx, ctx.factory() as session:
            figures = kpis(
                session,
                Visibility(CLI_PRINCIPAL),
                start=first,
                end=last,
                interval=bucket,
                team=team,
            )
        typer.echo(figures.model_dump_json(indent=2) if as_json else kpi_csv(figures), nl=False)

    fail_cleanly(run)
