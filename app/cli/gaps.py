"""`stellwerk gaps`: the knowledge gaps the API answers, as the admin sees them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from app.auth import CLI_PRINCIPAL
from app.cli.context import cli_context, fail_cleanly, load_cli_embedder
from app.schemas.gaps import GapList
from app.services.gaps import mine_gaps, ticket_document_encoder
from app.services.kpis import date_range
from app.services.visibility import Visibility
from db.models import utcnow


def _table(gaps: GapList) -> str:
    lines = [
        f"{gaps.start} to {gaps.end}: {gaps.uncovered} of {gaps.candidates} tickets and "
        f"searches uncovered (cut {gaps.cut}), {len(gaps.gaps)} gaps"
    ]
    for gap in gaps.gaps:
        lines.append(
            f"{gap.key}  priority {gap.priority:7.2f}  size {gap.size:4}  "
            f"escalated {gap.escalation_share:.0%}  team {gap.team or '-'}  "
            f"{gap.proposed_title}  [{', '.join(gap.key_terms)}]"
        )
    return "\n".join(lines) + "\n"


def gaps_command(
    start: Annotated[str | None, typer.Option("--from", help="First day, ISO date.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (inclusive).")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team's tickets.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Print the knowledge gaps (docs/KPIS.md) of a time range, highest priority first."""

    def run() -> None:
        try:
            first = date.fromisoformat(start) if start else None
            last = date.fromisoformat(end) if end else None
        except ValueError as exc:
            raise typer.BadParameter(f"not an ISO date: {exc}") from exc
        first, last = date_range(first, last, utcnow().date())
        with cli_context() as ctx, ctx.factory() as session:
            embedder = load_cli_embedder(ctx.settings)
            gaps = mine_gaps(
                session,
                Visibility(CLI_PRINCIPAL),
                start=first,
                end=last,
                team=team,
                model_id=embedder.model_id,
                encode=ticket_document_encoder(embedder, ctx.settings.chunk_max_words),
            )
        typer.echo(gaps.model_dump_json(indent=2) if as_json else _table(gaps), nl=False)

    fail_cleanly(run)
