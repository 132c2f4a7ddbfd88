"""`stellwerk demo`: the demo knowledge base, demo keys and a trained router."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.context import (
    cli_context,
    command_embedder,
    fail_cleanly,
    retrain_after_ingest,
    save_snapshot,
)
from app.cli.ingest import ingest_article_folder, ingest_ticket_file
from app.cli.keys import issue_demo_keys


def demo_command(
    articles: Annotated[Path, typer.Option(help="Articles folder.")] = Path("articles"),
    tickets: Annotated[Path, typer.Option(help="Demo tickets (JSONL).")] = Path(
        "demo/tickets.jsonl"
    ),
) -> None:
    """Build the demo knowledge base from the articles folder and the demo tickets."""

    def run() -> None:
        with cli_context() as ctx:
            embedder = command_embedder(ctx)
            ingest_article_folder(ctx, embedder, articles, keep=False)
            ingest_ticket_file(ctx, embedder, tickets, None, "demo")
            save_snapshot(ctx, embedder)
            with ctx.factory() as session, session.begin():
                demo_keys = issue_demo_keys(session)
            for name, token in demo_keys.items():
                typer.echo(f"{name} key (shown once, replaced by the next demo): {token}")
            retrain_after_ingest(ctx, embedder)

    fail_cleanly(run)
