"""`stellwerk index rebuild|status`: inspect and rebuild the search index."""

from __future__ import annotations

import sys

import typer
from sqlalchemy import func, select

from app.cli.context import cli_context, command_embedder, fail_cleanly, save_snapshot
from db.models import Article, Passage, Ticket
from index.snapshot import current_snapshot_dir, read_manifest

index_cli = typer.Typer(help="Inspect and rebuild the search index.", no_args_is_help=True)


@index_cli.command("rebuild")
def index_rebuild_command() -> None:
    """Recreate the index from the database alone, re-embedding what another model embedded
    (and giving English passages the search's second model's vectors where they lack them)."""

    def run() -> None:
        from ingest.reindex import fill_second_vectors, reembed_stale_passages

        with cli_context() as ctx:
            embedder = command_embedder(ctx, check_model=False)
            count = reembed_stale_passages(ctx.factory, embedder, show_progress=sys.stderr.isatty())
            typer.echo(f"re-embedded {count} passages with {embedder.model_id}")
            second = ctx.search_second()
            if second is not None:
                filled = fill_second_vectors(ctx.factory, second, show_progress=sys.stderr.isatty())
                typer.echo(
                    f"second vectors: {filled} English passages embedded by {second.model_id}"
                )
            save_snapshot(ctx, embedder, rebuild=True)

    fail_cleanly(run)


@index_cli.command("status")
def index_status_command() -> None:
    """Show what the database and the current snapshot hold."""

    def run() -> None:
        with cli_context() as ctx, ctx.factory() as session:
            articles = session.scalar(select(func.count()).select_from(Article)) or 0
            tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
            passages = session.scalar(select(func.count()).select_from(Passage)) or 0
            typer.echo(f"database: {articles} articles, {tickets} tickets, {passages} passages")
            by_model = session.execute(
                select(Passage.second_model_id, func.count())
                .where(Passage.second_model_id.is_not(None))
                .group_by(Passage.second_model_id)
                .order_by(Passage.second_model_id)
            ).all()
            configured = ctx.settings.search_second_model or "off"
            held = ", ".join(f"{count} by {model}" for model, count in by_model) or "none"
            typer.echo(f"second vectors (search second model {configured}): {held}")
            snapshot = current_snapshot_dir(ctx.settings.index_dir)
            if snapshot is None:
                typer.echo("snapshot: none (the service builds the index from the database)")
                return
            manifest = read_manifest(snapshot)
            typer.echo(
                f"snapshot: {snapshot.name}: {manifest.count} passages, {manifest.index_kind}, "
                f"model {manifest.model_id} ({manifest.engine}), built {manifest.built_at}"
            )

    fail_cleanly(run)
