"""The `stellwerk` command line: serve, ingest, index and database maintenance."""

from __future__ import annotations

import typer

from app.cli.connectors import connectors_cli
from app.cli.db import db_cli
from app.cli.demo import demo_command
from app.cli.digest import digest_cli
from app.cli.eval import eval_cli
from app.cli.gaps import gaps_command
from app.cli.index import index_cli
from app.cli.ingest import ingest_cli
from app.cli.keys import keys_cli
from app.cli.kpis import kpis_command
from app.cli.routing import routing_cli
from app.cli.serve import serve_command
from app.cli.training import training_command

cli = typer.Typer(
    help="Stellwerk: knowledge and routing for IT second-level support.",
    no_args_is_help=True,
    add_completion=False,
)
cli.command("demo")(demo_command)
cli.command("serve")(serve_command)
cli.command("kpis")(kpis_command)
cli.command("training")(training_command)
cli.command("gaps")(gaps_command)
cli.add_typer(ingest_cli, name="ingest")
cli.add_typer(index_cli, name="index")
cli.add_typer(db_cli, name="db")
cli.add_typer(eval_cli, name="eval")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(routing_cli, name="routing")
cli.add_typer(connectors_cli, name="connectors")
cli.add_typer(digest_cli, name="digest")


def main() -> None:
    cli()
