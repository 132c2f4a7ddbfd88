"""`stellwerk digest`: show a team's or a firm's weekly digest, queue the week's digests
for every endpoint (a Monday cron job), and register a team's endpoint."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from app.auth import CLI_PRINCIPAL
from app.cli.context import Context, cli_context, command_embedder, fail_cleanly
from app.schemas.digests import Digest
from app.services.digest_gaps import GapReader, gap_reader
from app.services.digests import digest, last_week

digest_cli = typer.Typer(help="Weekly digests per team and contractor firm.", no_args_is_help=True)

WeekOption = Annotated[
    str | None, typer.Option("--week", help="Any day of the week (ISO date); last week.")
]


def _day(week: str | None) -> date:
    try:
        return date.fromisoformat(week) if week else last_week(date.today())
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date: {exc}", param_hint="--week") from exc


def _gap_reader(ctx: Context) -> GapReader:
    """The week's gaps are mined with the model the index was built with."""
    return gap_reader(command_embedder(ctx), ctx.settings.chunk_max_words)


def _text(found: Digest) -> str:
    f = found.figures
    lines = [
        f"{found.audience} {found.name}: {found.start} to {found.end}",
        f"suggestions {f.suggestions}, escalated {f.escalated}, outcomes {f.outcomes}, "
        f"reassigned {f.reassigned}, feedback {f.helpful}/{f.feedback} helpful",
        f"new gaps: {len(found.new_gaps)}",
        *(f"gap\t{g.size}\t{g.title}" for g in found.new_gaps),
        *(f"task\t{t.age_days}d\t{t.reason}\t{t.target}" for t in found.open_tasks),
        *(f"training\t{t.count}\t{t.topic}" for t in found.training),
        *(
            f"pulse\t{p.period}\t{p.side}/{p.aspect}\t{p.ratings}\t{p.mean_rating}"
            for p in found.satisfaction
        ),
    ]
    return "\n".join(lines)


@digest_cli.command("show")
def show_command(
    team: Annotated[str | None, typer.Option(help="The team's digest.")] = None,
    firm: Annotated[str | None, typer.Option(help="The firm's digest.")] = None,
    week: WeekOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Print one digest: give --team or --firm."""
    if (team is None) == (firm is None):
        raise typer.BadParameter("give exactly one of --team and --firm")

    def run() -> None:
        day = _day(week)
        with cli_context() as ctx:
            gaps = _gap_reader(ctx)
            with ctx.factory() as session:
                if team is not None:
                    found = digest(session, CLI_PRINCIPAL, "team", team, day, gaps=gaps)
                else:
                    found = digest(session, CLI_PRINCIPAL, "firm", str(firm), day, gaps=gaps)
        typer.echo(found.model_dump_json(indent=2) if as_json else _text(found))

    fail_cleanly(run)


@digest_cli.command("send")
def send_command(week: WeekOption = None) -> None:
    """Queue the week's digest for every team and firm with an endpoint (once per week)."""
    from app.services.digest_delivery import enqueue_digests

    def run() -> None:
        day = _day(week)
        with cli_context() as ctx:
            gaps = _gap_reader(ctx)
            with ctx.factory() as session, session.begin():
                queued = enqueue_digests(session, day, gaps)
        typer.echo(f"queued {len(queued)} digests" + "".join(f"\n{t}" for t in queued))

    fail_cleanly(run)


@digest_cli.command("endpoint")
def endpoint_command(
    team: Annotated[str, typer.Argument(help="The team key, as in its charter.")],
    url: Annotated[str, typer.Option(help="Where the team's digest is POSTed.")],
    secret: Annotated[str, typer.Option(help="Shared secret for the HMAC-SHA256 signature.")],
) -> None:
    """Send a team's weekly digest to this endpoint (firms use `connectors firm add`)."""
    from app.services.digest_delivery import add_team_endpoint

    def run() -> None:
        with cli_context() as ctx, ctx.factory() as session, session.begin():
            add_team_endpoint(session, principal=CLI_PRINCIPAL, team=team, url=url, secret=secret)
        typer.echo(f"team {team}'s digest goes to {url}")

    fail_cleanly(run)
