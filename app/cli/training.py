"""`stellwerk training`: the training topics the API answers, as the admin sees them."""

from __future__ import annotations

from typing import Annotated

import typer

from app.auth import CLI_PRINCIPAL
from app.cli.context import cli_context, fail_cleanly
from app.cli.kpis import parse_range
from app.services.training import training
from app.services.visibility import Visibility


def training_command(
    start: Annotated[str | None, typer.Option("--from", help="First day, ISO date.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (inclusive).")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Print the training needs (docs/KPIS.md): one line a topic, or JSON with --json."""

    def run() -> None:
        first, last = parse_range(start, end)
        with cli_context() as ctx, ctx.factory() as session:
            needs = training(session, Visibility(CLI_PRINCIPAL), start=first, end=last, team=team)
        if as_json:
            typer.echo(needs.model_dump_json(indent=2))
            return
        for topic in [*(needs.first_level or []), *(needs.routing or []), *needs.firms]:
            teach = ", ".join(a.slug for a in topic.articles) or "-"
            owner = topic.firm or topic.team or "-"
            typer.echo(f"{topic.kind}\t{owner}\t{topic.count}\t{topic.topic}\t{teach}")

    fail_cleanly(run)
