"""`stellwerk ingest articles|tickets`: incremental ingest, then a snapshot and a retraining."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.context import (
    Context,
    cli_context,
    command_embedder,
    fail_cleanly,
    retrain_after_ingest,
    save_snapshot,
)
from index.embedder import Embedder
from ingest.errors import IngestError, SkippedRecord

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport

ingest_cli = typer.Typer(help="Ingest articles and resolved tickets.", no_args_is_help=True)

SkipInvalid = Annotated[
    bool,
    typer.Option(
        "--skip-invalid",
        help="Leave out invalid records (reported with line or file and reason), store the rest.",
    ),
]


def _report_skipped(skipped: list[SkippedRecord], stored: int, noun: str) -> None:
    """Each skipped record on stderr, then how many were stored and skipped."""
    for record in skipped:
        typer.echo(f"skipped {record.where}: {record.reason}", err=True)
    typer.echo(f"{noun}: {stored} stored, {len(skipped)} skipped as invalid")


def _audit_ingest(
    ctx: Context, action: str, target: str, report: IngestReport, skipped: int = 0
) -> None:
    """One audit entry per ingest run (a ticket export can hold many thousands of rows)."""
    from app.auth import CLI_PRINCIPAL
    from app.services.audit import record

    if not (report.added or report.updated or report.deleted or skipped):
        return
    extra = {"skipped": skipped} if skipped else {}
    with ctx.factory() as session, session.begin():
        record(
            session,
            CLI_PRINCIPAL,
            action,
            target,
            added=report.added,
            updated=report.updated,
            deleted=report.deleted,
            documents=report.slugs[:200],
            **extra,
        )


def ingest_article_folder(
    ctx: Context, embedder: Embedder, directory: Path, keep: bool, *, skip_invalid: bool = False
) -> None:
    """Ingest a folder of articles, audit the run and print its summary."""
    from ingest.pipeline import ingest_articles

    skipped: list[SkippedRecord] | None = [] if skip_invalid else None
    report = ingest_articles(
        ctx.factory,
        embedder,
        directory,
        max_words=ctx.settings.chunk_max_words,
        delete_missing=not keep,
        show_progress=sys.stderr.isatty(),
        group_passages=ctx.settings.ingest_batch_passages,
        skipped=skipped,
        second=ctx.search_second(),
    )
    _audit_ingest(ctx, "ingest.articles", str(directory), report, len(skipped or []))
    typer.echo(report.summary("articles"))
    if skipped is not None:
        _report_skipped(skipped, report.added + report.updated + report.unchanged, "articles")


def ingest_ticket_file(
    ctx: Context,
    embedder: Embedder,
    path: Path,
    mapping: str | None,
    source: str | None,
    *,
    skip_invalid: bool = False,
) -> None:
    """Ingest a ticket file, validated whole first; audit the run and print its summary.

    Without `skip_invalid` the first bad record stops the run before any write; with it,
    bad records are reported and left out and the good ones are stored.
    """
    from ingest.pipeline import ingest_tickets
    from ingest.tickets import parse_mapping, read_tickets

    columns = parse_mapping(mapping)
    skipped: list[SkippedRecord] | None = [] if skip_invalid else None
    # Validate the whole file before writing anything: bad input loses nothing.
    tickets = list(read_tickets(path, mapping=columns, default_source=source, skipped=skipped))
    report = ingest_tickets(
        ctx.factory,
        embedder,
        tickets,
        max_words=ctx.settings.chunk_max_words,
        show_progress=sys.stderr.isatty(),
        total=len(tickets),
        group_passages=ctx.settings.ingest_batch_passages,
        second=ctx.search_second(),
    )
    _audit_ingest(ctx, "ingest.tickets", str(path), report, len(skipped or []))
    typer.echo(report.summary("tickets"))
    if skipped is not None:
        _report_skipped(skipped, len(tickets), "tickets")


@ingest_cli.command("articles")
def ingest_articles_command(
    directory: Annotated[Path, typer.Argument(help="Folder of markdown articles.")],
    keep_missing: Annotated[
        bool, typer.Option(help="Keep articles whose file is no longer in the folder.")
    ] = False,
    train: Annotated[bool, typer.Option(help="Retrain the team router afterwards.")] = True,
    skip_invalid: SkipInvalid = False,
) -> None:
    """Ingest a folder of markdown articles incrementally."""

    def run() -> None:
        with cli_context() as ctx:
            embedder = command_embedder(ctx)
            ingest_article_folder(ctx, embedder, directory, keep_missing, skip_invalid=skip_invalid)
            save_snapshot(ctx, embedder)
            if train:
                retrain_after_ingest(ctx, embedder)

    fail_cleanly(run)


@ingest_cli.command("tickets")
def ingest_tickets_command(
    path: Annotated[Path, typer.Argument(help="Tickets as .jsonl or .csv.")],
    map_: Annotated[
        str | None,
        typer.Option(
            "--map", help="Column mapping for exports: title=Short description,team=Group"
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Source name for tickets without one (default: file name).")
    ] = None,
    train: Annotated[bool, typer.Option(help="Retrain the team router afterwards.")] = True,
    skip_invalid: SkipInvalid = False,
) -> None:
    """Ingest resolved tickets (upsert by source and id, personal data masked)."""

    def run() -> None:
        if not path.is_file():
            raise IngestError(f"{path} is not a file.")
        with cli_context() as ctx:
            embedder = command_embedder(ctx)
            ingest_ticket_file(ctx, embedder, path, map_, source, skip_invalid=skip_invalid)
            save_snapshot(ctx, embedder)
            if train:
                retrain_after_ingest(ctx, embedder)

    fail_cleanly(run)
