"""`stellwerk db upgrade`: database maintenance."""

from __future__ import annotations

import typer

from app.cli.context import cli_context
from db.kpi_rollups import rebuild
from db.session import migrate

db_cli = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@db_cli.command("upgrade")
def db_upgrade_command() -> None:
    """Apply pending database migrations."""
    with cli_context(migrate_schema=False) as ctx:
        migrate(ctx.engine)
        typer.echo("database schema is up to date")


@db_cli.command("rebuild-kpi-rollups")
def db_rebuild_kpi_rollups_command() -> None:
    """Recompute the KPI rollups (per-day counts, confirmed suggestions) from the events."""
    with cli_context() as ctx, ctx.factory() as session, session.begin():
        days, searches = rebuild(session)
    typer.echo(f"KPI rollups rebuilt: {days} suggestion days, {searches} search days")
