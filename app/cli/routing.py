"""`stellwerk routing train|status`: train and inspect the team router."""

from __future__ import annotations

import typer

from app.cli.context import (
    cli_context,
    fail_cleanly,
    load_cli_embedder,
    train_router,
)
from app.settings import Settings

routing_cli = typer.Typer(help="Train and inspect the team router.", no_args_is_help=True)


@routing_cli.command("train")
def train_command() -> None:
    """Train the router from the team charters and resolved tickets in the database."""

    def run() -> None:
        with cli_context() as ctx:
            status = train_router(ctx, load_cli_embedder(ctx.settings))
        if status.last_outcome != "trained":
            typer.echo(f"error: {status.last_reason}", err=True)
            raise typer.Exit(1)
        typer.echo(f"routing: {status.last_reason}; teams {status.teams}")

    fail_cleanly(run)


@routing_cli.command("status")
def status_command() -> None:
    """Show the saved routing model: stage, tickets per team, embedding model, when trained."""
    from routing.service import describe_calibration, describe_training
    from routing.store import current_version_dir, read_routing_manifest

    def run() -> None:
        version = current_version_dir(Settings().routing_dir)
        if version is None:
            typer.echo("routing: no trained model (run `stellwerk routing train`)")
            return
        manifest = read_routing_manifest(version)
        models = manifest.model_id + (
            f" + {manifest.second_model_id}" if manifest.second_model_id else ""
        )
        typer.echo(
            f"routing: {manifest.stage} model {version.name}, {manifest.tickets} tickets, "
            f"embedding model {models}, trained {manifest.trained_at}"
        )
        typer.echo(f"  {describe_training(manifest)}")
        if manifest.metrics.get("learners"):
            typer.echo(f"  learners: {', '.join(manifest.metrics['learners'])}")
        for line in describe_calibration(manifest):
            typer.echo(f"  {line}")
        for team, count in manifest.teams.items():
            typer.echo(f"  {team}: {count}")
        if manifest.charters:
            typer.echo(f"  charters: {', '.join(manifest.charters)}")

    fail_cleanly(run)
