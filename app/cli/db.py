"""`stellwerk db upgrade`: database maintenance."""

from __future__ import annotations

import typer

from app.cli.context import cli_context
from db.session import migrate

db_cli = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@db_cli.command("upgrade")
def db_upgrade_command() -> None:
    """Apply pending database migrations."""
    with cli_context(migrate_schema=False) as ctx:
        migrate(ctx.engine)
        typer.echo("database schema is up to date")
